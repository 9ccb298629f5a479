/**
 * The task fixture (test/fixtures/task-server.ts) over stdio, driven by the SDK v1 Client at
 * the wire level: a task-augmented tools/call, then tasks/list, tasks/result, tasks/get and
 * tasks/cancel, as the 2025-11-25 tasks utility defines them. Router tests that carry tasks
 * rely on exactly this behaviour of the fixture.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  CallToolResultSchema,
  CancelTaskResultSchema,
  CreateTaskResultSchema,
  GetTaskResultSchema,
  ListTasksResultSchema,
  RELATED_TASK_META_KEY,
  TaskStatusNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { GetTaskResult, Task } from '@modelcontextprotocol/sdk/types.js';

import { textOf } from '../helpers/mcp.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/task-server.js', import.meta.url));

/** Bounds every request; tasks/result in particular blocks until its task ends. */
const REQUEST = { timeout: 5_000 };
/** Bounds every test, whatever it awaits. */
const TEST = { timeout: 15_000 };

/** Starts a task-augmented countdown and returns the task from its CreateTaskResult. */
async function startCountdown(client: Client, ms: number, label: string): Promise<Task> {
  const params = { name: 'countdown', arguments: { ms, label }, task: { ttl: 60_000 } };
  const created = await client.request(
    { method: 'tools/call', params },
    CreateTaskResultSchema,
    REQUEST,
  );
  return created.task;
}

function getTask(client: Client, taskId: string): Promise<GetTaskResult> {
  return client.request({ method: 'tasks/get', params: { taskId } }, GetTaskResultSchema, REQUEST);
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(10);
  }
}

describe('task fixture over stdio', () => {
  let client: Client;
  /** Every notifications/tasks/status the fixture sent, as `<taskId> <status>`. */
  const statusNotifications: string[] = [];

  // One server for the suite: every test starts tasks of its own and looks only at those.
  before(async () => {
    client = new Client(
      { name: 'task-fixture-test', version: '1.0.0' },
      { capabilities: { tasks: {} } },
    );
    client.setNotificationHandler(TaskStatusNotificationSchema, ({ params }) => {
      statusNotifications.push(`${params.taskId} ${params.status}`);
    });
    await client.connect(
      new StdioClientTransport({ command: process.execPath, args: [FIXTURE], stderr: 'ignore' }),
    );
  });
  after(async () => {
    await client.close();
  });

  it('declares task support for tools/call and countdown as optional', TEST, async () => {
    assert.deepEqual(client.getServerCapabilities()?.tasks, {
      list: {},
      cancel: {},
      requests: { tools: { call: {} } },
    });
    const { tools } = await client.listTools(undefined, REQUEST);
    const execution = (name: string): unknown => tools.find((t) => t.name === name)?.execution;
    assert.deepEqual(execution('countdown'), { taskSupport: 'optional' });
    // registerTool marks a tool without task support as 'forbidden' explicitly.
    assert.deepEqual(execution('plain'), { taskSupport: 'forbidden' });
  });

  it('runs a task-augmented countdown to completion', TEST, async () => {
    const task = await startCountdown(client, 200, 'a');
    assert.equal(typeof task.taskId, 'string');
    assert.ok(task.taskId.length > 0);
    assert.equal(task.status, 'working');
    assert.equal(task.ttl, 60_000);

    const listed = await client.request(
      { method: 'tasks/list', params: {} },
      ListTasksResultSchema,
      REQUEST,
    );
    assert.ok(listed.tasks.some((t) => t.taskId === task.taskId));

    // tasks/result blocks until the countdown ends, then answers what tools/call would have.
    const result = await client.request(
      { method: 'tasks/result', params: { taskId: task.taskId } },
      CallToolResultSchema,
      REQUEST,
    );
    assert.equal(textOf(result), 'done a');
    assert.deepEqual(result._meta?.[RELATED_TASK_META_KEY], { taskId: task.taskId });

    assert.equal((await getTask(client, task.taskId)).status, 'completed');
    await waitFor('a completed status notification', () =>
      statusNotifications.includes(`${task.taskId} completed`),
    );
  });

  it('cancels a working task, which stays cancelled once its countdown ends', TEST, async () => {
    const task = await startCountdown(client, 300, 'b');
    const cancelled = await client.request(
      { method: 'tasks/cancel', params: { taskId: task.taskId } },
      CancelTaskResultSchema,
      REQUEST,
    );
    assert.equal(cancelled.taskId, task.taskId);
    assert.equal(cancelled.status, 'cancelled');

    // Past the 300 ms the countdown would have taken: a terminal status is final.
    await delay(500);
    assert.equal((await getTask(client, task.taskId)).status, 'cancelled');
    await assert.rejects(
      client.request(
        { method: 'tasks/cancel', params: { taskId: task.taskId } },
        CancelTaskResultSchema,
        REQUEST,
      ),
      /terminal status/,
    );
  });

  it('answers plain calls directly', TEST, async () => {
    const countdown = await client.callTool(
      { name: 'countdown', arguments: { ms: 50, label: 'c' } },
      CallToolResultSchema,
      REQUEST,
    );
    assert.equal(textOf(countdown), 'done c');
    const plain = await client.callTool({ name: 'plain', arguments: {} }, undefined, REQUEST);
    assert.equal(textOf(plain), 'plain');
  });
});
