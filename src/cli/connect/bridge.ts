/**
 * The stdio ⇄ Streamable HTTP bridge behind `mcp-director connect`. Each client line is
 * POSTed on its own (a long call never delays a ping); JSON answers and every event of an
 * SSE answer go back to the client as one line each. The bridge keeps the session id and
 * negotiated version, holds the session's GET stream, and hides daemon restarts: a 404 on
 * the session replays the client's own handshake, then sends the message again.
 *
 * Invariants: the client sees an answer for every request it sent (the daemon's, or an
 * error of ours); nothing but JSON-RPC reaches stdout; the token never reaches a log line.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { JsonObject, JsonValue, RequestId } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import type { WireError } from '../../shared/errors.js';
import { JsonRpcCode } from '../../shared/errors.js';
import type { ExchangeContext, Outcome } from './exchange.js';
import { answerOf, exchange } from './exchange.js';
import {
  SHIM_ERROR,
  classifyFetchError,
  notRunningMessage,
  unauthorizedMessage,
} from './failures.js';
import type { Inbound, Outgoing } from './messages.js';
import { errorLine, outgoingOf, parseClientLine, parseInbound, responseIds } from './messages.js';
import { ModernHeaders } from './modern-headers.js';
import { SessionStream } from './session-stream.js';

/** How long stdin EOF waits for answers still on their way before it aborts them. */
const EOF_GRACE_MS = 1000;
/** How long the DELETE that ends the session may take: best effort, the client is leaving. */
const DELETE_TIMEOUT_MS = 500;

export interface BridgeOptions {
  /** The MCP endpoint: `--url`, plus `/<profile>`. */
  endpoint: string;
  /** Sent as `Authorization: Bearer <token>`; never printed. */
  token: string | undefined;
  /**
   * The folder the client works in, sent as `X-Project-Dir` (README: Projects); not
   * `explicit`: the folder connect runs in, a hint the daemon may leave unused.
   */
  project?: { dir: string; explicit: boolean };
  /** Writes one line to the client (stdout). */
  write(line: string): void;
  /** Writes one line for the person reading the client's logs (stderr). */
  warn(line: string): void;
}

type Sink = (message: Inbound) => void;

export class Bridge {
  readonly #options: BridgeOptions;
  readonly #modern = new ModernHeaders();
  #sessionId: string | undefined;
  #protocolVersion: string | undefined;
  /** The client's own initialize, replayed (with an id of ours) when the session expires. */
  #initialize: JsonObject | undefined;
  /** The client sent notifications/initialized, so a renewed session gets it too. */
  #initialized = false;
  /** The renewal under way: resolves to the error its waiters get, if it failed. */
  #renewing: Promise<WireError | undefined> | undefined;
  #renewals = 0;
  #stream: SessionStream | undefined;
  /** An outage was reported and has not ended: report it once, not per message. */
  #down = false;
  #unauthorizedReported = false;
  #closing = false;
  readonly #inflight = new Set<Promise<void>>();
  /** Requests on their way, so a 2026-07-28 cancellation or EOF can abort their POST. */
  readonly #calls = new Map<RequestId, { abort: AbortController; modern: boolean }>();

  /** What each POST needs from the bridge: headers, and the news it brings back. */
  readonly #context: ExchangeContext;

