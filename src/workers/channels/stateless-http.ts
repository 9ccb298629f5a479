/**
 * A remote backend of the stateless era (2026-07-28 Streamable HTTP,
 * https://modelcontextprotocol.io/specification/draft/basic/transports/streamable-http;
 * docs/architecture.md#backend-era), behind the same channel interface as a stdio child: every
 * request is its own POST, with the `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers
 * the revision requires; the answer is one JSON body or an SSE stream whose notifications
 * belong to that request.
 *
 * - Cancellation is closing the request's stream: a `notifications/cancelled` the peer sends
 *   aborts the matching POST instead of being posted (there are no client notifications
 *   over modern HTTP).
 * - A request whose POST fails or whose stream ends without an answer gets an error answer
 *   here, so nothing waits forever.
 * - A stateless server has no connection to lose, but it can die: a request that fails at the
 *   connection (refused, reset, cut mid-stream) has the server probed (`reachability.ts`).
 *   Unreachable, the channel exits like a child that died, so every call in flight fails at
 *   once and the backend restarts it (a new discovery and catalog once it is back); reachable,
 *   only that request fails. Its `subscriptions/listen` stream is such a request too, so a
 *   death is noticed with no call in flight. Otherwise `exit` only on `stop()`.
 */
import { MessageTooLarge, capBody, tooLargeMessage } from './message-cap.js';
import type { NeedsSignIn, UpstreamSignIn } from './authorized-fetch.js';
import { authorizedFetch } from './authorized-fetch.js';
import { Reachability, isConnectionError, rootMessage, type Fetch } from './reachability.js';
import type { ChannelHandler } from './stdio.js';
import { DirectorErrorCode, directorError } from '../../shared/errors.js';
import { eventStream } from '../../shared/event-stream.js';
import { MODERN_PROTOCOL_VERSION } from '../../shared/eras.js';
import { isJsonObject, type JsonObject } from '../../shared/json.js';
import { logger, type Logger } from '../../shared/log.js';
import { requestHeaders, type ParamHeader } from '../../shared/header-values.js';

export interface ModernHttpChannelOptions {
  /** The server id, for log lines and errors. */
  id: string;
  url: string;
  headers: Record<string, string>;
  /** The `x-mcp-header` parameters of a tool, as its backend listed it. */
  paramHeaders: (tool: string) => readonly ParamHeader[] | undefined;
  /** One message (a JSON body, an SSE event) past this fails its request. */
  maxMessageBytes: number;
  /** The server's OAuth sign-in, when it may have one (authorized-fetch.ts). */
  signIn?: UpstreamSignIn;
}

export class ModernHttpChannel {
  readonly #options: ModernHttpChannelOptions;
  readonly #handler: ChannelHandler;
  readonly #log: Logger;
  /** In-flight POSTs by request id, to abort on cancel or stop. */
  readonly #inFlight = new Map<number, AbortController>();
  readonly #reachability: Reachability;
  readonly #fetch: Fetch;
  #stopped = false;

