/**
 * Errors as values with stable codes, in two families (docs/architecture.md#errors):
 * - `JsonRpcCode`: the numbers of the JSON-RPC and MCP specifications;
 * - `DirectorErrorCode`: failures of the router itself. They cross threads and the wire
 *   as `WireError`s whose numeric code lies outside the range JSON-RPC reserves
 *   (-32768..-32000, https://www.jsonrpc.org/specification#error_object) and whose
 *   `data.director` names the code.
 * Callers branch on `code`, never on `instanceof`.
 */

/** A JSON-RPC error object as it appears on the wire (backend errors pass through as-is). */
export interface WireError {
  code: number;
  message: string;
  data?: unknown;
}

export const JsonRpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** MCP (legacy era): resource not found. */
  ResourceNotFound: -32002,
} as const;

export enum DirectorErrorCode {
  /** The backend is not running (starting, restarting or failed); data.server names it. */
  BackendUnavailable = 'BACKEND_UNAVAILABLE',
  /** The backend did not answer within the call's timeout; the call was cancelled upstream. */
  BackendTimeout = 'BACKEND_TIMEOUT',
  /** The backend process exited while the call was in flight. */
  BackendExited = 'BACKEND_EXITED',
  /** The shard worker thread that owned the backend died while the call was in flight. */
  WorkerExited = 'WORKER_EXITED',
  /** The daemon is shutting down and takes no new calls. */
  ShuttingDown = 'SHUTTING_DOWN',
  /**
   * The server was removed from the config (hot reload) while the call was in flight; the
   * call will not be retried anywhere. data.server names it.
   */
  ServerRemoved = 'SERVER_REMOVED',
  /**
   * The backend instance has `limits.maxConcurrentCallsPerServer` calls in flight and
   * `limits.maxQueuedCallsPerServer` waiting; the call was refused at once. data.server
   * names it.
   */
  Overloaded = 'OVERLOADED',
  /**
   * A token's or a profile's rate limit has no request left; data.retryAfterMs says when
   * one will be (HTTP requests get 429 with Retry-After instead of 200).
   */
  RateLimited = 'RATE_LIMITED',
}

const wireCodes: Record<DirectorErrorCode, number> = {
  [DirectorErrorCode.BackendUnavailable]: -31001,
  [DirectorErrorCode.BackendTimeout]: -31002,
  [DirectorErrorCode.BackendExited]: -31003,
  [DirectorErrorCode.WorkerExited]: -31004,
  [DirectorErrorCode.ShuttingDown]: -31005,
  [DirectorErrorCode.ServerRemoved]: -31006,
  [DirectorErrorCode.Overloaded]: -31007,
  [DirectorErrorCode.RateLimited]: -31008,
};

/** The one mapping from a director failure to the JSON-RPC error a client sees. */
export function directorError(
  code: DirectorErrorCode,
  message: string,
  data: Record<string, unknown> = {},
): WireError {
  return { code: wireCodes[code], message, data: { director: code, ...data } };
}

/** A protocol error of the JSON-RPC/MCP family (e.g. invalid params, unknown method). */
export function rpcError(code: number, message: string, data?: unknown): WireError {
  return data === undefined ? { code, message } : { code, message, data };
}

/** The director code carried by a wire error, if it is one of ours. */
export function directorCodeOf(error: WireError): DirectorErrorCode | undefined {
  const data = error.data as { director?: unknown } | undefined;
  const code = data?.director;
  return Object.values(DirectorErrorCode).includes(code as DirectorErrorCode)
    ? (code as DirectorErrorCode)
    : undefined;
}
