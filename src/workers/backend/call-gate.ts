/**
 * The door of one backend instance (a stdio process or a remote session): at most
 * `limits.maxConcurrentCallsPerServer` calls in flight at it; more wait here in arrival
 * order, at most `limits.maxQueuedCallsPerServer` of them; past that a call is refused at
 * once with OVERLOADED, so a flood of calls to one slow server costs a bounded amount of
 * memory and tells its callers why instead of timing them out one by one.
 *
 * A queued call keeps its deadline (its timeout counts from its arrival, not from when it
 * left the queue) and can be cancelled; either way it never reaches the backend.
 *
 * Hot path: with an empty queue and a free place (`open`) the call goes to the peer with no
 * allocation here, and the gate is not on the call's path
 * (docs/architecture.md#the-call-path). The queue is a Map by call id: insertion-ordered,
 * so the oldest is its first entry, and a cancelled or expired call leaves it in O(1).
 */
import type { CallRecorder } from './call-recorder.js';
import type { Limits } from '../../shared/config/types.js';
import { DirectorErrorCode, directorError } from '../../shared/errors.js';
import type { CallMessage, WorkerMessage } from '../../shared/messages.js';
import type { WireError } from '../../shared/errors.js';
import { failedReply } from '../../shared/messages.js';

/** What the gate lets calls through to: the backend's JSON-RPC peer. */
export interface GateTarget {
  /** Calls forwarded and not yet settled. */
  readonly inFlight: number;
  /** `waitedMs`: time spent queued, taken off the call's timeout. */
  forward(message: CallMessage, waitedMs?: number): void;
}

export interface CallGateOptions {
  server: string;
  limits: Pick<Limits, 'maxConcurrentCallsPerServer' | 'maxQueuedCallsPerServer'>;
  target: GateTarget;
  out: (message: WorkerMessage) => void;
  recorder: CallRecorder;
}

interface Queued {
  message: CallMessage;
  timeoutMs: number;
  /** Date.now() on arrival: the timeout counts from here. */
  ts: number;
  startedAt: bigint;
  timer: NodeJS.Timeout;
}

export class CallGate {
  readonly #server: string;
  readonly #maxConcurrent: number;
  readonly #maxQueued: number;
  readonly #target: GateTarget;
  readonly #out: (message: WorkerMessage) => void;
  readonly #recorder: CallRecorder;
  readonly #queue = new Map<number, Queued>();

  constructor(options: CallGateOptions) {
    this.#server = options.server;
    this.#maxConcurrent = Math.max(1, options.limits.maxConcurrentCallsPerServer);
    this.#maxQueued = Math.max(0, options.limits.maxQueuedCallsPerServer);
    this.#target = options.target;
    this.#out = options.out;
    this.#recorder = options.recorder;
  }

  /** Calls waiting for a place. */
  get queued(): number {
    return this.#queue.size;
  }

  /** No call waits and there is a free place: a call may go to the peer now. */
  get open(): boolean {
    return this.#queue.size === 0 && this.#target.inFlight < this.#maxConcurrent;
  }

  /** Queues a call that found the gate closed, or refuses it with OVERLOADED. */
  wait(message: CallMessage, timeoutMs: number): void {
    if (this.#queue.size >= this.#maxQueued) {
      this.#refuse(message, this.#overloaded());
      return;
    }
    const ts = Date.now();
    this.#queue.set(message.callId, {
      message,
      timeoutMs,
      ts,
      startedAt: process.hrtime.bigint(),
      timer: setTimeout(CallGate.#onQueuedTimeout, timeoutMs, this, message.callId),
    });
  }

  /** A call left the backend: the oldest queued calls take the free places. */
  pump(): void {
    while (this.#queue.size > 0 && this.#target.inFlight < this.#maxConcurrent) {
      const next = this.#queue.values().next().value as Queued;
      this.#queue.delete(next.message.callId);
      clearTimeout(next.timer);
      // A call whose deadline passed this very tick times out in the peer, worded the same.
      this.#target.forward(next.message, Date.now() - next.ts);
    }
  }

  /** Drops a queued call the client cancelled (no reply, as for any cancellation). */
  cancel(callId: number): boolean {
    const queued = this.#queue.get(callId);
    if (queued === undefined) return false;
    this.#queue.delete(callId);
    clearTimeout(queued.timer);
    this.#recorder.record(this.#facts(queued), { status: 'cancelled' });
    return true;
  }

  /** Answers every queued call with `error` (the backend exited or is stopping). */
  refuseAll(error: WireError): void {
    for (const queued of this.#queue.values()) {
      clearTimeout(queued.timer);
      this.#refuse(queued.message, error);
    }
    this.#queue.clear();
  }

  static #onQueuedTimeout(gate: CallGate, callId: number): void {
    gate.#expire(callId);
  }

  #expire(callId: number): void {
    const queued = this.#queue.get(callId);
    if (queued === undefined) return;
    this.#queue.delete(callId);
    const { method, target } = queued.message;
    const error = directorError(
      DirectorErrorCode.BackendTimeout,
      `Server '${this.#server}' did not answer ${method} '${target}' within ${queued.timeoutMs} ms: the call waited in its queue all that time behind ${this.#target.inFlight} calls in flight (limits.maxConcurrentCallsPerServer)`,
      { server: this.#server },
    );
    this.#out(failedReply(callId, error));
    this.#recorder.record(this.#facts(queued), { status: 'timeout', error });
  }

  #overloaded(): WireError {
    return directorError(
      DirectorErrorCode.Overloaded,
      `Server '${this.#server}' is overloaded: ${this.#target.inFlight} calls in flight (limits.maxConcurrentCallsPerServer = ${this.#maxConcurrent}) and ${this.#queue.size} waiting (limits.maxQueuedCallsPerServer = ${this.#maxQueued}); try again later`,
      { server: this.#server, inFlight: this.#target.inFlight, queued: this.#queue.size },
    );
  }

  #refuse(message: CallMessage, error: WireError): void {
    this.#out(failedReply(message.callId, error));
    this.#recorder.refused(message, error);
  }

  #facts(queued: Queued): Parameters<CallRecorder['record']>[0] {
    const { message } = queued;
    return {
      ts: queued.ts,
      startedAt: queued.startedAt,
      server: this.#server,
      method: message.method,
      target: message.target,
      context: message.context,
      bytesIn: 0,
    };
  }
}
