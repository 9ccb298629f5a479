/**
 * A call the pool forwarded to a shard (or holds for its server) and has not yet answered,
 * what its caller is told, and the one way the pool ends such a call with an error: taken
 * off the table first, so a late reply from the worker finds nothing, then answered.
 * Also the shard record the pool's parts share.
 */
import type {
  CallContext,
  CallMessage,
  CatalogMessage,
  ClientOutcome,
  ForwardedMethod,
  ReplyMessage,
  ServerNotificationMessage,
  ServerStateMessage,
  SupervisorMessage,
} from '../../shared/messages.js';
import type { CallStatsRow, LiveCall } from '../../shared/analytics/finished-calls.js';
import type { WireError } from '../../shared/errors.js';
import type { ServerConfig } from '../../shared/config/types.js';
import type { JsonObject } from '../../shared/json.js';
import type { Link } from '../../shared/link.js';
import { failedReply } from '../../shared/messages.js';
import { DirectorErrorCode, directorError } from '../../shared/errors.js';
import { logger } from '../../shared/log.js';

const log = logger('shards');

/** What the caller of `ShardPool.route()` is told; exactly one reply per call unless cancelled. */
export interface CallHandlers {
  reply(message: ReplyMessage): void;
  /** Progress, or a stateless backend's log line for this call. */
  notification(method: string, params: JsonObject): void;
  /** The backend asks the call's client something; `answer` must be called exactly once. */
  clientRequest(method: string, params: JsonObject, answer: (outcome: ClientOutcome) => void): void;
}

/** One request the relay forwards to a backend, as the pool routes it. */
export interface ForwardRequest {
  server: string;
  method: ForwardedMethod;
  /** As the backend must see them (its own names); see `CallMessage.params`. */
  params: JsonObject;
  /** What the call is about, for analytics: tool or prompt (the backend's name), or URI. */
  target: string;
  context: CallContext;
  /** What the calling client declared: passed on to stateless-era backends. */
  clientCapabilities?: JsonObject;
  logLevel?: string | undefined;
}

export interface ShardEvents {
  serverState(message: ServerStateMessage): void;
  catalog(message: CatalogMessage): void;
  notification(message: ServerNotificationMessage): void;
  /** A shard's counts of the calls it finished (about once a second), for /metrics. */
  callStats(rows: readonly CallStatsRow[]): void;
  /** Finished calls, while the live feed is on. */
  calls(calls: readonly LiveCall[]): void;
}

/** What `ShardPool.admit` answers: the call's id, and the link to post it on now, if any. */
export interface Admitted {
  callId: number;
  message: CallMessage;
  link: Link<SupervisorMessage> | undefined;
}

/** A call forwarded to a shard (or held for its server) and not yet answered. */
export interface Pending {
  shard: number;
  server: string;
  handlers: CallHandlers;
  message: CallMessage;
  /** Waiting in the start gate, not yet sent to the worker. */
  held: boolean;
  /** When a call held for its server's start stops waiting; 0 until it is first held. */
  deadline: number;
}

/** One shard worker as the pool sees it. */
export interface Shard {
  index: number;
  /** The servers it owns now: what its next start starts. */
  servers: ServerConfig[];
  /** Undefined while its thread is (re)starting. */
  link: Link<SupervisorMessage> | undefined;
  restarts: number;
}

/**
 * Why a call cannot be routed now: the daemon is shutting down, its server is not configured,
 * or the server's worker is restarting.
 */
export function unroutable(server: string, configured: boolean, stopping: boolean): WireError {
  if (stopping)
    return directorError(DirectorErrorCode.ShuttingDown, 'MCP Director is shutting down');
  return configured
    ? directorError(
        DirectorErrorCode.BackendUnavailable,
        `Server '${server}' is not available: its worker is restarting`,
        { server },
      )
    : directorError(DirectorErrorCode.BackendUnavailable, `Server '${server}' is not configured`, {
        server,
      });
}

/** Fails the call if it is still pending; whether it was. */
export function failPendingCall(
  pending: Map<number, Pending>,
  callId: number,
  error: WireError,
): boolean {
  const call = pending.get(callId);
  if (call === undefined) return false;
  pending.delete(callId);
  call.handlers.reply(failedReply(callId, error));
  return true;
}

/**
 * Answers every pending call with `error` and cancels it upstream, so each backend hears the
 * cancellation; returns how many there were.
 */
export function failAllPending(
  pending: Map<number, Pending>,
  shards: readonly Shard[],
  error: WireError,
): number {
  const calls = [...pending];
  pending.clear();
  for (const [callId, call] of calls) {
    shards[call.shard]?.link?.send({ type: 'cancel', callId, reason: error.message });
    try {
      call.handlers.reply(failedReply(callId, error));
    } catch (thrown) {
      // One client's failure must not keep the others from their answer.
      log.error(`answering call ${callId} failed: ${(thrown as Error).stack ?? String(thrown)}`);
    }
  }
  return calls.length;
}
