/**
 * Appends one analytics record per forwarded call
 * (docs/architecture.md#shared-code-and-analytics) through the shard's analytics store, and
 * counts it for `/metrics` (call-stats.ts).
 * Recording never waits on the disk: the store buffers records and writes them in batches.
 */
import type { AnalyticsStore } from '../../shared/analytics/store.js';
import type { CallRecord, CallStatus } from '../../shared/analytics/types.js';
import type { LiveCall } from '../../shared/analytics/finished-calls.js';
import type { CallContext, CallMessage } from '../../shared/messages.js';
import type { WireError } from '../../shared/errors.js';
import type { JsonObject } from '../../shared/json.js';
import { CallStats } from './call-stats.js';
import type { CallSpan, CallTracer, TracedCall } from './call-telemetry.js';

/** What the worker knows of a call when it arrives. */
export interface CallFacts {
  /** Date.now() on arrival. */
  ts: number;
  /** process.hrtime.bigint() on arrival, for the latency. */
  startedAt: bigint;
  server: string;
  method: string;
  target: string;
  context: CallContext;
  /** JSON length of the params as forwarded. */
  bytesIn: number;
  /** The call's trace span, when tracing is on. */
  span?: CallSpan;
  /** The params as forwarded, shortened: only for servers with `recordPayloads`. */
  request?: string;
}

/** How a call ended. */
export interface CallOutcome {
  status: CallStatus;
  /** What the caller was answered when the call failed: its code and message are recorded. */
  error?: WireError | null;
  /** JSON length of the answer. */
  bytesOut?: number;
  /** A tool's own error text (`isError: true`). */
  errorText?: string;
  /** The result's JSON text: only for servers with `recordPayloads`. */
  response?: string;
}

/** A payload is kept to this many characters: a record stays bounded. */
const PAYLOAD_MAX = 16 * 1024;

/** A payload for the record, shortened. */
export function payload(text: string): string {
  return text.length <= PAYLOAD_MAX ? text : `${text.slice(0, PAYLOAD_MAX - 1)}…`;
}

/** Error texts are kept to this many characters: enough to read, bounded per record. */
const ERROR_TEXT_MAX = 500;

function shorten(text: string): string {
  return text.length <= ERROR_TEXT_MAX ? text : `${text.slice(0, ERROR_TEXT_MAX - 1)}…`;
}

export class CallRecorder {
  readonly #store: AnalyticsStore | null;
  /** Counts for `/metrics`, kept whether or not analytics are on. */
  readonly stats = new CallStats();
  /** The calls finished since the last take, while someone watches live; else null. */
  #live: LiveCall[] | null = null;

  /** Starts (or stops) keeping finished calls for the live feed. */
  set live(on: boolean) {
    this.#live = on ? (this.#live ?? []) : null;
  }

  /** The calls kept for the live feed since the last take, if any. */
  takeLive(): LiveCall[] | undefined {
    if (this.#live === null || this.#live.length === 0) return undefined;
    const calls = this.#live;
    this.#live = [];
    return calls;
  }

  readonly #tracer: CallTracer | null;

  /**
   * `store` null: analytics are off and no record is written (the counts still are).
   * `tracer` null: no spans (telemetry.otlp is not configured).
   */
  constructor(store: AnalyticsStore | null, tracer: CallTracer | null = null) {
    this.#store = store;
    this.#tracer = tracer;
  }

  /** A span for a call about to be forwarded, when tracing is on. */
  startSpan(call: TracedCall, params: JsonObject): CallSpan | undefined {
    return this.#tracer?.start(call, params);
  }

  get enabled(): boolean {
    return this.#store !== null;
  }

  record(call: CallFacts, outcome: CallOutcome): void {
    const { status, bytesOut = 0, errorText } = outcome;
    const error = outcome.error ?? null;
    const errorCode = error === null ? null : error.code;
    call.span?.end(status, error, errorText);
    const latencyUs = Number((process.hrtime.bigint() - call.startedAt) / 1000n);
    this.stats.add(call.server, call.method, call.target, status, latencyUs);
    const message = error === null ? errorText : error.message;
    this.#live?.push({
      ts: call.ts,
      server: call.server,
      method: call.method,
      target: call.target,
      status,
      errorCode,
      ...(message !== undefined && { error: shorten(message) }),
      latencyUs,
      profile: call.context.profile,
      client: call.context.client,
    });
    if (this.#store === null) return;
    const { context } = call;
    // A literal with every field, the optional ones added after: spreading a conditional
    // object (`...(x && {…})`) took a slow path on every call (measured in the shard's profile).
    const record: CallRecord = {
      ts: call.ts,
      profile: context.profile,
      client: context.client,
      session: context.session,
      server: call.server,
      method: call.method,
      target: call.target,
      era: context.era,
      status,
      errorCode,
      latencyUs,
      bytesIn: call.bytesIn,
      bytesOut,
    };
    if (message !== undefined) record.error = shorten(message);
    if (call.request !== undefined) record.request = call.request;
    if (outcome.response !== undefined) record.response = payload(outcome.response);
    this.#store.record(record);
  }

  /** Records a call answered with an error before it reached any backend. */
  refused(message: CallMessage, error: WireError): void {
    const facts: CallFacts = {
      ts: Date.now(),
      startedAt: process.hrtime.bigint(),
      server: message.server,
      method: message.method,
      target: message.target,
      context: message.context,
      bytesIn: this.#store === null ? 0 : JSON.stringify(message.params).length,
    };
    const bytesOut = this.#store === null ? 0 : JSON.stringify(error).length;
    this.record(facts, { status: 'error', error, bytesOut });
  }

  /** Exports the spans and waits for the records written so far, then closes the store. */
  async close(): Promise<void> {
    await this.#tracer?.shutdown().catch(() => {});
    if (this.#store === null) return;
    await this.#store.flushed();
    await this.#store.close();
  }
}
