/**
 * A remote backend over HTTP, behind the same channel interface as a stdio child: `send`
 * one serialized message, get parsed messages back, one "exit" when the connection is lost
 * for good. The SDK's client transports do the HTTP; this module adds what a router needs:
 * - Streamable HTTP first; a server that refuses the initialize POST (400/404/405) is tried
 *   over the deprecated HTTP+SSE transport, as the spec's backward-compatibility rule says
 *   (or HTTP+SSE from the start, with `"type": "sse"`).
 * - A backend that restarted answers 404 for our Streamable HTTP session: the channel opens
 *   a new session with the initialize the backend saw first and sends the message again,
 *   once. The caller never sees the stale session.
 * - A connection error on any request or stream (the SDK transports only log those and
 *   reconnect) has the server probed (`reachability.ts`): unreachable is a lost connection,
 *   reported at once, so calls in flight on a server that died fail now, not at their timeout.
 * - A loss is reported once: the transport is detached before it is closed, because closing
 *   it fires its `onclose` and fails its pending requests, which must not come back here.
 */
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { NeedsSignIn, authorizedFetch, type UpstreamSignIn } from './authorized-fetch.js';
import { MessageTooLarge, cappedFetch, tooLargeMessage } from './message-cap.js';
import { Reachability, rootMessage, watchedFetch } from './reachability.js';
import type { ChannelHandler } from './stdio.js';
import { logger, type Logger } from '../../shared/log.js';

export interface HttpChannelOptions {
  /** The server id, for log lines. */
  id: string;
  url: string;
  headers: Record<string, string>;
  httpTransport: 'auto' | 'sse';
  /** One message (a JSON body, an SSE event) past this ends the connection. */
  maxMessageBytes: number;
  /** The server's OAuth sign-in, when it may have one (authorized-fetch.ts). */
  signIn?: UpstreamSignIn;
}

type Transport = StreamableHTTPClientTransport | SSEClientTransport;

/** Statuses with which a server without Streamable HTTP refuses the initialize POST. */
const NOT_STREAMABLE = new Set([400, 404, 405]);

/** Answers to our own re-initialize carry ids of this form, never the peer's numbers. */
const RENEW_ID_PREFIX = 'mcpd-renew-';
const RENEW_TIMEOUT_MS = 10_000;

export class HttpChannel {
  readonly #options: HttpChannelOptions;
  readonly #handler: ChannelHandler;
  readonly #log: Logger;
  readonly #reachability: Reachability;
  #transport: Transport | null = null;
  /** Resolves when the transport can send (HTTP+SSE waits for its `endpoint` event). */
  #ready: Promise<void> = Promise.resolve();
  #sse: boolean;
  /** The initialize request the peer sent, replayed to open a new session after a 404. */
  #initialize: { id: unknown; json: string } | null = null;
  #renewing: Promise<void> | null = null;
  #renewSeq = 0;
  readonly #renewWaiters = new Map<string, (message: JSONRPCMessage) => void>();
  #exited = false;

  constructor(options: HttpChannelOptions, handler: ChannelHandler) {
    this.#options = options;
    this.#handler = handler;
    this.#log = logger(`server:${options.id}`);
    this.#reachability = new Reachability(options.url);
    this.#sse = options.httpTransport === 'sse';
  }

  /** A remote server has no process of ours. */
  get pid(): number | undefined {
    return undefined;
  }

  get stderrTail(): readonly string[] {
    return [];
  }

  start(): void {
    this.#transport = this.#open();
  }

  send(json: string): void {
    const message = JSON.parse(json) as JSONRPCMessage & { method?: string; id?: unknown };
    if (message.method === 'initialize') this.#initialize = { id: message.id, json };
    this.#post(message, true);
  }

  /** Ends the session (DELETE) and the connection; the exit follows. */
  async stop(): Promise<void> {
    const transport = this.#transport;
    this.#transport = null; // its close is ours, not a lost connection
    if (transport !== null) {
      if (transport instanceof StreamableHTTPClientTransport) {
        await transport.terminateSession().catch(() => undefined);
      }
      await transport.close().catch(() => undefined);
    }
    this.#exit();
  }

