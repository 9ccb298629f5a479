/**
 * The state of every backend as its shard reports it, for `/healthz` and `/api/servers`.
 * `/healthz` stays 503 until every backend has finished its first start, ready or failed,
 * so a script can wait for the daemon to be usable. A lazy server is `idle` until a client
 * needs it, and idle counts as settled: nobody waits for a start that nobody asked for.
 */
import type { ServerConfig } from '../../shared/config/types.js';
import type { BackendState, ServerStateMessage } from '../../shared/messages.js';

/** What a server is before its worker says anything. */
type StartMode = Pick<ServerConfig, 'id' | 'start'>;

function initialState(server: StartMode): BackendState {
  return server.start === 'lazy' ? 'idle' : 'starting';
}

export interface ServerStatus {
  state: BackendState;
  restarts: number;
  error?: string;
  pid?: number;
  /** When the state last changed, ms since the epoch. */
  since: number;
}

/** States a first start ends in: the daemon is settled (/healthz 200) once every server is. */
const SETTLED: ReadonlySet<BackendState> = new Set<BackendState>([
  'ready',
  'failed',
  'idle',
  'needs-auth',
]);

export class ServerStates {
  readonly #states = new Map<string, ServerStatus>();
  readonly #settled = new Set<string>();

  constructor(servers: readonly StartMode[]) {
    for (const server of servers) this.add(server);
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
    if (SETTLED.has(message.state)) this.#settled.add(message.server);
  }

  /** A server at start or added by a config reload: starting (not settled) or idle. */
  add(server: StartMode): void {
    const state = initialState(server);
    this.#states.set(server.id, { state, restarts: 0, since: Date.now() });
    if (state === 'idle') this.#settled.add(server.id);
    else this.#settled.delete(server.id);
  }

  /** A server removed by a config reload: no longer reported. */
  remove(server: string): void {
    this.#states.delete(server);
    this.#settled.delete(server);
  }

  get(server: string): ServerStatus | undefined {
    return this.#states.get(server);
  }

  /** Every backend has been ready or has failed at least once, or is idle. */
  get settled(): boolean {
    return this.#settled.size === this.#states.size;
  }

  entries(): IterableIterator<[string, ServerStatus]> {
    return this.#states.entries();
  }
}
