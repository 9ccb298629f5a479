/**
 * One POST of the connect shim and everything that comes back for it: a JSON body, or each
 * event of an SSE body, handed over in the order received. A POST stream that drops before
 * the answer is resumed with GET + Last-Event-ID when its events carried ids (the spec's
 * resumability). The outcome says whether every request in the message got its answer and,
 * if not, which error the client gets instead; session and outage policy stay with the bridge.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { JsonValue, RequestId } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import type { WireError } from '../../shared/errors.js';
import {
  SHIM_ERROR,
  brokenError,
  classifyFetchError,
  httpError,
  notRunningMessage,
} from './failures.js';
import type { Inbound, Outgoing } from './messages.js';
import { parseInbound, responseIds } from './messages.js';
import type { SseCursor } from './sse.js';
import { newCursor, readEvents } from './sse.js';

/** How often a dropped POST stream is resumed before its requests get an error. */
const RESUME_ATTEMPTS = 3;

export type Outcome =
  /** Every request in the message was answered (or it held none). */
  | { kind: 'answered' }
  /** The daemon does not know the session (404) and `renewable` was set: renew, resend. */
  | { kind: 'expired'; sessionId: string }
  /** The signal was aborted (the client cancelled, or is leaving): nothing more to say. */
  | { kind: 'cancelled' }
  | { kind: 'failed'; unanswered: RequestId[]; error: WireError };

/** What a POST needs from the bridge. */
export interface ExchangeContext {
  readonly endpoint: string;
  headers(
    message: Outgoing | undefined,
    sessionId: string | undefined,
    extra: Record<string, string>,
  ): Record<string, string>;
  /** The daemon answered with `response` (any status), before its body is read. */
  reached(response: Response, message: Outgoing | undefined): void;
  /** No connection could be made at all. */
  unreachable(reason: string): void;
  /** The daemon answered 401. */
  unauthorized(): void;
  /** The answer to a request of `method` passed through. */
  note(method: string, answer: JsonValue | undefined): void;
}

export interface Exchange {
  message: Outgoing;
  /** The session to send it on (none for initialize and 2026-07-28 requests). */
  sessionId: string | undefined;
  /** Whether a 404 on the session can be healed by replaying the handshake. */
  renewable: boolean;
  /** Where the daemon's messages go (stdout, or nowhere for the replayed handshake). */
  sink: (message: Inbound) => void;
  signal: AbortSignal;
}

/** POSTs one message and hands what comes back to the sink, in order. */
export async function exchange(ctx: ExchangeContext, x: Exchange): Promise<Outcome> {
  const { message, sessionId, signal } = x;
  const pending = new Map(message.requests);
  const failed = (error: WireError): Outcome => ({
    kind: 'failed',
    unanswered: [...pending.keys()],
    error,
  });
  let response: Response;
  try {
    response = await fetch(ctx.endpoint, {
      method: 'POST',
      headers: ctx.headers(message, sessionId, { 'Content-Type': 'application/json' }),
      body: message.text,
      signal,
    });
  } catch (error) {
    if (signal.aborted) return { kind: 'cancelled' };
    return failed(unreachable(ctx, error));
  }
  ctx.reached(response, message);
  if (!response.ok) {
    const body = await response.text().catch(() => '');
    if (response.status === 404 && sessionId !== undefined && x.renewable) {
      return { kind: 'expired', sessionId };
    }
    if (response.status === 401) ctx.unauthorized();
    return failed(httpError(ctx.endpoint, response.status, response.statusText, body));
  }
  const receive = (data: string): 'stop' | void => {
    const inbound = parseInbound(data);
    if (inbound === undefined) return; // not JSON: nothing a stdio client could read
    for (const id of responseIds(inbound.value)) {
      const method = pending.get(id);
      if (method === undefined) continue;
      pending.delete(id);
      ctx.note(method, answerOf(inbound.value, id));
    }
    x.sink(inbound);
    return pending.size === 0 ? 'stop' : undefined;
  };
  let failure: WireError | undefined;
  try {
    if ((response.headers.get('content-type') ?? '').includes('text/event-stream')) {
      failure = await readStream(ctx, x, response, receive, () => pending.size);
    } else {
      const text = await response.text();
      if (text.trim() !== '') receive(text);
    }
  } catch (error) {
    failure = brokenError(ctx.endpoint, classifyFetchError(error).reason);
  }
  if (signal.aborted) return { kind: 'cancelled' };
  if (pending.size === 0) return { kind: 'answered' };
  return failed(
    failure ?? {
      code: SHIM_ERROR,
      message: `MCP Director ended its answer to this request without a response (HTTP ${response.status})`,
    },
  );
}

