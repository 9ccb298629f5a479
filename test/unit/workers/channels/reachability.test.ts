/**
 * reachability.ts against real sockets on 127.0.0.1: which failures count as connection
 * errors, what a probe answers for a live server, a closed port and a listener that resets
 * what it accepted (a dying server), and that `watchedFetch` hears of a request refused and
 * of a response stream cut, passing both on unchanged.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MessageTooLarge } from '../../../../src/workers/channels/message-cap.js';
import {
  Reachability,
  isConnectionError,
  probe,
  rootMessage,
  watchedFetch,
} from '../../../../src/workers/channels/reachability.js';

function listen(server: Server | http.Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
    }),
  );
}

function close(server: Server | http.Server): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A URL nothing listens on: a port that was just free. */
async function closedPort(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await close(server);
  return url;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('it succeeded');
}

describe('reachability', () => {
  /** Answers an SSE stream with one event, then destroys the socket: a server that died. */
  const cutter = http.createServer((req, res) => {
    if (req.url === '/json') return void res.end('{"ok":true}');
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n', () => setTimeout(() => req.socket.destroy(), 20));
  });
  /** Takes every connection and resets it at once, as a closing listener does. */
  const resetter = createServer((socket) => socket.resetAndDestroy());
  let cutterUrl: string;
  let resetterUrl: string;
  let refusedUrl: string;

  before(async () => {
    cutterUrl = await listen(cutter);
    resetterUrl = await listen(resetter);
    refusedUrl = await closedPort();
  });
  after(async () => {
    await close(cutter);
    await close(resetter);
  });

  it('tells connection errors from aborts, answers and limits', async () => {
    const refused = await failure(fetch(refusedUrl));
    assert.equal(isConnectionError(refused), true, 'refused');
    assert.match(rootMessage(refused), /^connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    const response = await fetch(cutterUrl);
    const cut = await failure(response.text());
    assert.equal(isConnectionError(cut), true, 'a body cut mid-stream');

    const controller = new AbortController();
    const pending = fetch(cutterUrl, { signal: controller.signal }).then((r) => r.text());
    controller.abort();
    assert.equal(isConnectionError(await failure(pending)), false, 'an abort');
    assert.equal(isConnectionError(new Error('HTTP 500')), false);
    assert.equal(isConnectionError(new MessageTooLarge('too large')), false);
    assert.equal(isConnectionError('ECONNREFUSED'), false, 'only errors');
  });

  it('probes: a live server is reachable, a closed port or a reset is not', async () => {
    assert.equal(await probe(cutterUrl), undefined);
    assert.match((await probe(refusedUrl)) ?? '', /ECONNREFUSED/);
    // The handshake completes, then the connection is reset: not a live server.
    assert.match((await probe(resetterUrl)) ?? '', /ECONNRESET|closed at once/);
  });

  it('shares one probe among the failures of a burst, and looks twice before reachable', async () => {
    const reachability = new Reachability(refusedUrl);
    const first = reachability.check();
    assert.equal(reachability.check(), first, 'the probe in flight');
    assert.match((await first) ?? '', /ECONNREFUSED/);
    assert.notEqual(reachability.check(), first, 'a new probe once it is answered');
    // Reachable only when a second look agrees.
    assert.equal(await new Reachability(cutterUrl).check(), undefined);
    assert.match((await new Reachability(resetterUrl).check()) ?? '', /ECONNRESET|closed at once/);
  });

  it('watchedFetch hears of a refusal and of a cut stream, and passes both on', async () => {
    const heard: unknown[] = [];
    const watched = watchedFetch(fetch, (error) => heard.push(error));

    const refused = await failure(watched(refusedUrl));
    assert.deepEqual(heard, [refused], 'the error the caller gets');

    const response = await watched(cutterUrl);
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    assert.equal((await reader.read()).value, 'data: first\n\n', 'the body as it came');
    const cut = await failure(reader.read());
    assert.equal(heard.length, 2);
    assert.equal(heard[1], cut);

    const whole = await watched(`${new URL(cutterUrl).origin}/json`);
    assert.deepEqual(await whole.json(), { ok: true });
    const controller = new AbortController();
    const aborted = watched(cutterUrl, { signal: controller.signal }).then((r) => r.text());
    controller.abort();
    await failure(aborted);
    assert.equal(heard.length, 2, 'an answer or an abort is not heard of');
  });
});