  #open(): Transport {
    const { id, url, headers, maxMessageBytes } = this.#options;
    // A message over the cap is treated as a lost connection: the backend reconnects.
    const capped = cappedFetch(maxMessageBytes, tooLargeMessage(id, maxMessageBytes), (error) =>
      this.#lost(error),
    );
    const watched = watchedFetch(capped, (error) => this.#suspect(error));
    const { signIn } = this.#options;
    const fetch =
      signIn === undefined
        ? watched
        : authorizedFetch(watched, signIn, (error) => this.#lost(error));
    const transport = this.#sse
      ? new SSEClientTransport(new URL(url), { requestInit: { headers }, fetch })
      : new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers }, fetch });
    transport.onmessage = (message) => this.#receive(transport, message);
    // GET-stream hiccups and the like: the Streamable HTTP transport reconnects by itself.
    transport.onerror = (error) => this.#log.debug(`http transport: ${error.message}`);
    if (transport instanceof SSEClientTransport) {
      // On HTTP+SSE the stream is the connection: when it ends, so does the channel.
      transport.onclose = () => {
        if (this.#transport === transport) this.#lost(new Error('the SSE stream closed'));
      };
    }
    this.#ready = transport.start();
    this.#ready.catch(() => undefined); // reported by the send that awaits it
    return transport;
  }

  #receive(transport: Transport, message: JSONRPCMessage): void {
    const id = (message as { id?: unknown }).id;
    if (typeof id === 'string' && id.startsWith(RENEW_ID_PREFIX)) {
      this.#renewWaiters.get(id)?.(message);
      return;
    }
    // The version header must follow the negotiated version on every later request.
    const result = (message as { result?: { protocolVersion?: unknown } }).result;
    if (
      this.#initialize !== null &&
      id === this.#initialize.id &&
      typeof result?.protocolVersion === 'string'
    ) {
      transport.setProtocolVersion(result.protocolVersion);
    }
    this.#handler.onChannelMessage(message);
  }

  #post(message: JSONRPCMessage & { method?: string }, retry: boolean): void {
    const transport = this.#transport;
    if (transport === null || this.#exited) return;
    this.#ready
      .then(() => transport.send(message))
      .catch((error: unknown) => {
        if (this.#exited || transport !== this.#transport) return;
        const status = error instanceof StreamableHTTPError ? error.code : undefined;
        if (
          message.method === 'initialize' &&
          !this.#sse &&
          this.#options.httpTransport === 'auto' &&
          status !== undefined &&
          NOT_STREAMABLE.has(status)
        ) {
          this.#log.info(
            `the server refused Streamable HTTP (HTTP ${status}); trying the HTTP+SSE transport`,
          );
          this.#sse = true;
          void transport.close().catch(() => undefined);
          this.#transport = this.#open();
          this.#post(message, false);
          return;
        }
        if (
          status === 404 &&
          retry &&
          !this.#sse &&
          this.#initialize !== null &&
          message.method !== 'initialize'
        ) {
          this.#log.info('the remote server forgot our session (it restarted?); opening a new one');
          this.#renew().then(
            () => this.#post(message, false),
            (renewError: unknown) => this.#lost(renewError),
          );
          return;
        }
        this.#lost(error);
      });
  }

  /** A new session: the same initialize again (under our own id), then `initialized`. */
  #renew(): Promise<void> {
    this.#renewing ??= (async () => {
      const old = this.#transport;
      await old?.close().catch(() => undefined);
      const transport = this.#open() as StreamableHTTPClientTransport;
      this.#transport = transport;
      await this.#ready;
      const init = JSON.parse((this.#initialize as { json: string }).json) as JSONRPCMessage & {
        id: string;
      };
      const id = `${RENEW_ID_PREFIX}${++this.#renewSeq}`;
      const answer = new Promise<JSONRPCMessage>((resolve, reject) => {
        this.#renewWaiters.set(id, resolve);
        setTimeout(
          () => reject(new Error(`no answer to initialize within ${RENEW_TIMEOUT_MS} ms`)),
          RENEW_TIMEOUT_MS,
        ).unref();
      });
      await transport.send({ ...init, id });
      const response = (await answer.finally(() => this.#renewWaiters.delete(id))) as {
        result?: { protocolVersion?: unknown };
        error?: { message?: string };
      };
      if (response.error !== undefined)
        throw new Error(`initialize failed: ${response.error.message ?? 'error'}`);
      if (typeof response.result?.protocolVersion === 'string')
        transport.setProtocolVersion(response.result.protocolVersion);
      await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      this.#handler.onChannelRenewed?.();
    })().finally(() => {
      this.#renewing = null;
    });
    return this.#renewing;
  }

  /**
   * A request or stream failed at the connection: is the server still there? Gone is a lost
   * connection; there, the transport's own retries carry on as before.
   */
  #suspect(error: unknown): void {
    if (this.#exited) return;
    const failure = rootMessage(error);
    void this.#reachability.check().then((unreachable) => {
      if (this.#exited) return;
      if (unreachable === undefined) {
        this.#log.debug(`${failure}; the server still accepts connections`);
        return;
      }
      this.#lost(new Error(`${failure}, and a new connection fails: ${unreachable}`));
    });
  }

  /** The server cannot be reached or refused us: like a child that exited. Reported once. */
  #lost(error: unknown): void {
    // Detached first: closing fires the transport's onclose (HTTP+SSE), which calls this for
    // a transport that is still current; it would recurse until the stack overflowed.
    const transport = this.#transport;
    this.#transport = null;
    void transport?.close().catch(() => undefined);
    if (this.#exited) return;
    if (error instanceof NeedsSignIn) {
      this.#exited = true;
      this.#handler.onChannelExit({
        code: null,
        signal: null,
        transportError: error.message,
        needsAuth: error.message,
      });
      return;
    }
    const reason = error instanceof Error ? error.message : String(error);
    const tooLarge = error instanceof MessageTooLarge;
    if (tooLarge) this.#log.error(`${reason}; reconnecting`);
    else this.#log.debug(`connection lost: ${reason}`);
    this.#exit(
      `remote server ${this.#options.url} is unreachable or failed: ${reason}`,
      tooLarge ? reason : undefined,
    );
  }

  #exit(transportError?: string, limitExceeded?: string): void {
    if (this.#exited) return;
    this.#exited = true;
    this.#handler.onChannelExit(
      transportError === undefined
        ? { code: 0, signal: null }
        : limitExceeded === undefined
          ? { code: null, signal: null, transportError }
          : { code: null, signal: null, transportError, limitExceeded },
    );
  }
}