/** Reads a POST's SSE answer, resuming it if it drops before every answer came. */
async function readStream(
  ctx: ExchangeContext,
  x: Exchange,
  response: Response,
  receive: (data: string) => 'stop' | void,
  unanswered: () => number,
): Promise<WireError | undefined> {
  const cursor = newCursor();
  let failure: WireError | undefined;
  try {
    // Stops at the answer: the server ends the stream there anyway (it SHOULD).
    if (response.body !== null) await readEvents(response.body, cursor, receive);
  } catch (error) {
    if (x.signal.aborted) return undefined;
    failure = brokenError(ctx.endpoint, classifyFetchError(error).reason);
  }
  if (unanswered() > 0 && cursor.lastEventId !== undefined) {
    failure = (await resume(ctx, x, cursor, receive)) ?? failure;
  }
  return failure;
}

/**
 * GET + Last-Event-ID after the `retry` delay the server asked for, until `receive` says
 * every answer is in. Returns why it gave up, if it did.
 */
async function resume(
  ctx: ExchangeContext,
  x: Exchange,
  cursor: SseCursor,
  receive: (data: string) => 'stop' | void,
): Promise<WireError | undefined> {
  let done = false;
  for (let attempt = 0; attempt < RESUME_ATTEMPTS && !done; attempt++) {
    const lastEventId = cursor.lastEventId;
    if (lastEventId === undefined) return undefined;
    try {
      await sleep(cursor.retryMs ?? 100 * attempt, undefined, { signal: x.signal });
      const response = await fetch(ctx.endpoint, {
        method: 'GET',
        headers: ctx.headers(undefined, x.sessionId, {
          Accept: 'text/event-stream',
          'Last-Event-ID': lastEventId,
        }),
        signal: x.signal,
      });
      ctx.reached(response, undefined);
      if (!response.ok || response.body === null) {
        const body = await response.text().catch(() => '');
        return httpError(ctx.endpoint, response.status, response.statusText, body);
      }
      await readEvents(response.body, cursor, (data) => {
        if (receive(data) !== 'stop') return undefined;
        done = true;
        return 'stop';
      });
    } catch (error) {
      if (x.signal.aborted) return undefined;
      if (classifyFetchError(error).kind === 'unreachable') return unreachable(ctx, error);
    }
  }
  return undefined;
}

/** The error for a fetch that threw; an outage is also reported to the bridge. */
function unreachable(ctx: ExchangeContext, error: unknown): WireError {
  const failure = classifyFetchError(error);
  if (failure.kind === 'unreachable') {
    ctx.unreachable(failure.reason);
    return { code: SHIM_ERROR, message: notRunningMessage(ctx.endpoint, failure.reason) };
  }
  return {
    code: SHIM_ERROR,
    message: `Could not send the message to MCP Director at ${ctx.endpoint} (${failure.reason})`,
  };
}

/** The response with `id` inside a message (one response or a batch answer). */
export function answerOf(value: JsonValue, id: RequestId): JsonValue | undefined {
  const items = Array.isArray(value) ? value : [value];
  return items.find(
    (item) => isJsonObject(item) && item['id'] === id && item['method'] === undefined,
  );
}
