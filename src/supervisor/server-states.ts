/**
 * The state of every backend as its shard reports it, for `/healthz` and `/api/servers`.
 * `/healthz` stays 503 until every backend has finished its first start, ready or failed,
 * so a script can wait for the daemon to be usable.
 */
import type { BackendState, ServerStateMessage } from '../shared/messages.js';

export interface ServerStatus {
  state: BackendState;
  restarts: number;
  error?: string;
  pid?: number;
  /** When the state last changed, ms since the epoch. */
  since: number;
}

export class ServerStates {
  readonly #states = new Map<string, ServerStatus>();
  readonly #settled = new Set<string>();

  constructor(serverIds: readonly string[]) {
    for (const id of serverIds)
      this.#states.set(id, { state: 'starting', restarts: 0, since: Date.now() });
  }

  update(message: ServerStateMessage): void {
    const status: ServerStatus = {
      state: message.state,
      restarts: message.restarts,
      since: Date.now(),
    };
    if (message.error !== undefined) status.error = message.error;
    if (message.pid !== undefined) status.pid = message.pid;
    this.#states.set(message.server, status);
    if (message.state === 'ready' || message.state === 'failed') this.#settled.add(message.server);
  }

  /** A server added by a config reload: starting, and not settled until it is. */
  add(server: string): void {
    this.#states.set(server, { state: 'starting', restarts: 0, since: Date.now() });
    this.#settled.delete(server);
  }

  /** A server removed by a config reload: no longer reported. */
  remove(server: string): void {
    this.#states.delete(server);
    this.#settled.delete(server);
  }

  get(server: string): ServerStatus | undefined {
    return this.#states.get(server);
  }

  /** Every backend has been ready or has failed at least once. */
  get settled(): boolean {
    return this.#settled.size === this.#states.size;
  }

  entries(): IterableIterator<[string, ServerStatus]> {
    return this.#states.entries();
  }
}