  constructor(options: ModernHttpChannelOptions, handler: ChannelHandler) {
    this.#options = options;
    this.#handler = handler;
    this.#log = logger(`server:${options.id}`);
    this.#reachability = new Reachability(options.url);
    this.#fetch =
      options.signIn === undefined
        ? fetch
        : authorizedFetch(fetch, options.signIn, (error) => this.#needsSignIn(error));
  }

  /** No token can be had: the channel ends as needs-auth; every call in flight fails. */
  #needsSignIn(error: NeedsSignIn): void {
    if (!this.#end()) return;
    this.#handler.onChannelExit({
      code: null,
      signal: null,
      transportError: error.message,
      needsAuth: error.message,
    });
  }

  get pid(): number | undefined {
    return undefined;
  }

  get stderrTail(): readonly string[] {
    return [];
  }

  start(): void {
    // Nothing to open: every request is its own connection.
  }

  send(json: string): void {
    if (this.#stopped) return;
    const message = JSON.parse(json) as JsonObject;
    const { id, method } = message;
    if (typeof method !== 'string') return; // modern servers send no requests to answer
    if (id === undefined) {
      if (method === 'notifications/cancelled' && isJsonObject(message['params'])) {
        const requestId = message['params']['requestId'];
        if (typeof requestId === 'number') this.#inFlight.get(requestId)?.abort();
      }
      return;
    }
    if (typeof id !== 'number') return;
    const params = isJsonObject(message['params']) ? message['params'] : {};
    void this.#post(id, method, params, json);
  }

  async stop(): Promise<void> {
    if (!this.#end()) return;
    // Asynchronous like a process exit: the caller finishes its own bookkeeping first.
    await Promise.resolve();
    this.#handler.onChannelExit({ code: 0, signal: null });
  }

  /** No more requests: those in flight are aborted. False if it had already ended. */
  #end(): boolean {
    if (this.#stopped) return false;
    this.#stopped = true;
    for (const controller of this.#inFlight.values()) controller.abort();
    this.#inFlight.clear();
    return true;
  }

  /**
   * A request failed at the connection: true when the server is gone, reported as an exit
   * (once, however many requests failed with it), which fails every call in flight.
   */
  async #gone(error: unknown): Promise<boolean> {
    if (!isConnectionError(error)) return false;
    const unreachable = await this.#reachability.check();
    if (unreachable === undefined) return false;
    if (!this.#end()) return true; // stopped, or another request found it gone first
    const transportError = `remote server ${this.#options.url} is unreachable: ${rootMessage(error)}, and a new connection fails: ${unreachable}`;
    this.#log.debug(transportError);
    this.#handler.onChannelExit({ code: null, signal: null, transportError });
    return true;
  }

  async #post(id: number, method: string, params: JsonObject, body: string): Promise<void> {
    const controller = new AbortController();
    this.#inFlight.set(id, controller);
    let answered = false;
    const deliver = (message: unknown): void => {
      if (isJsonObject(message) && message['id'] === id && message['method'] === undefined) {
        answered = true;
      }
      this.#handler.onChannelMessage(message, id);
    };
    try {
      const response = await this.#fetch(this.#options.url, {
        method: 'POST',
        headers: this.#headers(method, params),
        body,
        signal: controller.signal,
      });
      const type = response.headers.get('content-type') ?? '';
      const { id: server, maxMessageBytes } = this.#options;
      const sse = type.includes('text/event-stream');
      const capped =
        response.body === null
          ? null
          : capBody(response.body, maxMessageBytes, sse, tooLargeMessage(server, maxMessageBytes));
      if (sse && capped !== null) {
        const events = capped.pipeThrough(new TextDecoderStream()).pipeThrough(eventStream());
        for await (const event of events) {
          if (event.data === '') continue; // priming events carry no message
          deliver(JSON.parse(event.data));
        }
      } else {
        const text = capped === null ? '' : await new Response(capped).text();
        if (type.includes('application/json') && text !== '') deliver(JSON.parse(text));
        else if (!response.ok) throw new Error(`HTTP ${response.status} ${text.slice(0, 200)}`);
      }
      if (!answered) throw new Error('the response ended without an answer');
    } catch (error) {
      if (answered || this.#stopped || controller.signal.aborted) return;
      if (await this.#gone(error)) return;
      if (this.#stopped || controller.signal.aborted) return;
      const reason = error instanceof Error ? error.message : String(error);
      if (error instanceof MessageTooLarge)
        this.#log.error(`${reason}; ${method} (id ${id}) fails`);
      else this.#log.debug(`${method} (id ${id}) failed: ${reason}`);
      this.#handler.onChannelMessage(
        {
          jsonrpc: '2.0',
          id,
          error: directorError(
            DirectorErrorCode.BackendUnavailable,
            `Server '${this.#options.id}' (${this.#options.url}) failed ${method}: ${reason}`,
            { server: this.#options.id },
          ),
        },
        id,
      );
    } finally {
      this.#inFlight.delete(id);
    }
  }

  #headers(method: string, params: JsonObject): Record<string, string> {
    return {
      ...this.#options.headers,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': MODERN_PROTOCOL_VERSION,
      ...requestHeaders(method, params, this.#options.paramHeaders),
    };
  }
}
