/**
 * One simulated client of the soak: a session-era MCP client over Streamable HTTP
 * (initialize, Mcp-Session-Id, notifications/initialized) calling tools in a loop, one call
 * at a time, that now and then disconnects the way real clients do. Every request it sends
 * is accounted for in the shared `SoakTally`: answered (a result or an error, by kind),
 * abandoned by this client (it aborted the POST itself), or lost (no HTTP answer that this
 * client did not cause, or no answer within the per-call deadline).
 */
import type { Dispatcher } from 'undici';
import { createHistogram, recordMicroseconds } from '../src/bench/histogram.js';
import type { Histogram } from '../src/bench/histogram.js';
import { ACCEPT, headerValue, initializeBody, sessionHeaders } from '../src/bench/http/mcp-http.js';
import { judgeHttpResponse, parseJson, responseInEventStream } from '../src/bench/workload.js';

/** How a client leaves its session (chosen at random when it disconnects). */
export const DISCONNECT_KINDS = ['abort', 'delete', 'drop', 'delete-in-flight'] as const;
export type DisconnectKind = (typeof DISCONNECT_KINDS)[number];

/** Mean pause between two failed handshakes of one client (the daemon may be busy or gone). */
const RETRY_PAUSE_MS = 250;
const ECHO_TEXT = 'x'.repeat(180);
/** Lost calls described in the report, at most. */
const LOST_SAMPLES = 20;

export interface SoakTally {
  /** tools/call requests sent. */
  calls: number;
  /** Answered with a result (`isError` results included, counted in `toolErrors` too). */
  completed: number;
  toolErrors: number;
  /** Answered with a JSON-RPC error or a non-200 HTTP status, by kind; one message each. */
  errors: Map<string, { count: number; sample: string }>;
  /** Aborted by their own client before an answer came. */
  abandoned: number;
  /** No HTTP answer that the client did not cause, or none before the deadline, by reason. */
  lost: Map<string, number>;
  lostSamples: string[];
  /** Latency of completed calls. */
  latency: Histogram;
  handshakes: number;
  /** Failed handshakes (initialize or notifications/initialized), by reason. */
  handshakeFailures: Map<string, number>;
  /** Requests other than tools/call (handshakes, DELETEs, cancellations) that got no answer. */
  lostOther: number;
  disconnects: Map<DisconnectKind, number>;
  /** Sessions left on the daemon without DELETE ('drop'). */
  dropped: number;
  /** DELETEs answered with something else than 200, by status. */
  deleteFailures: Map<string, number>;
}

export function newTally(): SoakTally {
  return {
    calls: 0,
    completed: 0,
    toolErrors: 0,
    errors: new Map(),
    abandoned: 0,
    lost: new Map(),
    lostSamples: [],
    latency: createHistogram(),
    handshakes: 0,
    handshakeFailures: new Map(),
    lostOther: 0,
    disconnects: new Map(),
    dropped: 0,
    deleteFailures: new Map(),
  };
}

export interface ClientOptions {
  pool: Dispatcher;
  /** The MCP endpoint path, `/mcp`. */
  path: string;
  /** A request with no answer after this long is lost (and aborted, to free its socket). */
  callTimeoutMs: number;
  /** Chance, per loop turn, that the client disconnects instead of calling. */
  disconnectRate: number;
  disconnects: readonly DisconnectKind[];
  random: () => number;
  /** True once the soak is over: the client closes its session and returns. */
  stopped: () => boolean;
  tally: SoakTally;
}

interface Answer {
  status: number;
  contentType: string;
  sessionId: string;
  body: string;
}

/** What became of one request: an HTTP answer, aborted by us, or no answer (why). */
type Sent =
  { kind: 'answer'; answer: Answer } | { kind: 'abandoned' } | { kind: 'lost'; reason: string };

/** Runs one client until `stopped()`; never throws. */
export async function runClient(name: string, options: ClientOptions): Promise<void> {
  const { tally, random } = options;
  let session: string | undefined;
  let nextId = 1;
  while (!options.stopped()) {
    if (session === undefined) {
      session = await handshake(name, options);
      if (session === undefined) await pause(RETRY_PAUSE_MS * (0.5 + random()));
      continue;
    }
    if (random() < options.disconnectRate && options.disconnects.length > 0) {
      const kind = options.disconnects[Math.floor(random() * options.disconnects.length)]!;
      tally.disconnects.set(kind, (tally.disconnects.get(kind) ?? 0) + 1);
      session = await disconnect(kind, session, nextId++, options);
      continue;
    }
    const outcome = await call(session, nextId++, pickCall(random), undefined, 'plain', options);
    if (outcome === 'session-gone') session = undefined;
  }
  if (session !== undefined) await deleteSession(session, options);
}

