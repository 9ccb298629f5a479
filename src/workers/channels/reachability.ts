/**
 * Is a remote backend still there? A stdio child that dies is an exit the worker sees at
 * once; a remote server that dies is only a connection error on whichever request happened
 * to be open, and the HTTP transports treat those as passing: the session-era SDK transports
 * report them to `onerror` and reconnect their streams, a stateless request fails alone. So a
 * call in flight on a dead server used to wait for its whole timeout (or got a one-off error
 * while the backend still claimed `ready`).
 *
 * A connection error (refused, reset, the socket closed under a request or a response
 * stream) is therefore taken as a question, and a TCP connect to the server's origin answers
 * it (two, a moment apart, before the server counts as there). Unreachable: the channel reports that it is gone, as a child exit is reported,
 * and the backend's exit path does the rest (docs/architecture.md#processes-and-failure): the
 * calls in flight fail at once with BACKEND_EXITED, and reconnects follow with backoff.
 * Reachable: nothing changes, the transports recover as they did before (a server that
 * restarted and forgot the session is renewed by the channel).
 *
 * Why a bare TCP connect rather than an HTTP request (a HEAD): whether something listens at
 * the origin is all the error put in doubt, and a connect answers it without auth, TLS, a
 * method the server may refuse, or a line in its logs; a dead process on a live host refuses
 * at once (a TCP RST, https://www.rfc-editor.org/rfc/rfc9293#section-3.5.2), a dead host stays
 * silent until the timeout. Its limit: behind a reverse proxy or load balancer the proxy
 * accepts the connect, so a dead upstream is not found this way; calls then fail as the
 * proxy answers them, or by their timeout, as before.
 */
import { connect } from 'node:net';

/**
 * How long a probe waits for the TCP handshake. A lost SYN is sent again after the initial
 * retransmission timeout of 1 s (https://www.rfc-editor.org/rfc/rfc6298#section-2), so 2 s
 * rides out one lost packet on a slow path; a dead port on a live host refuses long before.
 */
export const PROBE_TIMEOUT_MS = 2_000;

/**
 * Error codes that say the connection, not the server's answer, failed: Node's socket errors
 * (https://nodejs.org/api/errors.html#common-system-errors) and undici's, which `fetch`
 * reports as the `cause` of its `TypeError` ("fetch failed", "terminated").
 */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Whether `error` (or an error in its `cause` chain) is a connection error, not an abort. */
export function isConnectionError(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  }
  return false;
}

/** The innermost message of an error chain: `connect ECONNREFUSED 127.0.0.1:4000`, not `fetch failed`. */
export function rootMessage(error: unknown): string {
  let e = error;
  for (let depth = 0; e instanceof Error && e.cause instanceof Error && depth < 5; depth++) {
    e = e.cause;
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * How long a probe's connection must stay open to count. The error that asks the question
 * often arrives while the server's process is still being torn down: its connections are
 * closed, but its listening socket may live a moment longer, and the kernel completes the
 * handshake for it with no process behind. Once that socket closes, the connections queued
 * on it are reset, so a connection that stays open this long was accepted by a live server.
 * Only the "reachable" answer waits: a refusal or a reset is taken at once.
 */
export const PROBE_SETTLE_MS = 100;

/**
 * A server found reachable is probed once more after this long, in case its listener outlived
 * the settle time too: a dying process's sockets are released one by one, and the kernel may
 * defer some of those releases. Without this second look, 1 of about 330 local HTTP+SSE
 * servers killed under a stream was noticed only at the transport's next reconnect, 3 s later.
 * A live server answers both probes; a dead one fails either.
 */
export const PROBE_RECHECK_MS = 400;

/**
 * Resolves with undefined when a TCP connection to `url`'s origin opens within `timeoutMs`
 * and stays open `settleMs`, or with why not (`connect ECONNREFUSED 127.0.0.1:4000`,
 * `no answer within 2000 ms`, `read ECONNRESET`).
 */
export function probe(
  url: string,
  timeoutMs = PROBE_TIMEOUT_MS,
  settleMs = PROBE_SETTLE_MS,
): Promise<string | undefined> {
  const { hostname, port, protocol } = new URL(url);
  const host = hostname.replace(/^\[(.*)\]$/, '$1'); // an IPv6 literal loses its brackets
  const socket = connect({
    host,
    port: port === '' ? (protocol === 'https:' ? 443 : 80) : Number(port),
  });
  // Unreferenced, socket and timers: a probe out when the worker stops never keeps it alive.
  socket.unref();
  return new Promise<string | undefined>((resolve) => {
    const done = (why: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(why);
    };
    let timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs).unref();
    socket.once('connect', () => {
      clearTimeout(timer);
      timer = setTimeout(() => done(undefined), settleMs).unref();
    });
    socket.once('error', (error) => done(error.message));
    socket.once('end', () => done('the connection was closed at once'));
  });
}

/**
 * One server's probes: a burst of failing requests (every stream breaks at once when a
 * server dies) shares the probe in flight instead of opening a connection each. Unreachable is
 * answered at the first failed probe; reachable only after the second (`PROBE_RECHECK_MS`).
 */
export class Reachability {
  readonly #url: string;
  #pending: Promise<string | undefined> | null = null;

  constructor(url: string) {
    this.#url = url;
  }

  /** Undefined if the server accepts connections now, else why it does not. */
  check(): Promise<string | undefined> {
    this.#pending ??= this.#twice().finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }

  async #twice(): Promise<string | undefined> {
    const first = await probe(this.#url);
    if (first !== undefined) return first;
    await new Promise((resolve) => setTimeout(resolve, PROBE_RECHECK_MS).unref());
    return probe(this.#url);
  }
}

/** What the HTTP channels fetch with (the SDK transports' `FetchLike`). */
export type Fetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * `fetch` that tells `onConnectionError` of each connection error, whether the request fails
 * or its response body breaks later (an SSE stream the server's death cuts), then fails as
 * it would have: the SDK's transports, which only log those, get them unchanged.
 */
export function watchedFetch(inner: Fetch, onConnectionError: (error: unknown) => void): Fetch {
  const notice = (error: unknown): void => {
    if (isConnectionError(error)) onConnectionError(error);
  };
  return async (url, init) => {
    let response: Response;
    try {
      response = await inner(url, init);
    } catch (error) {
      notice(error);
      throw error;
    }
    // Passed untouched, as `cappedFetch` passes them: the SDK reads a redirect as it came.
    const redirect = response.status >= 300 && response.status < 400;
    if (response.body === null || response.type === 'opaqueredirect' || redirect) return response;
    const reader = response.body.getReader();
    // Pulled one read at a time, so a break surfaces here and then to the reader as before.
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          notice(error);
          controller.error(error);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
