/**
 * Task ids across backends (2025-11-25 experimental tasks,
 * https://modelcontextprotocol.io/specification/2025-11-25/basic/utilities/tasks). Two backends
 * may both call a task "1", so a client sees `<server, base64url>.<backend's id>`: opaque to
 * the client, routable back to its backend without a table, and unforgeable into another
 * server's id space only in the sense that it names that server (the ACL of issue 4 decides
 * whether the caller may reach it).
 *
 * Task ids appear in: CreateTaskResult `task.taskId`, a Task (tasks/get, tasks/cancel,
 * tasks/list items, notifications/tasks/status params), and the related-task `_meta` of
 * `tasks/result` and other task-related messages.
 */
import { isJsonObject, type JsonObject } from '../../shared/json.js';

const RELATED_TASK = 'io.modelcontextprotocol/related-task';

export function exposeTaskId(server: string, taskId: string): string {
  return `${Buffer.from(server).toString('base64url')}.${taskId}`;
}

/** The backend and its own id behind an exposed task id; undefined if it is not one of ours. */
export function routeTaskId(exposed: unknown): { server: string; taskId: string } | undefined {
  if (typeof exposed !== 'string') return undefined;
  const dot = exposed.indexOf('.');
  if (dot <= 0) return undefined;
  const server = Buffer.from(exposed.slice(0, dot), 'base64url').toString();
  return server === '' ? undefined : { server, taskId: exposed.slice(dot + 1) };
}

/** Rewrites every task id a result or notification params carries to its exposed form. */
export function exposeTaskIds(value: JsonObject, server: string): JsonObject {
  const copy: JsonObject = { ...value };
  const expose = (task: unknown): unknown =>
    isJsonObject(task) && typeof task['taskId'] === 'string'
      ? { ...task, taskId: exposeTaskId(server, task['taskId']) }
      : task;
  if (typeof copy['taskId'] === 'string') copy['taskId'] = exposeTaskId(server, copy['taskId']);
  if (copy['task'] !== undefined) copy['task'] = expose(copy['task']) as JsonObject;
  if (Array.isArray(copy['tasks'])) copy['tasks'] = copy['tasks'].map(expose) as JsonObject[];
  const meta = copy['_meta'];
  if (isJsonObject(meta) && meta[RELATED_TASK] !== undefined) {
    copy['_meta'] = { ...meta, [RELATED_TASK]: expose(meta[RELATED_TASK]) as JsonObject };
  }
  return copy;
}

/** Whether a forwarded request's answer carries task ids to rewrite. */
export function carriesTaskIds(method: string, params: JsonObject): boolean {
  return method.startsWith('tasks/') || (method === 'tools/call' && params['task'] !== undefined);
}
