/**
 * How the connect shim names what went wrong between it and the daemon. A failure to
 * connect at all means the daemon is not running (one stderr line per outage, an error
 * answer per request); a connection that broke mid-answer fails that request alone; an HTTP
 * error status becomes the JSON-RPC error the client sees for its request.
 */
import type { WireError } from '../../shared/errors.js';
import { bodyError } from './messages.js';

/** The code the shim's own errors carry (the reference SDK's "connection closed" family). */
export const SHIM_ERROR = -32000;

/** System and undici codes meaning no connection could be made, with how to say so. */
const UNREACHABLE: ReadonlyMap<string, string> = new Map([
  ['ECONNREFUSED', 'connection refused'],
  ['ENOTFOUND', 'host not found'],
  ['EAI_AGAIN', 'host not found'],
  ['EHOSTUNREACH', 'host unreachable'],
  ['ENETUNREACH', 'network unreachable'],
  ['EADDRNOTAVAIL', 'address not available'],
  ['ETIMEDOUT', 'connection timed out'],
  ['UND_ERR_CONNECT_TIMEOUT', 'connection timed out'],
]);

export type FetchFailure =
  /** No connection could be made: the daemon is not running there. */
  | { kind: 'unreachable'; reason: string }
  /** A connection was made, then broke (or fetch refused the request itself). */
  | { kind: 'broken'; reason: string };

/** Reads the error fetch threw (`TypeError: fetch failed` with the socket error as cause). */
export function classifyFetchError(error: unknown): FetchFailure {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    const reason = typeof code === 'string' ? UNREACHABLE.get(code) : undefined;
    if (reason !== undefined) return { kind: 'unreachable', reason };
    const nested = (e as { errors?: unknown }).errors; // AggregateError (several addresses)
    e = Array.isArray(nested) && nested.length > 0 ? nested[0] : e.cause;
  }
  return { kind: 'broken', reason: innermostMessage(error) };
}

export function notRunningMessage(url: string, reason: string): string {
  return `MCP Director is not running at ${url} (${reason}); start it with: mcp-director serve`;
}

export function brokenError(url: string, reason: string): WireError {
  return {
    code: SHIM_ERROR,
    message: `The connection to MCP Director at ${url} broke before it answered (${reason})`,
  };
}

/** The stderr line for a 401: the one thing the user can do about it. */
export function unauthorizedMessage(url: string, tokenGiven: boolean): string {
  return tokenGiven
    ? `MCP Director at ${url} refused the token (401 Unauthorized); check --token or $MCP_DIRECTOR_TOKEN`
    : `MCP Director at ${url} wants a token (401 Unauthorized); pass it with --token or $MCP_DIRECTOR_TOKEN`;
}

/**
 * The error a request gets for an HTTP error status: the JSON-RPC error in the body if
 * there is one, else a message naming the status (and, for the usual ones, the cause).
 */
export function httpError(
  url: string,
  status: number,
  statusText: string,
  body: string,
): WireError {
  const fromBody = bodyError(body);
  if (fromBody !== undefined) return fromBody;
  const hint =
    status === 401
      ? ': pass the token with --token or $MCP_DIRECTOR_TOKEN'
      : status === 403
        ? ': the daemon refused this client'
        : status === 404
          ? ': no MCP endpoint there (check --url and --profile)'
          : '';
  const text = statusText === '' ? '' : ` ${statusText}`;
  return {
    code: SHIM_ERROR,
    message: `MCP Director at ${url} answered HTTP ${status}${text}${hint}`,
  };
}

function innermostMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++) {
    message = e.message || message;
    e = e.cause;
  }
  return message;
}
