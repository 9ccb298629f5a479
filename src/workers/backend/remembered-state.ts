/**
 * What clients told a backend that outlives its process: the resource subscriptions and the
 * logging level. A session-era server is told them again after each restart and each new
 * session of a remote server; a stateless one gets the subscriptions as its listen filter
 * (`listen-stream.ts`). Live subscriptions also keep an idle stop away (`idle-stop.ts`).
 */
import type { BackendPeer } from './backend-peer.js';
import type { JsonObject } from '../../shared/json.js';
import type { Logger } from '../../shared/log.js';
import type { ForwardedMethod } from '../../shared/messages.js';

export interface RememberedStateOptions {
  peer: BackendPeer;
  log: Logger;
  /** Each re-applying request's timeout (the server's `timeoutMs`). */
  timeoutMs: number;
}

export class RememberedState {
  readonly #options: RememberedStateOptions;
  /** The URIs clients subscribed to. */
  readonly subscriptions = new Set<string>();
  #logLevel: string | null = null;

  constructor(options: RememberedStateOptions) {
    this.#options = options;
  }

  /** Remembers what a restart must re-apply: subscriptions and the logging level. */
  note(method: ForwardedMethod, params: JsonObject): void {
    const { uri, level } = params;
    switch (method) {
      case 'resources/subscribe':
        if (typeof uri === 'string') this.subscriptions.add(uri);
        return;
      case 'resources/unsubscribe':
        if (typeof uri === 'string') this.subscriptions.delete(uri);
        return;
      case 'logging/setLevel':
        if (typeof level === 'string') this.#logLevel = level;
        return;
      default:
        return;
    }
  }

  /** Re-applies what the previous process had been told: logging level, subscriptions. */
  async reapply(): Promise<void> {
    const { peer, log, timeoutMs } = this.#options;
    const requests: Promise<unknown>[] = [];
    if (this.#logLevel !== null) {
      requests.push(peer.request('logging/setLevel', { level: this.#logLevel }, timeoutMs));
    }
    for (const uri of this.subscriptions) {
      requests.push(peer.request('resources/subscribe', { uri }, timeoutMs));
    }
    for (const outcome of await Promise.allSettled(requests)) {
      if (outcome.status === 'rejected') {
        log.warn(`could not re-apply state after restart: ${String(outcome.reason)}`);
      }
    }
  }
}
