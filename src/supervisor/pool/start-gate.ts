/**
 * Calls to a server that is not ready yet wait in the supervisor instead of failing: while
 * the daemon starts, while a server restarts after a crash, and while a lazy or idle server
 * (`"start": "lazy"`, `idleStopMs`) is started for the call. Each held call waits at most
 * `limits.startWaitMs`, then gets BACKEND_UNAVAILABLE saying the server is still starting.
 *
 * The gate knows each shared server's state as its worker last reported it. The worker may
 * be ahead (it restarted or stopped an idle server while a call was on its way); it then
 * refuses the call naming its state, and the call comes back here for the rest of its time
 * (`refusedAsStarting`). Servers with `share: "session"` are not gated: their worker queues
 * a session's calls while that session's own process starts.
 */
import type { ServerConfig } from '../../shared/config/types.js';
import { DirectorErrorCode, directorCodeOf, directorError } from '../../shared/errors.js';
import type { BackendState } from '../../shared/messages.js';
import type { WireError } from '../../shared/errors.js';

/** States a call waits out: the server will be ready soon, or is being started for it. */
const WAITED_OUT: ReadonlySet<string> = new Set<BackendState>(['starting', 'restarting', 'idle']);

export interface StartGateEvents {
  /** The server is ready: the held call goes to its worker now. */
  release(callId: number): void;
  /** The held call is answered with this error (no time left, or the start failed). */
  refuse(callId: number, error: WireError): void;
  /** The server is idle and calls wait for it: ask its worker to start it. */
  wake(server: string): void;
}

export class StartGate {
  readonly #waitMs: number;
  readonly #events: StartGateEvents;
  /** Shared servers, by id: their calls are gated. */
  readonly #states = new Map<string, BackendState>();
  /** Per-session servers (their shared catalog instance), by id: known, never gated. */
  readonly #ungated = new Map<string, BackendState>();
  /** Per server, its held calls in arrival order: call id → deadline timer. */
  readonly #held = new Map<string, Map<number, NodeJS.Timeout>>();
  /** Idle servers already asked to start, so a burst of calls sends one `start-server`. */
  readonly #woken = new Set<string>();

  constructor(waitMs: number, events: StartGateEvents) {
    this.#waitMs = waitMs;
    this.#events = events;
  }

  get waitMs(): number {
    return this.#waitMs;
  }

  /** A configured server: eager ones start with their shard, lazy ones are idle. */
  track(server: ServerConfig): void {
    const state = server.start === 'lazy' ? 'idle' : 'starting';
    if (server.share === 'global') this.#states.set(server.id, state);
    else this.#ungated.set(server.id, state);
    this.#woken.delete(server.id);
  }

  /**
   * A server removed from the config: no longer gated. Its held calls stay pending with the
   * caller, which answers them as removed.
   */
  forget(server: string): void {
    for (const timer of this.#held.get(server)?.values() ?? []) clearTimeout(timer);
    this.#held.delete(server);
    this.#states.delete(server);
    this.#ungated.delete(server);
    this.#woken.delete(server);
  }

  /** A configured server's state as its worker last reported it. */
  state(server: string): BackendState | undefined {
    return this.#states.get(server) ?? this.#ungated.get(server);
  }

  /** The hot path: whether a call can go to the worker now. */
  open(server: string): boolean {
    const state = this.#states.get(server);
    return state === undefined || state === 'ready' || !WAITED_OUT.has(state);
  }

  /** Holds a call until the server is ready, the start fails, or `deadline` passes. */
  hold(server: string, callId: number, deadline: number): void {
    const timer = setTimeout(
      () => this.#expire(server, callId),
      Math.max(0, deadline - Date.now()),
    );
    let held = this.#held.get(server);
    if (held === undefined) this.#held.set(server, (held = new Map()));
    held.set(callId, timer);
    if (this.#states.get(server) === 'idle') this.wake(server);
  }

  /** A held call the client cancelled: it is forgotten. */
  drop(server: string, callId: number): void {
    const held = this.#held.get(server);
    const timer = held?.get(callId);
    if (held === undefined || timer === undefined) return;
    clearTimeout(timer);
    held.delete(callId);
    if (held.size === 0) this.#held.delete(server);
  }

  /** Asks the worker to start an idle server (once per idle spell). */
  wake(server: string): void {
    if (this.state(server) !== 'idle' || this.#woken.has(server)) return;
    this.#woken.add(server);
    this.#events.wake(server);
  }

  /** The worker reported a new state: held calls go on, fail, or keep waiting. */
  changed(server: string, state: BackendState, error?: string): void {
    if (state !== 'idle') this.#woken.delete(server);
    if (this.#ungated.has(server)) this.#ungated.set(server, state);
    if (!this.#states.has(server)) return;
    this.#states.set(server, state);
    const held = this.#held.get(server);
    if (held === undefined) return;
    if (state === 'idle') {
      this.wake(server); // stopped when idle, or a new worker, while calls wait
      return;
    }
    if (WAITED_OUT.has(state)) return;
    this.#held.delete(server);
    for (const [callId, timer] of held) {
      clearTimeout(timer);
      if (state === 'ready') this.#events.release(callId);
      else this.#events.refuse(callId, notStarted(server, state, error));
    }
  }

  /**
   * Whether a worker's refusal says the server is not ready yet (its state was ahead of
   * ours); if so that state is taken as the server's, so the caller can hold the call again.
   */
  refusedAsStarting(server: string, error: WireError): boolean {
    if (!this.#states.has(server)) return false;
    if (directorCodeOf(error) !== DirectorErrorCode.BackendUnavailable) return false;
    const data = error.data as { state?: unknown };
    const state = data.state;
    if (typeof state !== 'string' || !WAITED_OUT.has(state)) return false;
    // Worker messages arrive in order, so the refusal is newer than any state seen so far.
    this.changed(server, state as BackendState);
    return true;
  }

  /** The daemon stops: every held call is answered with `error`. */
  refuseAll(error: WireError): void {
    const held = [...this.#held.values()];
    this.#held.clear();
    for (const calls of held) {
      for (const [callId, timer] of calls) {
        clearTimeout(timer);
        this.#events.refuse(callId, error);
      }
    }
  }

  #expire(server: string, callId: number): void {
    const held = this.#held.get(server);
    if (held === undefined || !held.delete(callId)) return;
    if (held.size === 0) this.#held.delete(server);
    this.#events.refuse(callId, stillStarting(server, this.#states.get(server), this.#waitMs));
  }
}

/** What a call gets when its server did not become ready within `limits.startWaitMs`. */
export function stillStarting(
  server: string,
  state: BackendState | undefined,
  waitMs: number,
): WireError {
  return directorError(
    DirectorErrorCode.BackendUnavailable,
    `Server '${server}' is still starting; the call waited ${waitMs} ms for it ("limits.startWaitMs"). Try again shortly.`,
    { server, state: state ?? 'starting', waitedMs: waitMs },
  );
}

function notStarted(server: string, state: BackendState, error: string | undefined): WireError {
  const why = error === undefined ? '' : `: ${error}`;
  return directorError(
    DirectorErrorCode.BackendUnavailable,
    state === 'failed'
      ? `Server '${server}' failed to start${why}`
      : state === 'needs-auth' && error !== undefined
        ? error // says which command signs it in
        : `Server '${server}' is not available (${state})${why}`,
    { server, state },
  );
}
