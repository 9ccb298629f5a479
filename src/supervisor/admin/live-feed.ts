/**
 * The live feed behind `/api/events`: finished calls and server state changes, pushed to
 * whoever watches. The shards send finished calls only while someone watches (`live-calls`
 * in shared/messages.ts), so the feed costs nothing when nobody reads it. Each watcher sees
 * what its token may see on `/api`: an admin everything, a profile's token that profile's
 * calls and servers.
 */
import type { LiveCall } from '../../shared/analytics/finished-calls.js';
import { isCallersInstance, type ServerStateMessage } from '../../shared/messages.js';
import type { ApiScope } from '../ingress/access.js';

export interface FeedWatcher {
  scope: ApiScope;
  send(event: 'call' | 'server', data: object): void;
}

export class LiveFeed {
  readonly #watchers = new Set<FeedWatcher>();
  readonly #setLiveCalls: (on: boolean) => void;
  readonly #sees: (scope: ApiScope, server: string) => boolean;

  constructor(
    setLiveCalls: (on: boolean) => void,
    sees: (scope: ApiScope, server: string) => boolean,
  ) {
    this.#setLiveCalls = setLiveCalls;
    this.#sees = sees;
  }

  /** Adds a watcher; the returned function removes it. */
  watch(watcher: FeedWatcher): () => void {
    this.#watchers.add(watcher);
    if (this.#watchers.size === 1) this.#setLiveCalls(true);
    return () => {
      if (this.#watchers.delete(watcher) && this.#watchers.size === 0) this.#setLiveCalls(false);
    };
  }

  get watchers(): number {
    return this.#watchers.size;
  }

  calls(calls: readonly LiveCall[]): void {
    for (const watcher of this.#watchers) {
      for (const call of calls) {
        if (watcher.scope.admin || call.profile === watcher.scope.profile) {
          watcher.send('call', call);
        }
      }
    }
  }

  serverState(message: ServerStateMessage): void {
    if (isCallersInstance(message)) return; // a caller's own instance: not a server's state
    const data = { server: message.server, state: message.state, restarts: message.restarts };
    for (const watcher of this.#watchers) {
      if (this.#sees(watcher.scope, message.server)) watcher.send('server', data);
    }
  }
}
