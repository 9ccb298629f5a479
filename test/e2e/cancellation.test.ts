/**
 * A cancelled call ends its HTTP response at once and reaches the backend as a
 * cancellation: the SDK v1 client's AbortSignal (it sends notifications/cancelled), a raw
 * notifications/cancelled for a call answered as an SSE stream, and a client that closes a
 * JSON answer's connection. A dropped SSE answer may be resumed, so it is cancelled only
 * when its client has not come back within the resume grace.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { eventually, fixture, startDaemon } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';
import { textOf } from '../helpers/mcp.js';
import { RawSession } from '../helpers/sse-session.js';

describe('cancellation', () => {
  let daemon: Daemon;
  let observer: RawSession;
  before(async () => {
    daemon = await startDaemon({ mcpServers: { echo: fixture('echo-server') } });
    observer = await new RawSession(daemon.url).initialize();
  });
  after(async () => {
    await daemon?.stop();
  });

  /** The ids the backend saw cancelled while it ran them, so far. */
  async function cancelledAtBackend(): Promise<unknown[]> {
    const response = await observer.call(`stats-${Date.now()}`, 'echo__stats', {});
    return (JSON.parse(textOf(response['result'])) as { cancelledRequestIds: unknown[] })
      .cancelledRequestIds;
  }

  test('the SDK client aborting a call: its HTTP response ends at once (202, no answer) and the backend is cancelled', async () => {
    const before = (await cancelledAtBackend()).length;
    const posts: Array<{ body: string; status: number; answeredAt: number }> = [];
    const transport = new StreamableHTTPClientTransport(new URL(daemon.url), {
      // Notes when each POST is answered, which the SDK does not tell once it gave up on it.
      // A JSON answer (or a 202) comes in one piece: its headers arrive with its end.
      fetch: async (url, init) => {
        const record = { body: String(init?.body), status: 0, answeredAt: 0 };
        if (init?.method === 'POST') posts.push(record);
        const response = await fetch(url, init);
        record.status = response.status;
        record.answeredAt = Date.now();
        return response;
      },
    });
    const client = new Client({ name: 'cancel-sdk', version: '1' });
    await client.connect(transport);
    const abort = new AbortController();
    const call = client.callTool({ name: 'echo__slow', arguments: { ms: 20_000 } }, undefined, {
      signal: abort.signal,
    });
    const slowPost = await eventually(() => posts.find((p) => p.body.includes('echo__slow')));
    // Long enough for the call to reach the backend.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const abortedAt = Date.now();
    abort.abort('the user pressed stop');
    await assert.rejects(call);
    await eventually(() => (slowPost.answeredAt > 0 ? true : undefined), 5000, 'the response');
    const endedIn = slowPost.answeredAt - abortedAt;
    assert.ok(endedIn < 300, `the response ended ${endedIn} ms after the abort`);
    assert.equal(slowPost.status, 202, 'ended without a JSON-RPC response');
    const cancelled = await eventually(async () => {
      const ids = await cancelledAtBackend();
      return ids.length > before ? ids : undefined;
    });
    assert.equal(cancelled.length, before + 1);
    await client.close();
  });

  test('notifications/cancelled for a call answered as an SSE stream ends the stream at once, with no response in it', async () => {
    const before = (await cancelledAtBackend()).length;
    const session = await new RawSession(daemon.url).initialize();
    const stream = await session.stream({
      jsonrpc: '2.0',
      id: 77,
      method: 'tools/call',
      params: {
        name: 'echo__progress',
        arguments: { steps: 1000, delayMs: 50 },
        _meta: { progressToken: 1 },
      },
    });
    await stream.waitForMessages(2);
    const cancelledAt = Date.now();
    const accepted = await session.post({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 77, reason: 'no longer needed' },
    });
    assert.equal(accepted.status, 202);
    await stream.done;
    const endedIn = Date.now() - cancelledAt;
    assert.ok(endedIn < 300, `the stream ended ${endedIn} ms after the cancellation`);
    assert.ok(
      stream.messages().every((m) => m['method'] === 'notifications/progress'),
      'progress only: a cancelled request gets no response',
    );
    // Nothing to resume: the SDK client, which reconnects a primed stream, is told so.
    const resumed = await session.get(stream.events.at(-1)?.id as string);
    assert.equal(resumed.status, 204);
    await eventually(async () => ((await cancelledAtBackend()).length > before ? true : undefined));
  });

  test('a client closing the connection of a JSON answer cancels the call at once', async () => {
    const before = (await cancelledAtBackend()).length;
    const session = await new RawSession(daemon.url).initialize();
    const abort = new AbortController();
    const pending = session
      .post(
        {
          jsonrpc: '2.0',
          id: 'gone',
          method: 'tools/call',
          params: { name: 'echo__slow', arguments: { ms: 20_000 } },
        },
        { Accept: 'application/json, text/event-stream' },
        abort.signal,
      )
      .catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 400));
    abort.abort();
    await pending;
    await eventually(
      async () => ((await cancelledAtBackend()).length > before ? true : undefined),
      2000,
      'the backend to hear the cancellation',
    );
  });

  test('a dropped SSE answer that is not resumed within the grace is cancelled', async () => {
    const before = (await cancelledAtBackend()).length;
    const session = await new RawSession(daemon.url).initialize();
    const stream = await session.stream({
      jsonrpc: '2.0',
      id: 'dropped',
      method: 'tools/call',
      params: {
        name: 'echo__progress',
        arguments: { steps: 1000, delayMs: 100 },
        _meta: { progressToken: 2 },
      },
    });
    await stream.waitForMessages(1);
    stream.abort();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(
      (await cancelledAtBackend()).length,
      before,
      'not cancelled while it may be resumed',
    );
    await eventually(
      async () => ((await cancelledAtBackend()).length > before ? true : undefined),
      15_000,
      'the cancellation after the grace',
    );
  });
});