  constructor(options: BridgeOptions) {
    this.#options = options;
    this.#context = {
      endpoint: options.endpoint,
      headers: (message, sessionId, extra) => this.#headers(message, sessionId, extra),
      reached: (response, message) => {
        this.#reached(response.ok);
        if (message?.method === 'initialize' && response.ok) {
          this.#sessionId = response.headers.get('mcp-session-id') ?? undefined;
        }
      },
      unreachable: (reason) => this.#reportDown(reason),
      unauthorized: () => this.#reportUnauthorized(),
      note: (method, answer) => this.#note(method, answer),
    };
  }

  /** Takes one line from stdin. */
  receive(line: string): void {
    const text = line.trim();
    if (this.#closing || text === '') return;
    let parsed: ReturnType<typeof parseClientLine>;
    try {
      parsed = parseClientLine(text);
    } catch (error) {
      this.#options.warn(`internal error reading a line: ${String(error)}`);
      return;
    }
    if (!parsed.ok) return this.#options.write(parsed.reply);
    if (parsed.message.method === 'initialize' && isJsonObject(parsed.value)) {
      this.#initialize = parsed.value;
    }
    const { requests } = parsed.message;
    const task = this.#forward(parsed.message).catch((error: unknown) => {
      // A bug in the shim costs these requests an error answer, never the client's wait.
      this.#options.warn(`internal error: ${(error as Error).stack ?? String(error)}`);
      for (const id of requests.keys())
        this.#options.write(
          errorLine(id, {
            code: JsonRpcCode.InternalError,
            message: `Internal error in mcp-director connect: ${String(error)}`,
          }),
        );
    });
    this.#inflight.add(task);
    void task.finally(() => this.#inflight.delete(task));
  }

  /**
   * stdin ended: let answers on their way arrive for a moment, then abort the rest, stop
   * the GET stream and end the session with a DELETE (best effort).
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#inflight.size > 0) {
      await Promise.race([Promise.allSettled([...this.#inflight]), sleep(EOF_GRACE_MS)]);
    }
    for (const call of this.#calls.values()) call.abort.abort();
    this.#stream?.stop();
    const sessionId = this.#sessionId;
    if (sessionId === undefined) return;
    await fetch(this.#options.endpoint, {
      method: 'DELETE',
      headers: this.#headers(undefined, sessionId, {}),
      signal: AbortSignal.timeout(DELETE_TIMEOUT_MS),
    })
      .then((response) => response.body?.cancel())
      .catch(() => undefined);
  }

  async #forward(message: Outgoing): Promise<void> {
    if (message.method === 'notifications/cancelled' && this.#cancelModern(message.params)) return;
    if (message.method === 'notifications/initialized') this.#initialized = true;
    if (message.method !== 'initialize') await this.#renewing;
    const abort = new AbortController();
    const modern = message.modernVersion !== undefined;
    for (const id of message.requests.keys()) this.#calls.set(id, { abort, modern });
    try {
      const write: Sink = (inbound) => this.#options.write(inbound.line);
      let outcome = await this.#send(message, write, abort.signal);
      if (outcome.kind === 'expired') {
        const failure = await this.#renew(outcome.sessionId);
        outcome =
          failure === undefined
            ? await this.#send(message, write, abort.signal)
            : { kind: 'failed', unanswered: [...message.requests.keys()], error: failure };
      }
      if (outcome.kind === 'expired') {
        outcome = {
          kind: 'failed',
          unanswered: [...message.requests.keys()],
          error: { code: SHIM_ERROR, message: 'MCP Director lost the session again at once' },
        };
      }
      if (outcome.kind === 'failed') {
        for (const id of outcome.unanswered) this.#options.write(errorLine(id, outcome.error));
      }
    } finally {
      for (const id of message.requests.keys()) {
        if (this.#calls.get(id)?.abort === abort) this.#calls.delete(id);
      }
    }
    if (message.method === 'notifications/initialized') this.#listen();
  }

  /** One POST on the current session (initialize and 2026-07-28 requests have none). */
  #send(message: Outgoing, sink: Sink, signal: AbortSignal): Promise<Outcome> {
    const sessionless = message.modernVersion !== undefined || message.method === 'initialize';
    return exchange(this.#context, {
      message,
      sessionId: sessionless ? undefined : this.#sessionId,
      renewable: this.#initialize !== undefined,
      sink,
      signal,
    });
  }

  /**
   * Replaces an expired session, once for all who found it expired; resolves to the error
   * the waiting requests get if it could not.
   */
  #renew(stale: string): Promise<WireError | undefined> {
    // A request that failed on the old session after a renewal finished just resends.
    if (this.#renewing === undefined && this.#sessionId !== stale)
      return Promise.resolve(undefined);
    this.#renewing ??= this.#reinitialize()
      .catch((error: unknown) => ({
        code: SHIM_ERROR,
        message: `Renewal failed: ${String(error)}`,
      }))
      .finally(() => (this.#renewing = undefined));
    return this.#renewing;
  }

  /** Replays the client's handshake (its answers swallowed) and reopens the GET stream. */
  async #reinitialize(): Promise<WireError | undefined> {
    const initialize = this.#initialize;
    if (initialize === undefined) return { code: SHIM_ERROR, message: 'No initialize to replay' };
    this.#stream?.stop();
    this.#stream = undefined;
    const id = `mcp-director-connect/renew-${++this.#renewals}`;
    let answer: JsonValue | undefined;
    const signal = new AbortController().signal;
    const outcome = await this.#send(
      outgoingOf({ ...initialize, id }),
      (inbound) => {
        if (responseIds(inbound.value).includes(id)) answer = answerOf(inbound.value, id);
      },
      signal,
    );
    if (outcome.kind === 'failed') return outcome.error;
    const error = isJsonObject(answer) ? answer['error'] : undefined;
    if (!isJsonObject(answer) || error !== undefined) {
      const reason = isJsonObject(error) ? `: ${String(error['message'])}` : '';
      return {
        code: SHIM_ERROR,
        message: `MCP Director restarted and refused to start a new session${reason}`,
      };
    }
    if (this.#initialized) {
      const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
      await this.#send(outgoingOf(initialized), () => undefined, signal);
      this.#listen();
    }
    return undefined;
  }

  /** (Re)opens the session's GET stream for what the daemon sends outside requests. */
  #listen(): void {
    if (this.#closing) return;
    this.#stream?.stop();
    const sessionId = this.#sessionId;
    const stream = new SessionStream({
      open: (lastEventId, signal) =>
        fetch(this.#options.endpoint, {
          method: 'GET',
          headers: this.#headers(undefined, sessionId, {
            Accept: 'text/event-stream',
            ...(lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId }),
          }),
          signal,
        }),
      deliver: (data) => {
        const inbound = parseInbound(data);
        if (inbound !== undefined) this.#options.write(inbound.line);
      },
      reached: (ok) => this.#reached(ok),
      unreachable: (error) => {
        const failure = classifyFetchError(error);
        if (failure.kind === 'unreachable') this.#reportDown(failure.reason);
      },
      expired: () => {
        if (sessionId !== undefined && this.#initialize !== undefined && !this.#closing) {
          void this.#renew(sessionId);
        }
      },
      refused: (status) => {
        if (status === 401) this.#reportUnauthorized();
      },
    });
    this.#stream = stream;
    stream.start();
  }

  #headers(
    message: Outgoing | undefined,
    sessionId: string | undefined,
    extra: Record<string, string>,
  ): Record<string, string> {
    const headers: Record<string, string> = { Accept: 'application/json, text/event-stream' };
    if (this.#options.token !== undefined)
      headers['Authorization'] = `Bearer ${this.#options.token}`;
    const project = this.#options.project;
    if (project !== undefined) {
      // Percent-encoded: a header carries ASCII only, and a folder's name need not be.
      headers['X-Project-Dir'] = encodeURIComponent(project.dir);
      if (!project.explicit) headers['X-Project-Source'] = 'cwd';
    }
    if (message?.modernVersion !== undefined) {
      return { ...headers, ...this.#modern.for(message), ...extra };
    }
    if (sessionId !== undefined) headers['Mcp-Session-Id'] = sessionId;
    if (this.#protocolVersion !== undefined && message?.method !== 'initialize') {
      headers['MCP-Protocol-Version'] = this.#protocolVersion;
    }
    return { ...headers, ...extra };
  }

  /** What the shim learns from answers passing through: the version, x-mcp-header tools. */
  #note(method: string, answer: JsonValue | undefined): void {
    const result = isJsonObject(answer) ? answer['result'] : undefined;
    if (!isJsonObject(result)) return;
    if (method === 'initialize' && typeof result['protocolVersion'] === 'string') {
      this.#protocolVersion = result['protocolVersion'];
    } else if (method === 'tools/list') {
      this.#modern.learn(result);
    }
  }

  /** A 2026-07-28 request is cancelled by closing its stream (there is no notification). */
  #cancelModern(params: JsonObject | undefined): boolean {
    const id = params?.['requestId'];
    const call = typeof id === 'string' || typeof id === 'number' ? this.#calls.get(id) : undefined;
    if (call === undefined || !call.modern) return false;
    call.abort.abort();
    return true;
  }

  #reportDown(reason: string): void {
    if (this.#down) return;
    this.#down = true;
    this.#options.warn(notRunningMessage(this.#options.endpoint, reason));
  }

  #reached(ok: boolean): void {
    if (ok) this.#unauthorizedReported = false;
    if (!this.#down) return;
    this.#down = false;
    this.#options.warn(`reconnected to MCP Director at ${this.#options.endpoint}`);
  }

  #reportUnauthorized(): void {
    if (this.#unauthorizedReported) return;
    this.#unauthorizedReported = true;
    this.#options.warn(
      unauthorizedMessage(this.#options.endpoint, this.#options.token !== undefined),
    );
  }
}