/** The calls clients make: fast echoes on both echo servers, short sleeps, the crash server. */
function pickCall(random: () => number): { name: string; arguments: object } {
  const roll = random();
  const echo = random() < 0.5 ? 'echo1' : 'echo2';
  if (roll < 0.7) return { name: `${echo}__echo`, arguments: { text: ECHO_TEXT } };
  if (roll < 0.85) return { name: `${echo}__slow`, arguments: { ms: Math.floor(random() * 200) } };
  return { name: 'crash__ping_me', arguments: {} };
}

async function disconnect(
  kind: DisconnectKind,
  session: string,
  id: number,
  options: ClientOptions,
): Promise<string | undefined> {
  const { random } = options;
  const slow = {
    name: `${random() < 0.5 ? 'echo1' : 'echo2'}__slow`,
    arguments: { ms: 200 + Math.floor(random() * 800) },
  };
  const soon = 20 + Math.floor(random() * 130);
  switch (kind) {
    case 'abort': {
      // As an SDK client cancels: the POST is aborted and notifications/cancelled follows.
      const outcome = await call(session, id, slow, soon, kind, options);
      if (outcome === 'abandoned') {
        const cancelled = JSON.stringify({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason: 'soak: client aborted' },
        });
        countOther(await send(sessionHeaders(session), cancelled, undefined, options), options);
      }
      return outcome === 'session-gone' ? undefined : session;
    }
    case 'delete':
      await deleteSession(session, options);
      return undefined;
    case 'drop':
      // Gone without a word, as a killed client is: the daemon keeps the session until it idles.
      options.tally.dropped += 1;
      return undefined;
    case 'delete-in-flight': {
      // The session ends while one of its calls runs: that call must still get an answer.
      const pending = call(session, id, slow, undefined, kind, options);
      await pause(soon);
      await deleteSession(session, options);
      await pending;
      return undefined;
    }
  }
}

/** initialize + notifications/initialized; the session id, or undefined after a failure. */
async function handshake(name: string, options: ClientOptions): Promise<string | undefined> {
  const { tally } = options;
  const fail = (reason: string): undefined => {
    tally.handshakeFailures.set(reason, (tally.handshakeFailures.get(reason) ?? 0) + 1);
    return undefined;
  };
  const initialize = initializeBody(name);
  const init = countOther(
    await send(
      ['content-type', 'application/json', 'accept', ACCEPT],
      initialize,
      undefined,
      options,
    ),
    options,
  );
  if (init.kind !== 'answer')
    return fail(`initialize: ${init.kind === 'lost' ? init.reason : 'aborted'}`);
  const { status, contentType, body, sessionId } = init.answer;
  const verdict = judgeHttpResponse(status, contentType, body, 0);
  if (verdict !== null) return fail(`initialize: ${verdict}`);
  if (sessionId === '') return fail('initialize: no Mcp-Session-Id');
  const session = init.answer.sessionId;
  const initialized = countOther(
    await send(
      sessionHeaders(session),
      '{"jsonrpc":"2.0","method":"notifications/initialized"}',
      undefined,
      options,
    ),
    options,
  );
  if (initialized.kind !== 'answer') return fail('notifications/initialized: no answer');
  if (initialized.answer.status !== 202)
    return fail(`notifications/initialized: HTTP ${initialized.answer.status}`);
  tally.handshakes += 1;
  return session;
}

async function deleteSession(session: string, options: ClientOptions): Promise<void> {
  const sent = countOther(
    await send(sessionHeaders(session), undefined, undefined, options),
    options,
  );
  if (sent.kind === 'answer' && sent.answer.status === 200) return;
  const reason = sent.kind === 'answer' ? `HTTP ${sent.answer.status}` : 'no answer';
  options.tally.deleteFailures.set(reason, (options.tally.deleteFailures.get(reason) ?? 0) + 1);
}

/** A request other than tools/call that got no answer is lost too; counted apart. */
function countOther(sent: Sent, options: ClientOptions): Sent {
  if (sent.kind === 'lost') options.tally.lostOther += 1;
  return sent;
}

/**
 * One tools/call, accounted for. `abortAfterMs`: this client gives up on it then (the POST
 * is aborted). 'session-gone' when the daemon no longer knows the session (HTTP 404).
 */
