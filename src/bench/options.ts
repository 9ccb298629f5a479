/**
 * The settings of one benchmark run, their defaults and their checks. Kept free of the
 * drivers' imports, so the command line can declare its flags without loading them.
 */
export const WORKLOADS = ['call', 'list', 'mixed', 'connect'] as const;
export type WorkloadKind = (typeof WORKLOADS)[number];

export interface Workload {
  kind: WorkloadKind;
  /** Tools called in rotation (`call` and `mixed`). */
  tools: string[];
  /** The arguments of every call. */
  args: unknown;
}

/** The HTTP clients carrying the calls: http/raw-http.ts, or undici. */
export const ENGINES = ['raw', 'undici'] as const;
export type Engine = (typeof ENGINES)[number];

export interface LoadOptions {
  workload: Workload;
  /** MCP sessions; connections are spread over them (HTTP). At least one per thread. */
  sessions: number;
  /** Keep-alive connections (HTTP) or calls in flight (stdio), in total. */
  connections: number;
  /** Driver threads (HTTP). */
  threads: number;
  /** Requests in flight per connection in the closed loop (HTTP). */
  pipelining: number;
  engine: Engine;
  /** Measured seconds after the warm-up; with `calls`, the longest the window may last. */
  durationS: number;
  /** Seconds of load before measuring: JIT, connections, backends started lazily. */
  warmupS: number;
  /** Measured calls after which the run stops (0: run for the duration). */
  calls: number;
  /** Calls started per second in total (open loop), or 0 for the closed loop. */
  rate: number;
  /** A call unanswered after this long is an error (`timeout`). */
  requestTimeoutMs: number;
}

export const defaultLoadOptions: LoadOptions = {
  workload: { kind: 'call', tools: [], args: {} },
  sessions: 0,
  connections: 16,
  threads: 2,
  pipelining: 1,
  engine: 'raw',
  durationS: 10,
  warmupS: 3,
  calls: 0,
  rate: 0,
  requestTimeoutMs: 10_000,
};

/** The longest a run measures when it stops by call count. */
export const CALLS_MAX_DURATION_S = 600;

/** Throws a RangeError naming the first setting out of range. */
export function checkLoadOptions(options: LoadOptions): void {
  const positive = ['connections', 'threads', 'pipelining', 'requestTimeoutMs'] as const;
  for (const key of positive) {
    if (!Number.isInteger(options[key]) || options[key] < 1) {
      throw new RangeError(`${key} must be a positive integer, got ${options[key]}`);
    }
  }
  const nonNegative = ['sessions', 'calls'] as const;
  for (const key of nonNegative) {
    if (!Number.isInteger(options[key]) || options[key] < 0) {
      throw new RangeError(`${key} must be a whole number, got ${options[key]}`);
    }
  }
  if (!(options.durationS > 0)) throw new RangeError('duration must be > 0');
  if (!(options.warmupS >= 0)) throw new RangeError('warmup must be >= 0');
  if (!(options.rate >= 0)) throw new RangeError('rate must be >= 0');
  if (!ENGINES.includes(options.engine)) {
    throw new RangeError(`engine must be one of ${ENGINES.join(', ')}, got ${options.engine}`);
  }
  if (!WORKLOADS.includes(options.workload.kind)) {
    throw new RangeError(`workload must be one of ${WORKLOADS.join(', ')}`);
  }
  if (options.workload.tools.some((tool) => tool === '')) {
    throw new RangeError('a tool name must not be empty');
  }
}

/** Splits `total` over `parts` as evenly as possible. */
export function share(total: number, parts: number): number[] {
  return Array.from(
    { length: parts },
    (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0),
  );
}
