/**
 * Counts finished calls by (server, method, tool, outcome) with their latency buckets, for
 * `/metrics` (the `call-stats` message of shared/messages.ts). The label set is bounded: a
 * tool label only for tools and prompts (a resource URI is unbounded), and at most
 * `MAX_TOOLS_PER_SERVER` names per server, beyond which calls count as `(other)`.
 */
import {
  CALL_LATENCY_BUCKETS_S,
  type CallStatsRow,
} from '../../shared/analytics/finished-calls.js';

export const MAX_TOOLS_PER_SERVER = 200;
export const OTHER_TOOL = '(other)';

const NAMED_METHODS = new Set(['tools/call', 'prompts/get']);

export class CallStats {
  #rows = new Map<string, CallStatsRow>();
  /** Tool names already given a label, per server (kept across takes, so the cap holds). */
  readonly #tools = new Map<string, Set<string>>();

  add(
    server: string,
    method: string,
    target: string,
    outcome: CallStatsRow['outcome'],
    latencyUs: number,
  ): void {
    const tool = NAMED_METHODS.has(method) ? this.#label(server, target) : '';
    const key = `${server}\u0000${method}\u0000${tool}\u0000${outcome}`;
    let row = this.#rows.get(key);
    if (row === undefined) {
      row = {
        server,
        method,
        tool,
        outcome,
        count: 0,
        buckets: new Array<number>(CALL_LATENCY_BUCKETS_S.length + 1).fill(0),
        sumSeconds: 0,
      };
      this.#rows.set(key, row);
    }
    const seconds = latencyUs / 1e6;
    let bucket = 0;
    while (bucket < CALL_LATENCY_BUCKETS_S.length && seconds > CALL_LATENCY_BUCKETS_S[bucket]!)
      bucket++;
    row.buckets[bucket]! += 1;
    row.count += 1;
    row.sumSeconds += seconds;
  }

  /** The rows since the last take, or undefined when no call finished. */
  take(): CallStatsRow[] | undefined {
    if (this.#rows.size === 0) return undefined;
    const rows = [...this.#rows.values()];
    this.#rows = new Map();
    return rows;
  }

  #label(server: string, tool: string): string {
    let seen = this.#tools.get(server);
    if (seen === undefined) this.#tools.set(server, (seen = new Set()));
    if (seen.has(tool)) return tool;
    if (seen.size >= MAX_TOOLS_PER_SERVER) return OTHER_TOOL;
    seen.add(tool);
    return tool;
  }
}
