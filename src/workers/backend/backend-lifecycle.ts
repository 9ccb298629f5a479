/**
 * One backend's processes, one after another (docs/architecture.md#processes-and-failure):
 * when each starts (`BackendProcess`, `backend-process.ts`, spawns it and runs the start
 * sequence), exits, restarts with backoff, the idle stop, the stop, and every state change sent
 * as `server-state`. `Backend` owns the traffic and asks this for the state.
 *
 * States (every change, and every new pid, is sent as `server-state`):
 *   starting ─▶ ready ─exit─▶ restarting ─▶ ready …
 *      │                          │ 5 failures in a row
 *      └─ first start fails ─▶ failed ◀┘   (retries continue with capped backoff) ─▶ ready
 *   any ─stop─▶ stopped
 *   idle ─wake (a call, a list)─▶ starting;  ready ─idleStopMs unused─▶ idle
 *   an admin (`control-server`): restart ─▶ restarting ─▶ ready;  stop ─▶ stopped ─start─▶ starting
 * A lazy server (`"start": "lazy"`) begins `idle`. An idle server has no process; the
 * catalog it sent while it ran stays listed (the supervisor keeps it), so a call to one of
 * its tools starts it again.
 */
import type { BackendPeer, InFlight } from './backend-peer.js';
import { BackendProcess, type ProcessOptions } from './backend-process.js';
import type { Sink } from './wires.js';
import type { CallGate } from './call-gate.js';
import type { CatalogKeeper } from './catalog-keeper.js';
import {
  exitCause,
  exitSummary,
  inFlightError,
  queuedCallError,
  withStderr,
} from './exit-reason.js';
import type { IdleStop } from './idle-stop.js';
import type { ListenStream } from './listen-stream.js';
import { isCrashLoop, nextFailureCount, restartDelayMs } from './restart-policy.js';
import type { ChildExit } from '../channels/stdio.js';
import type { ServerConfig } from '../../shared/config/types.js';
import type { Logger } from '../../shared/log.js';
import type { BackendState, ServerStateMessage } from '../../shared/messages.js';
import type { WireError } from '../../shared/errors.js';

/** What the process needs (`backend-process.ts`), and the gate of the backend's calls. */
export interface LifecycleOptions extends ProcessOptions {
  gate: CallGate;
}

export class BackendLifecycle {
  readonly #server: string;
  readonly #config: ServerConfig;
  readonly #out: Sink;
  readonly #log: Logger;
  readonly #peer: BackendPeer;
  readonly #gate: CallGate;
  /** The current process: its channel, its start, its catalog (`backend-process.ts`). */
  readonly #process: BackendProcess;
  readonly catalog: CatalogKeeper;
  /** Stateless servers only: where their list changes and resource updates come. */
  readonly listen: ListenStream;
  /** Null when the server has no `idleStopMs`. */
  readonly idleStop: IdleStop | null;
  #state: BackendState = 'starting';
  #restarts = 0;
  #failures = 0;
  #everReady = false;
  #readyAt: number | null = null;
  /** One line: why the backend is not running (for call errors). */
  #lastCause: string | undefined;
  /** The cause plus the last stderr lines (for server-state and logs). */
  #lastError: string | undefined;
  #restartTimer: NodeJS.Timeout | null = null;
  #stopRequested = false;
  #stopping: Promise<void> | null = null;
  /** stop() was called (shutdown, removal): final, unlike an admin's stop. */
  #stopFinal = false;
  /** Stopped by an admin (`hold`): stays stopped until `resume` or `restartNow`. */
  #held = false;
  /** The exit under way was asked for by an admin's restart: start again at once. */
  #restartAsked = false;
  /** Stopping because it was unused; its exit leads to `idle`, not to a restart. */
  #idling = false;
  /** A call came while the idle stop was under way: start again once the process is gone. */
  #wakeAfterIdle = false;