async function call(
  session: string,
  id: number,
  params: { name: string; arguments: object },
  abortAfterMs: number | undefined,
  context: 'plain' | DisconnectKind,
  options: ClientOptions,
): Promise<'answered' | 'abandoned' | 'lost' | 'session-gone'> {
  const { tally } = options;
  tally.calls += 1;
  const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params });
  const startedAt = performance.now();
  const sent = await send(sessionHeaders(session), body, abortAfterMs, options);
  if (sent.kind === 'abandoned') {
    tally.abandoned += 1;
    return 'abandoned';
  }
  if (sent.kind === 'lost') {
    const reason = `${sent.reason} (${context === 'plain' ? 'a plain call' : `call of a '${context}'`})`;
    tally.lost.set(reason, (tally.lost.get(reason) ?? 0) + 1);
    if (tally.lostSamples.length < LOST_SAMPLES) {
      tally.lostSamples.push(
        `sent ${new Date(Date.now() - (performance.now() - startedAt)).toISOString()}: ${params.name} ` +
          `${JSON.stringify(params.arguments)} id ${id} session ${session.slice(0, 8)}…: ${reason}`,
      );
    }
    return 'lost';
  }
  const { answer } = sent;
  if (answer.status !== 200) {
    countError(tally, `HTTP ${answer.status}`, answer.body);
    return answer.status === 404 ? 'session-gone' : 'answered';
  }
  const message = answer.contentType.startsWith('text/event-stream')
    ? responseInEventStream(answer.body, id)
    : parseJson(answer.body);
  if (typeof message !== 'object' || message === null || (message as { id?: unknown }).id !== id) {
    countError(tally, 'no JSON-RPC response with this id', answer.body);
    return 'answered';
  }
  const { result, error } = message as { result?: unknown; error?: unknown };
  if (typeof error === 'object' && error !== null) {
    countError(tally, errorKind(error), JSON.stringify(error));
  } else if (typeof result === 'object' && result !== null) {
    tally.completed += 1;
    if ((result as { isError?: unknown }).isError === true) tally.toolErrors += 1;
    recordMicroseconds(tally.latency, (performance.now() - startedAt) * 1000);
  } else {
    countError(tally, 'neither result nor error', answer.body);
  }
  return 'answered';
}

/** A director failure by its stable code (`data.director`), else the JSON-RPC code. */
function errorKind(error: object): string {
  const { code, data } = error as { code?: unknown; data?: unknown };
  const director =
    typeof data === 'object' && data !== null
      ? (data as { director?: unknown }).director
      : undefined;
  return typeof director === 'string' ? director : `JSON-RPC ${String(code)}`;
}

function countError(tally: SoakTally, kind: string, sample: string): void {
  const entry = tally.errors.get(kind);
  if (entry === undefined) tally.errors.set(kind, { count: 1, sample: sample.slice(0, 300) });
  else entry.count += 1;
}

/**
 * Sends one POST (or, without a body, a DELETE) and reads the whole answer, under the
 * per-request deadline. Only an abort this function caused on the client's behalf is
 * 'abandoned'; every other way of not getting an answer is 'lost'.
 */
async function send(
  headers: string[],
  body: string | undefined,
  abortAfterMs: number | undefined,
  options: ClientOptions,
): Promise<Sent> {
  const controller = new AbortController();
  let cause: 'client' | 'deadline' | undefined;
  const stop = (why: 'client' | 'deadline'): void => {
    cause ??= why;
    controller.abort();
  };
  const deadline = setTimeout(() => stop('deadline'), options.callTimeoutMs);
  const abort =
    abortAfterMs === undefined ? undefined : setTimeout(() => stop('client'), abortAfterMs);
  try {
    const response = await options.pool.request({
      path: options.path,
      method: body === undefined ? 'DELETE' : 'POST',
      headers,
      ...(body === undefined ? {} : { body }),
      signal: controller.signal,
      // The deadline above is the only timeout, so that no answer is ever misfiled.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    const text = await response.body.text();
    if (cause === 'client') return { kind: 'abandoned' };
    return {
      kind: 'answer',
      answer: {
        status: response.statusCode,
        contentType: headerValue(response.headers['content-type']),
        sessionId: headerValue(response.headers['mcp-session-id']),
        body: text,
      },
    };
  } catch (error) {
    if (cause === 'client') return { kind: 'abandoned' };
    if (cause === 'deadline')
      return { kind: 'lost', reason: `no answer within ${options.callTimeoutMs} ms` };
    const code = (error as { code?: unknown }).code;
    return {
      kind: 'lost',
      reason: `no HTTP answer: ${typeof code === 'string' ? code : String(error)}`,
    };
  } finally {
    clearTimeout(deadline);
    if (abort !== undefined) clearTimeout(abort);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
