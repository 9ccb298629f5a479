/**
 * The standing GET stream of a session
 * (https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#listening-for-messages-from-the-server):
 * how the daemon reaches the client outside a request (list changes, resource updates, its own
 * requests). Held for as long as the session lives and reopened when it drops, with
 * `Last-Event-ID` once events carried ids so the server can replay what was missed. 405 means
 * the server offers no such stream.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { newCursor, readEvents } from './sse.js';

/** The first reconnection delay after a failure; it doubles up to the maximum. */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/** What the stream needs from the bridge, which owns headers, outages and sessions. */
export interface SessionStreamHooks {
  /** Sends one GET (with `Last-Event-ID` when given); rejects as fetch does. */
  open(lastEventId: string | undefined, signal: AbortSignal): Promise<Response>;
  /** The data of one event: a message for the client. */
  deliver(data: string): void;
  /** The daemon answered; `ok` for a 2xx status. */
  reached(ok: boolean): void;
  /** fetch failed: the stream retries; the bridge decides whether that is an outage. */
  unreachable(error: unknown): void;
  /** 404: the session is gone. The stream stops; the bridge renews the session. */
  expired(): void;
  /** A client error status that retrying will not fix; the stream stops. */
  refused(status: number): void;
}

export class SessionStream {
  readonly #hooks: SessionStreamHooks;
  readonly #abort = new AbortController();

  constructor(hooks: SessionStreamHooks) {
    this.#hooks = hooks;
  }

  start(): void {
    this.#run().catch(() => undefined); // only an abort ends it early, and that is stop()
  }

  stop(): void {
    this.#abort.abort();
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const cursor = newCursor();
    let failures = 0;
    let delayMs = 0;
    while (!signal.aborted) {
      if (delayMs > 0) await sleep(delayMs, undefined, { signal });
      let response: Response;
      try {
        response = await this.#hooks.open(cursor.lastEventId, signal);
      } catch (error) {
        if (signal.aborted) return;
        this.#hooks.unreachable(error);
        delayMs = backoff(failures++);
        continue;
      }
      this.#hooks.reached(response.ok);
      const isStream = (response.headers.get('content-type') ?? '').includes('text/event-stream');
      if (!response.ok || !isStream || response.body === null) {
        await response.body?.cancel().catch(() => undefined);
        const status = response.status;
        if (status === 405) return; // this server pushes nothing outside requests
        if (status === 404) return this.#hooks.expired();
        // 409: the server still counts an earlier stream of ours as open; it will notice.
        if (status === 409 || status >= 500) {
          delayMs = backoff(failures++);
          continue;
        }
        return this.#hooks.refused(status);
      }
      let delivered = 0;
      try {
        await readEvents(response.body, cursor, (data) => {
          delivered++;
          this.#hooks.deliver(data);
        });
      } catch {
        if (signal.aborted) return;
      }
      // A stream that carried something was healthy: reconnect at once (or when the server
      // asked); one that ended empty counts as a failure, so a server that closes every
      // stream at once is not hammered.
      if (delivered > 0) failures = 0;
      delayMs = cursor.retryMs ?? (delivered > 0 ? 0 : backoff(failures++));
    }
  }
}

function backoff(failures: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(failures, 10));
}
