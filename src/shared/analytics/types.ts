/**
 * One analytics record per forwarded call (docs/architecture.md#shared-code-and-analytics),
 * appended by the shard worker that forwarded it. The store (`store.ts`) is the only module
 * that imports lmdb.
 */
export type CallStatus = 'ok' | 'error' | 'timeout' | 'cancelled';

/** Which calls a query is about; every field narrows it. */
export interface CallFilter {
  /** Calls at or after this time, ms since the epoch. */
  sinceMs?: number;
  /** Calls before this time. */
  untilMs?: number;
  /** Only this server's calls. */
  server?: string;
  /** Only calls of this tool (or prompt name, or resource URI), on any server. */
  tool?: string;
  /** Only calls from clients of this `clientInfo.name`. */
  client?: string;
  /** Only the calls made through this profile (what a profile's token may see). */
  profile?: string;
}

export interface CallRecord {
  /** When the call reached the worker, ms since the epoch. */
  ts: number;
  profile: string;
  /** The client's `clientInfo.name`, '' when unknown. */
  client: string;
  session: string;
  server: string;
  /** The forwarded method, e.g. 'tools/call'. */
  method: string;
  /** Tool or prompt name as the backend knows it, or the resource URI. */
  target: string;
  era: 'legacy' | 'modern';
  /** 'error' covers JSON-RPC errors and tool results with `isError: true`. */
  status: CallStatus;
  /** JSON-RPC error code, or null. */
  errorCode: number | null;
  latencyUs: number;
  bytesIn: number;
  bytesOut: number;
  /** The error's message (or the tool's error text), shortened; absent when ok. */
  error?: string;
  /** The params and the result as JSON text: only for servers with `recordPayloads`. */
  request?: string;
  response?: string;
}
