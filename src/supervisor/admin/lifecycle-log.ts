/**
 * Writes the lifecycle log of the analytics store (src/shared/analytics/lifecycle.ts): each
 * client session when it starts and again when it ends, and each backend state change, so
 * `/api/history` can show them after a restart. Off the call path: sessions start and end,
 * and backends change state, far less often than calls are made.
 */
import type { AnalyticsStore } from '../../shared/analytics/store.js';
import { isCallersInstance, type ServerStateMessage } from '../../shared/messages.js';
import type { Session, Sessions } from '../session/sessions.js';

function sessionRecord(session: Session, end: number | null) {
  const version = session.clientInfo['version'];
  return {
    id: session.id,
    client: session.clientName,
    clientVersion: typeof version === 'string' ? version : '',
    profile: session.profile,
    protocolVersion: session.protocolVersion,
    transport: session.transport,
    start: session.createdAt,
    end,
    calls: session.forwarded,
  };
}

/** Logs every session of `sessions` from now on. */
export function logSessions(analytics: AnalyticsStore, sessions: Sessions): void {
  sessions.onStart((session) => analytics.recordSession(sessionRecord(session, null)));
  sessions.onEnd((session) => analytics.recordSession(sessionRecord(session, Date.now())));
}

/** Logs a backend's state change (a caller's own instance's are not the server's: skipped). */
export function logServerState(analytics: AnalyticsStore, message: ServerStateMessage): void {
  if (isCallersInstance(message)) return;
  analytics.recordServerEvent({
    ts: Date.now(),
    server: message.server,
    state: message.state,
    restarts: message.restarts,
    ...(message.pid !== undefined && { pid: message.pid }),
    ...(message.error !== undefined && { error: message.error }),
  });
}
