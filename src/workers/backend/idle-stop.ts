/**
 * When a backend has been unused for its `idleStopMs`: one timer per backend, armed while
 * it is ready. A call only records the time (one clock read, no timer work on the hot
 * path); when the timer fires early because calls came meanwhile, it is set again for the
 * rest. A backend that is busy when the time is up (calls in flight, a live resource
 * subscription) counts as used then, so it stops one to two periods after it stopped being
 * busy, never in the middle of a call.
 */
export interface IdleStopOptions {
  /** Unused for this long, the backend is stopped; > 0. */
  idleMs: number;
  /** Whether something still needs the process (calls in flight, subscriptions). */
  busy: () => boolean;
  /** Stops the process; the backend goes `idle` and keeps its catalog. */
  stop: () => void;
}

export class IdleStop {
  readonly #options: IdleStopOptions;
  #lastUse = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: IdleStopOptions) {
    this.#options = options;
  }

  /** A call came: the idle period starts again. */
  touch(): void {
    this.#lastUse = Date.now();
  }

  /** The backend is ready: the idle period starts now. */
  arm(): void {
    this.touch();
    this.#schedule(this.#options.idleMs);
  }

  /** The process is gone (exit, stop): nothing to stop any more. */
  disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(ms: number): void {
    this.disarm();
    this.#timer = setTimeout(IdleStop.#onDue, ms, this);
    // An idle timer must never keep a stopping worker alive.
    this.#timer.unref();
  }

  static #onDue(idle: IdleStop): void {
    idle.#timer = null;
    const { idleMs, busy, stop } = idle.#options;
    const unused = Date.now() - idle.#lastUse;
    if (unused < idleMs) {
      idle.#schedule(idleMs - unused);
    } else if (busy()) {
      idle.touch();
      idle.#schedule(idleMs);
    } else {
      stop();
    }
  }
}
