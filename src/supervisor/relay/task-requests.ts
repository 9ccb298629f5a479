/**
 * The `tasks/*` requests and task status notifications across backends (2025-11-25
 * experimental tasks). A task id the client holds names its backend (`tasks.ts`), so
 * `tasks/get`, `tasks/result` and `tasks/cancel` go to that backend alone; `tasks/list`
 * asks every backend of the caller's view that lists tasks; a status notification goes only
 * to the client whose call created the task (`Forwarding.taskOwner`).
 */
import type { JsonObject, RequestId } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import { logger } from '../../shared/log.js';
import type { Catalog } from '../catalog/catalog.js';
import type { ProfileView } from '../catalog/profile-view.js';
import type { Caller } from '../session/sessions.js';
import { Session } from '../session/sessions.js';
import { resultFrame } from '../../shared/jsonrpc.js';
import type { Forwarding } from './forwarding.js';
import type { Responder } from './call.js';
import { exposeTaskIds, routeTaskId } from './tasks.js';

const log = logger('dispatch');

export class TaskRequests {
  readonly #catalog: Catalog;
  readonly #forwarding: Forwarding;

  constructor(catalog: Catalog, forwarding: Forwarding) {
    this.#catalog = catalog;
    this.#forwarding = forwarding;
  }

  /**
   * tasks/get, tasks/result, tasks/cancel: to the backend the task id names, in its id.
   * False when the id names no backend of the caller's view (the caller answers "unknown").
   */
  forward(
    caller: Caller,
    view: ProfileView,
    id: RequestId,
    method: 'tasks/get' | 'tasks/result' | 'tasks/cancel',
    params: JsonObject,
    out: Responder,
  ): boolean {
    const route = routeTaskId(params['taskId']);
    if (
      route === undefined ||
      !view.hasServer(route.server) ||
      this.#catalog.backend(route.server) === undefined
    ) {
      return false;
    }
    const forwarded = { ...params, taskId: route.taskId };
    this.#forwarding.start(
      { caller, id, out },
      { server: route.server, method, params: forwarded, target: route.taskId },
    );
    return true;
  }

  /**
   * tasks/list: every backend that lists tasks is asked, and their tasks are returned
   * together (one page each; a backend that fails to answer is left out, and logged).
   */
  list(caller: Caller, view: ProfileView, id: RequestId, out: Responder): void {
    const servers = this.#catalog.serversWith('tasks').filter((server) => {
      const tasks = this.#catalog.backend(server)?.capabilities['tasks'];
      return view.hasServer(server) && isJsonObject(tasks) && tasks['list'] !== undefined;
    });
    const tasks: JsonObject[] = [];
    let waiting = servers.length;
    const done = (): void => {
      if (--waiting <= 0) out.respond(resultFrame(id, JSON.stringify({ tasks })));
    };
    if (waiting === 0) return done();
    for (const server of servers) {
      this.#forwarding.collect(caller, server, 'tasks/list', {}, (reply) => {
        if (!reply.ok) {
          log.warn(`server '${server}' failed tasks/list: ${reply.error.message}`);
        } else {
          const page = exposeTaskIds(JSON.parse(reply.result) as JsonObject, server);
          if (Array.isArray(page['tasks'])) {
            for (const task of page['tasks']) if (isJsonObject(task)) tasks.push(task);
          }
        }
        done();
      });
    }
  }

  /** A shared backend's `notifications/tasks/status`: to the session that owns the task. */
  statusChanged(server: string, method: string, params: JsonObject): void {
    const exposed = exposeTaskIds(params, server);
    const taskId = exposed['taskId'];
    // A backend is as untrusted as a client: a task id that is not a string is nobody's.
    const owner = this.#forwarding.taskOwner(typeof taskId === 'string' ? taskId : '');
    if (owner instanceof Session) owner.notify(method, exposed);
  }
}
