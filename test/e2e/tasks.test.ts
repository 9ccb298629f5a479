/**
 * 2025-11-25 experimental tasks through the router
 * (https://modelcontextprotocol.io/specification/2025-11-25/basic/utilities/tasks): two
 * backends that each run tasks, task ids namespaced per backend so `tasks/get`, `tasks/result`
 * and `tasks/cancel` reach the backend that owns the task, and `tasks/list` merged.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CancelTaskResultSchema,
  CreateTaskResultSchema,
  GetTaskPayloadResultSchema,
  GetTaskResultSchema,
  ListTasksResultSchema,
  TaskStatusNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { eventually, fixture, startDaemon, type Daemon } from '../helpers/daemon.js';
import { textOf } from '../helpers/mcp.js';

describe('tasks through the router', () => {
  let daemon: Daemon;
  let client: Client;
  const statuses: Array<{ taskId: string; status: string }> = [];

  before(async () => {
    daemon = await startDaemon({
      mcpServers: { jobs: fixture('task-server'), more: fixture('task-server') },
    });
    client = new Client({ name: 'tasks-test', version: '1.0.0' }, { capabilities: { tasks: {} } });
    client.setNotificationHandler(TaskStatusNotificationSchema, (n) => {
      statuses.push({ taskId: n.params.taskId, status: n.params.status });
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(daemon.url)));
  });
  after(async () => {
    await client?.close();
    await daemon?.stop();
  });

  const start = (server: string, label: string, ms: number) =>
    client.request(
      {
        method: 'tools/call',
        params: { name: `${server}__countdown`, arguments: { ms, label }, task: { ttl: 60_000 } },
      },
      CreateTaskResultSchema,
    );

  test('the router declares tasks because its backends do', () => {
    assert.ok(client.getServerCapabilities()?.tasks?.requests?.tools?.call !== undefined);
  });

  test('task ids name their backend; get, result and list reach the right one', async () => {
    const a = (await start('jobs', 'a', 100)).task;
    const b = (await start('more', 'b', 100)).task;
    assert.equal(a.status, 'working');
    assert.ok(a.taskId.startsWith(`${Buffer.from('jobs').toString('base64url')}.`), a.taskId);
    assert.ok(b.taskId.startsWith(`${Buffer.from('more').toString('base64url')}.`), b.taskId);

    const listed = await client.request(
      { method: 'tasks/list', params: {} },
      ListTasksResultSchema,
    );
    const ids = listed.tasks.map((task) => task.taskId);
    assert.ok(ids.includes(a.taskId) && ids.includes(b.taskId), JSON.stringify(ids));

    const result = await client.request(
      { method: 'tasks/result', params: { taskId: a.taskId } },
      GetTaskPayloadResultSchema,
    );
    assert.equal(textOf(result), 'done a');
    assert.deepEqual(result._meta?.['io.modelcontextprotocol/related-task'], {
      taskId: a.taskId,
    });
    const got = await client.request(
      { method: 'tasks/get', params: { taskId: a.taskId } },
      GetTaskResultSchema,
    );
    assert.equal(got.taskId, a.taskId);
    assert.equal(got.status, 'completed');
    // The backend's status notification reaches the session that created the task.
    await eventually(() =>
      statuses.some((s) => s.taskId === a.taskId && s.status === 'completed') ? true : undefined,
    );
  });

  test('tasks/cancel reaches the owning backend; an unknown id is refused', async () => {
    const task = (await start('more', 'long', 10_000)).task;
    const cancelled = await client.request(
      { method: 'tasks/cancel', params: { taskId: task.taskId } },
      CancelTaskResultSchema,
    );
    assert.equal(cancelled.taskId, task.taskId);
    assert.equal(cancelled.status, 'cancelled');
    await assert.rejects(
      client.request({ method: 'tasks/get', params: { taskId: 'nope' } }, GetTaskResultSchema),
      /Unknown task: nope/,
    );
  });
});
