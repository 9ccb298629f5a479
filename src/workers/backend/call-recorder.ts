/**
 * Appends one analytics record per forwarded call
 * (docs/architecture.md#shared-code-and-analytics) through the shard's analytics store.
 * Recording never waits on the disk: the store buffers records and writes them in batches.
 */
import type { AnalyticsStore } from '../../shared/analytics/store.js';
import type { CallStatus } from '../../shared/analytics/types.js';
import type { CallContext, CallMessage, WireError } from '../../shared/messages.js';

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
}

export class CallRecorder {
  readonly #store: AnalyticsStore | null;

  /** `store` null: analytics are off and nothing is recorded. */
  constructor(store: AnalyticsStore | null) {
    this.#store = store;
  }

  get enabled(): boolean {
    return this.#store !== null;
  }

  record(call: CallFacts, status: CallStatus, errorCode: number | null, bytesOut: number): void {
    if (this.#store === null) return;
    const { context } = call;
    this.#store.record({
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
      latencyUs: Number((process.hrtime.bigint() - call.startedAt) / 1000n),
      bytesIn: call.bytesIn,
      bytesOut,
    });
  }

  /** Records a call answered with an error before it reached any backend. */
  refused(message: CallMessage, error: WireError): void {
    if (this.#store === null) return;
    const facts: CallFacts = {
      ts: Date.now(),
      startedAt: process.hrtime.bigint(),
      server: message.server,
      method: message.method,
      target: message.target,
      context: message.context,
      bytesIn: JSON.stringify(message.params).length,
    };
    this.record(facts, 'error', error.code, JSON.stringify(error).length);
  }

  /** Waits for the records written so far to be committed, then closes the store. */
  async close(): Promise<void> {
    if (this.#store === null) return;
    await this.#store.flushed();
    await this.#store.close();
  }
}
