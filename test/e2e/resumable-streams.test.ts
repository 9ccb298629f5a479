/**
 * Resumable SSE for session clients (2025-11-25 transports, "Resumability and
 * Redelivery"): every event of the GET stream and of POST response streams has an id that
 * names its stream, each stream starts with a priming event (id, empty data, `retry:`),
 * and GET + `Last-Event-ID` replays what the client missed, once and in order, then goes on
 * live: for the session's GET stream, and for a POST stream that dropped before its answer.
 * The replay buffer is bounded (`limits.replayBufferBytes`); past it the resumed stream
 * says what was lost. Driven with raw fetch (to drop streams on purpose) and with the SDK
 * v1 client's own reconnection.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { eventually, fixture, startDaemon } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';
import { textOf } from '../helpers/mcp.js';
import { RawSession } from '../helpers/sse-session.js';

/** The `data` of the echo backend's log lines among messages. */
function logData(messages: Array<Record<string, unknown>>): unknown[] {
  return messages
    .filter((m) => m['method'] === 'notifications/message')
    .map((m) => (m['params'] as { data: unknown }).data);
}

describe('resumable streams', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      limits: { replayBufferBytes: 4096 },
      mcpServers: { echo: fixture('echo-server') },
    });
  });
  after(async () => {
    await daemon?.stop();
  });

  test('the GET stream: ids, a priming event with retry, and Last-Event-ID replays every missed message once, in order, then live', async () => {
    const session = await new RawSession(daemon.url).initialize();
    const first = await session.get();
    assert.equal(first.status, 200);
    await eventually(() => (first.events.length >= 1 ? true : undefined));
    assert.deepEqual(first.events[0], { id: 'g.0', event: undefined, data: '' });
    assert.equal(first.retry, 1000);

    await session.call(1, 'echo__log', { level: 'info', message: 'm1' });
    await first.waitForMessages(1);
    const seen = first.events.at(-1);
    assert.equal(seen?.id, 'g.1');
    assert.deepEqual(logData(first.messages()), ['m1']);

    first.abort();
    await first.done;
    // While no stream is open: log lines and a list change.
    for (const text of ['m2', 'm3', 'm4'])
      await session.call(text, 'echo__log', { level: 'info', message: text });
    await session.call(5, 'echo__add_tool', { name: 'late_tool' });

    const resumed = await session.get('g.1');
    assert.equal(resumed.status, 200);
    const replayed = await resumed.waitForMessages(4);
    assert.deepEqual(
      resumed.events[0],
      { id: 'g.1', event: undefined, data: '' },
      'primed at the resume point',
    );
    assert.deepEqual(logData(replayed), ['m2', 'm3', 'm4']);
    assert.equal(replayed[3]?.['method'], 'notifications/tools/list_changed');
    assert.deepEqual(
      resumed.events.slice(1).map((e) => e.id),
      ['g.2', 'g.3', 'g.4', 'g.5'],
      'ids continue the stream, none repeated',
    );

    await session.call(6, 'echo__log', { level: 'info', message: 'm6' });
    const live = await resumed.waitForMessages(5);
    assert.deepEqual(logData(live), ['m2', 'm3', 'm4', 'm6'], 'then live, nothing twice');
    assert.equal(resumed.events.at(-1)?.id, 'g.6');
    resumed.abort();
  });

  test('a POST stream dropped mid-call is resumed by GET + Last-Event-ID: the rest of its progress and its response arrive', async () => {
    const session = await new RawSession(daemon.url).initialize();
    const call = await session.stream({
      jsonrpc: '2.0',
      id: 'slow-progress',
      method: 'tools/call',
      params: {
        name: 'echo__progress',
        arguments: { steps: 6, delayMs: 250 },
        _meta: { progressToken: 'pt' },
      },
    });
    assert.equal(call.status, 200);
    await call.waitForMessages(1);
    assert.deepEqual(call.events[0], { id: 'p1.0', event: undefined, data: '' });
    const lastId = call.events.at(-1)?.id as string;
    assert.match(lastId, /^p1\.[1-9]/);
    const progressBefore = call
      .messages()
      .map((m) => (m['params'] as { progress: number }).progress);
    call.abort();
    await call.done;
    await new Promise((resolve) => setTimeout(resolve, 600));

    const resumed = await session.get(lastId);
    assert.equal(resumed.status, 200);
    await resumed.done; // the stream ends after the response
    const messages = resumed.messages();
    const response = messages.at(-1) as { id: unknown; result: unknown };
    assert.equal(response.id, 'slow-progress');
    assert.equal(textOf(response.result), 'done 6');
    const progressAfter = messages
      .slice(0, -1)
      .map((m) => (m['params'] as { progress: number }).progress);
    assert.deepEqual(
      [...progressBefore, ...progressAfter],
      [1, 2, 3, 4, 5, 6],
      'every progress notification exactly once, in order',
    );

    const again = await session.get(resumed.events.at(-1)?.id as string);
    assert.equal(again.status, 204, 'an answered stream has nothing more to send');
  });

  test('past the replay buffer the resumed stream says how much was lost, and replays what is kept', async () => {
    const session = await new RawSession(daemon.url).initialize();
    const first = await session.get();
    await eventually(() => (first.events.length >= 1 ? true : undefined));
    first.abort();
    await first.done;
    const filler = 'x'.repeat(300);
    for (let i = 1; i <= 30; i++)
      await session.call(i, 'echo__log', { level: 'info', message: `${i}:${filler}` });

    const resumed = await session.get('g.0');
    const messages = await resumed.waitForMessages(2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const all = resumed.messages();
    const warning = all[0] as {
      method: string;
      params: { level: string; logger: string; data: string };
    };
    assert.equal(warning.method, 'notifications/message');
    assert.equal(warning.params.logger, 'mcp-director');
    assert.match(
      warning.params.data,
      /event\(s\) of this stream after g\.0 were dropped from its replay buffer \("limits\.replayBufferBytes"\)/,
    );
    const kept = logData(all.slice(1)).map((data) => Number(String(data).split(':')[0]));
    assert.ok(kept.length > 0 && kept.length < 30, `some kept, some dropped (kept ${kept.length})`);
    assert.deepEqual(
      kept,
      Array.from({ length: kept.length }, (_, i) => 31 - kept.length + i),
      'the newest, in order',
    );
    assert.ok(messages.length >= 2);
    assert.match(daemon.stderr(), /were dropped from its replay buffer/);
    resumed.abort();
  });

  test("the SDK v1 client's own reconnection gets every message sent while its GET stream was down", async () => {
    let dropGet: (() => void) | undefined;
    const transport = new StreamableHTTPClientTransport(new URL(daemon.url), {
      // Hands the test a way to cut the GET stream's connection, as a network would.
      fetch: async (url, init) => {
        if (init?.method !== 'GET') return fetch(url, init);
        const cut = new AbortController();
        const signals = [cut.signal, ...(init.signal ? [init.signal] : [])];
        const response = await fetch(url, { ...init, signal: AbortSignal.any(signals) });
        if (response.ok) dropGet = () => cut.abort();
        return response;
      },
    });
    const client = new Client({ name: 'resume-sdk', version: '1' });
    const received: unknown[] = [];
    client.setNotificationHandler(
      LoggingMessageNotificationSchema,
      (n) => void received.push(n.params.data),
    );
    client.onerror = () => undefined; // the cut stream is reported here; it is the point
    await client.connect(transport);
    await eventually(() => dropGet, 5000, 'the SDK to open its GET stream');
    await client.callTool({ name: 'echo__log', arguments: { level: 'info', message: 'before' } });
    await eventually(() => (received.length === 1 ? true : undefined));

    const drop = dropGet as () => void;
    dropGet = undefined;
    drop();
    for (const text of ['during-1', 'during-2', 'during-3'])
      await client.callTool({ name: 'echo__log', arguments: { level: 'info', message: text } });
    await eventually(() => dropGet, 10_000, 'the SDK to reconnect its GET stream');
    await client.callTool({ name: 'echo__log', arguments: { level: 'info', message: 'after' } });
    await eventually(() => (received.length >= 5 ? true : undefined), 10_000, 'every log line');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(received, ['before', 'during-1', 'during-2', 'during-3', 'after']);
    await client.close();
  });
});