  constructor(options: LifecycleOptions) {
    const { config, peer, log, out } = options;
    this.#server = config.id;
    this.#config = config;
    this.#out = out;
    this.#log = log;
    this.#peer = peer;
    this.#gate = options.gate;
    this.#process = new BackendProcess(options, {
      ready: () => this.#state === 'ready',
      stopRequested: () => this.#stopRequested,
      announce: () => this.#announce(),
      started: () => this.#started(),
      stopIdle: () => this.#stopIdle(),
    });
    this.catalog = this.#process.catalog;
    this.listen = this.#process.listen;
    this.idleStop = this.#process.idleStop;
  }

  get state(): BackendState {
    return this.#state;
  }

  /** One line: why the backend is not running (for call errors). */
  get lastCause(): string | undefined {
    return this.#lastCause;
  }

  /** Starts the process, or for a lazy server reports `idle` until something needs it. */
  start(): void {
    if (this.#config.start === 'lazy') this.#setState('idle');
    else this.#spawn();
  }

  /** A call or a client's list needs the server: an idle one starts; others are left be. */
  wake(): void {
    if (this.#state !== 'idle' || this.#stopRequested) return;
    if (this.#idling) {
      this.#wakeAfterIdle = true;
      return;
    }
    this.#log.info('starting: it is needed');
    this.#state = 'starting';
    this.#spawn();
  }

  #spawn(): void {
    this.#restartTimer = null;
    this.#process.spawn();
  }

  /** The start sequence got to the end (`BackendProcess`): the backend is ready. */
  #started(): void {
    this.#everReady = true;
    this.#readyAt = Date.now();
    this.#lastCause = undefined;
    this.#lastError = undefined;
    this.#setState('ready');
  }

  /** The child has exited (or the connection is lost): what comes next. */
  exited(exit: ChildExit): void {
    const channel = this.#process.channel;
    this.#process.exited();
    this.listen.close();
    this.#failInFlight(exit);
    this.catalog.cancelRefresh();
    if (this.#stopRequested) {
      this.#setState('stopped');
      return;
    }
    if (this.#restartAsked) {
      this.#restartAsked = false;
      this.#afterAdminRestart();
      return;
    }
    if (exit.needsAuth !== undefined) {
      // Restarting would be refused again: waits for `auth login`, which restarts it.
      this.#lastCause = this.#lastError = exit.needsAuth;
      if (this.#state !== 'needs-auth') this.#log.warn(exit.needsAuth);
      this.#setState('needs-auth');
      return;
    }
    if (this.#process.refusal !== null) {
      // Restarting would find itself again: failed until the config changes.
      this.#lastCause = this.#lastError = this.#process.refusal;
      this.#log.error(this.#process.refusal);
      this.#setState('failed');
      return;
    }
    if (this.#idling) {
      this.#idling = false;
      if (!this.#wakeAfterIdle) return this.#setState('idle');
      this.#wakeAfterIdle = false;
      this.#state = 'starting';
      this.#spawn();
      return;
    }
    const cause = this.#process.startFailure ?? exitCause(exit, this.#config);
    const reason = withStderr(cause, channel?.stderrTail ?? []);
    const readyFor =
      this.#state === 'ready' && this.#readyAt !== null ? Date.now() - this.#readyAt : null;
    this.#failures = nextFailureCount(this.#failures, readyFor);
    this.#readyAt = null;
    const delay = restartDelayMs(this.#failures);
    this.#lastCause = cause;
    this.#lastError = reason;
    const next = isCrashLoop(this.#failures, this.#everReady) ? 'failed' : 'restarting';
    // Retries of a failed backend go on for as long as the daemon runs; say so once.
    const log =
      next === 'restarting'
        ? this.#log.warn
        : this.#state === 'failed'
          ? this.#log.debug
          : this.#log.error;
    log(`${next}, next start in ${delay} ms: ${reason}`);
    this.#setState(next);
    this.#restartTimer = setTimeout(BackendLifecycle.#onRestartDue, delay, this);
  }

  /** Unused for `idleStopMs`: the process stops, the catalog stays, a call starts it again. */
  #stopIdle(): void {
    if (this.#state !== 'ready' || !this.#process.live || this.#process.channel === null) return;
    this.#log.info(
      `stopping: no call for ${this.#config.idleStopMs} ms ("idleStopMs"); its tools stay listed and the next call starts it again`,
    );
    this.#idling = true;
    this.#state = 'idle'; // announced once the process is gone; calls meanwhile wake it
    void this.#process.channel.stop();
  }

  static #onRestartDue(lifecycle: BackendLifecycle): void {
    if (lifecycle.#stopRequested) return;
    lifecycle.#restarts++;
    lifecycle.#spawn();
  }

  #failInFlight(exit: ChildExit): void {
    const server = this.#server;
    const stopped = this.#stopRequested;
    const summary = exitSummary(exit);
    const errorFor = (call: InFlight): WireError =>
      inFlightError(server, exit, summary, stopped, call);
    this.#peer.detach(errorFor, `server exited (${summary})`);
    // Queued calls never reached it; the restart takes a while and they have deadlines.
    this.#gate.refuseAll(queuedCallError(server, summary, stopped, exit.needsAuth));
  }

  /** Stops the child (stdin close, SIGTERM, SIGKILL) for good; resolves once it is gone. */
  stop(): Promise<void> {
    this.#stopFinal = true;
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  // ─────────────── an admin's controls (`control-server`, shared/messages.ts) ───────────────

  /**
   * An admin's restart: a running process is stopped and, once it has exited, the next one
   * starts at once on the supervised path (`restarting`, restarts + 1). Without a process
   * (failed, waiting to retry, idle, stopped by an admin) it starts now.
   */
  restartNow(): void {
    if (this.#stopFinal) return;
    if (this.#held) return this.resume();
    const cause = `restarted by an admin (POST /api/servers/${this.#server}/restart)`;
    if (this.#state === 'idle') return this.wake(); // also one whose idle stop is under way
    if (this.#process.live && this.#process.channel !== null) {
      if (this.#restartAsked) return; // already on its way down
      this.#log.info(`restarting: ${cause}`);
      this.#restartAsked = true;
      this.#lastCause = this.#lastError = cause;
      void this.#process.channel.stop();
      return;
    }
    this.#startNow();
  }

  /** An admin's stop: like a removal's, but the server stays configured and may start again. */
  hold(): Promise<void> {
    if (this.#stopFinal) return this.#stopping ?? Promise.resolve();
    if (!this.#held)
      this.#log.info(`stopping: an admin asked (POST /api/servers/${this.#server}/stop)`);
    this.#held = true;
    this.#restartAsked = false;
    this.#lastCause = `stopped by an admin; POST /api/servers/${this.#server}/start starts it again`;
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  /**
   * An admin's start: a server the admin stopped starts once its process is gone; an idle one,
   * or one waiting to retry, starts now; a running one is left as it is.
   */
  resume(): void {
    if (this.#stopFinal) return;
    if (!this.#held) {
      if (this.#state === 'idle') this.wake();
      else if (!this.#process.live) this.#startNow();
      return;
    }
    this.#held = false;
    const stopping = this.#stopping ?? Promise.resolve();
    void stopping.then(() => {
      // Stopped again, or for good, while the last process was still going away.
      if (this.#held || this.#stopFinal || this.#stopping !== stopping) return;
      this.#log.info(`starting: an admin asked (POST /api/servers/${this.#server}/start)`);
      this.#stopRequested = false;
      this.#stopping = null;
      this.#failures = 0;
      this.#lastCause = this.#lastError = undefined;
      this.#state = 'starting';
      this.#spawn();
    });
  }

  /** No process now (failed, waiting to retry, idle): start one at once. */
  #startNow(): void {
    if (this.#state === 'starting') return; // a start is already under way
    if (this.#restartTimer !== null) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    this.#failures = 0;
    this.#state = 'restarting';
    BackendLifecycle.#onRestartDue(this);
  }

  /** The process an admin's restart stopped is gone: the supervised restart, without a wait. */
  #afterAdminRestart(): void {
    this.#failures = 0;
    this.#readyAt = null;
    this.#setState('restarting');
    this.#restartTimer = setTimeout(BackendLifecycle.#onRestartDue, 0, this);
  }

  async #shutdown(): Promise<void> {
    this.#stopRequested = true;
    this.idleStop?.disarm();
    if (this.#restartTimer !== null) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    this.catalog.cancelRefresh();
    this.listen.cancelReopen();
    if (this.#process.live && this.#process.channel !== null) {
      await this.#process.channel.stop(); // its exit sets 'stopped'
    } else {
      this.#setState('stopped');
    }
  }

  #setState(state: BackendState): void {
    this.#state = state;
    this.#announce();
  }

  /** Sends the current state; `pid` only while the process lives (a stale pid could be reused). */
  #announce(): void {
    const message: ServerStateMessage = {
      type: 'server-state',
      server: this.#server,
      state: this.#state,
      restarts: this.#restarts,
    };
    const pid = this.#process.live ? this.#process.channel?.pid : undefined;
    if (pid !== undefined) message.pid = pid;
    if (this.#lastError !== undefined && this.#state !== 'ready' && this.#state !== 'stopped') {
      message.error = this.#lastError;
    }
    this.#out(message);
  }
}
