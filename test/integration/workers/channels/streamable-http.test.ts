/**
 * HttpChannel (src/workers/channels/streamable-http.ts) against a real remote server that
 * dies: the loss is reported once, promptly, whether a request notices it or nobody is
 * talking to the server at the time. Over HTTP+SSE, closing the transport fires its
 * `onclose`, which once led straight back into the loss handling, without end (a stack
 * overflow instead of an exit, and the backend stayed `ready` forever).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { ChildExit } from '../../../../src/workers/channels/stdio.js';
import { HttpChannel } from '../../../../src/workers/channels/streamable-http.js';
import { startHttpFixture, type HttpFixture } from '../../../helpers/http-fixture.js';

/** How soon a loss must be reported: EventSource alone would take 3 s, at its reconnect. */
const NOTICED_MS = 2_000;

class Collector {
  readonly messages: unknown[] = [];
  readonly exits: ChildExit[] = [];
  #onExit: () => void = () => {};
  readonly exited = new Promise<void>((resolve) => (this.#onExit = resolve));
  onChannelMessage(message: unknown): void {
    this.messages.push(message);
  }
  onChannelExit(exit: ChildExit): void {
    this.exits.push(exit);
    this.#onExit();
  }
  async answer(id: number, timeoutMs = 10_000): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => (m as { id?: unknown }).id === id);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no answer to request ${id}`);
      await delay(10);
    }
  }
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2024-11-05',
    capabilities: {},
    clientInfo: { name: 'http-channel-test', version: '1.0.0' },
  },
};

/** An initialized HTTP+SSE channel to a fresh echo fixture, one request answered since. */
async function connected(): Promise<{
  remote: HttpFixture;
  collector: Collector;
  ch: HttpChannel;
}> {
  const remote = await startHttpFixture('serve-http.js', ['--server', 'echo', '--legacy-sse']);
  const collector = new Collector();
  const ch = new HttpChannel(
    { id: 'test', url: remote.url, headers: {}, httpTransport: 'sse', maxMessageBytes: 1 << 20 },
    collector,
  );
  ch.start();
  ch.send(JSON.stringify(INITIALIZE));
  await collector.answer(1);
  ch.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  ch.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
  await collector.answer(2);
  return { remote, collector, ch };
}

/** `promise`, or a failure naming `what` after `ms` (the timer does not outlive it). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no sign of ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function kill(remote: HttpFixture): Promise<void> {
  remote.process.kill('SIGKILL');
  await once(remote.process, 'exit');
}

describe('HttpChannel over HTTP+SSE, when the server dies', () => {
  /** Whatever escapes the channel: the recursion surfaced as a RangeError here. */
  const escaped: unknown[] = [];
  const note = (error: unknown): void => void escaped.push(error);
  const started: HttpFixture[] = [];

  before(() => {
    process.on('uncaughtException', note);
    process.on('unhandledRejection', note);
  });
  after(async () => {
    process.off('uncaughtException', note);
    process.off('unhandledRejection', note);
    await Promise.all(started.map((remote) => remote.stop()));
  });

  it('a request that fails reports the loss once, and nothing escapes', async () => {
    const { remote, collector, ch } = await connected();
    started.push(remote);
    await kill(remote);
    const from = Date.now();
    ch.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }));
    await within(collector.exited, 5_000, 'the exit');
    const took = Date.now() - from;
    await delay(200); // a second report would come now
    assert.equal(collector.exits.length, 1, 'exit reported once');
    assert.match(collector.exits[0]?.transportError ?? '', /unreachable or failed/);
    assert.deepEqual(escaped, [], 'no error escaped the channel');
    assert.ok(took < NOTICED_MS, `the loss took ${took} ms`);
    await ch.stop(); // a no-op once the loss was reported
    assert.equal(collector.exits.length, 1);
  });

  it('is noticed without a request: the stream breaks, the server is probed', async () => {
    const { remote, collector, ch } = await connected();
    started.push(remote);
    const from = Date.now();
    await kill(remote);
    await within(collector.exited, 5_000, 'the exit');
    const took = Date.now() - from;
    await delay(200);
    assert.equal(collector.exits.length, 1, 'exit reported once');
    // Refused, or reset by a listener that was closing as the probe came.
    assert.match(collector.exits[0]?.transportError ?? '', /a new connection fails: /);
    assert.deepEqual(escaped, [], 'no error escaped the channel');
    assert.ok(took < NOTICED_MS, `the loss took ${took} ms`);
    await ch.stop();
  });
});
