/**
 * The analytics endpoints of the API: `/api/stats` (sums from the rollups), `/api/calls`
 * (recent calls, a page at a time) and `/api/history` (past sessions and backend state
 * changes, from the lifecycle log). Every query parameter is checked before use and a bad
 * one is answered 400 with what was expected. A profile's token sees its profile's calls
 * only, without session ids (enough to act in a session) or payloads.
 */
import type { AnalyticsStore, RecentQuery, StatsQuery } from '../../shared/analytics/store.js';
import { BadCursor, MAX_PAGE } from '../../shared/analytics/recent-calls.js';
import { MAX_HISTORY } from '../../shared/analytics/lifecycle.js';
import type { CallRecord, CallStatus } from '../../shared/analytics/types.js';
import type { ApiScope } from '../ingress/access.js';
import type { IncomingRequest } from '../ingress/http-message.js';
import type { Reply } from '../ingress/uws.js';
import { sendJson } from './json-reply.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const MINUTE_MS = 60_000;
/** A minute series longer than this would be thousands of points: ask for hours instead. */
const MAX_SERIES_POINTS = 2_000;
const BUCKETS = new Map([
  ['minute', MINUTE_MS],
  ['hour', 60 * MINUTE_MS],
  ['day', DAY_MS],
]);
const STATUSES = new Set<string>(['ok', 'error', 'timeout', 'cancelled']);
const DISABLED = 'Analytics are disabled in the config ("analytics": {"enabled": false})';

class BadParameter extends Error {}

const AGE_UNITS = new Map([
  ['s', 1000],
  ['m', MINUTE_MS],
  ['h', 60 * MINUTE_MS],
  ['d', DAY_MS],
]);
/** The largest time a Date holds (ECMAScript: ±8.64e15 ms). */
const MAX_DATE_MS = 8.64e15;

/** A time: ms since the epoch, an ISO date, or an age like `15m`, `2h`, `7d` before now. */
function parseTime(key: string, raw: string, now: number): number {
  const age = /^(\d{1,12})([smhd])$/.exec(raw);
  const value =
    age !== null
      ? now - Number(age[1]) * (AGE_UNITS.get(age[2] ?? '') ?? NaN)
      : /^\d+$/.test(raw)
        ? Number(raw)
        : Date.parse(raw);
  // Past the range of a Date, a time means nothing (and would not key a range).
  if (!Number.isFinite(value) || Math.abs(value) > MAX_DATE_MS) {
    const shown = raw.length > 40 ? `${raw.slice(0, 40)}…` : raw;
    throw new BadParameter(
      `Query parameter '${key}' must be ms since the epoch, an ISO date or an age like 15m, 2h or 7d; got '${shown}'`,
    );
  }
  return value;
}

/** The filters both endpoints share, with the scope applied. */
function commonFilters(params: URLSearchParams, scope: ApiScope, now: number) {
  const query: StatsQuery & RecentQuery = {};
  const since = params.get('since');
  const until = params.get('until');
  if (since !== null) query.sinceMs = parseTime('since', since, now);
  if (until !== null) query.untilMs = parseTime('until', until, now);
  for (const key of ['server', 'tool', 'client'] as const) {
    const value = params.get(key);
    if (value !== null) query[key] = value;
  }
  const profile = params.get('profile');
  // A profile's token sees the calls made through its profile, whatever it asks.
  if (!scope.admin) query.profile = scope.profile;
  else if (profile !== null) query.profile = profile;
  return query;
}

/** 404 when analytics are off; a bad parameter or cursor is a 400 with its message. */
function answerFrom(
  analytics: AnalyticsStore | undefined,
  reply: Reply,
  answer: (store: AnalyticsStore) => void,
): void {
  if (analytics === undefined) return sendJson(reply, 404, { error: DISABLED });
  try {
    answer(analytics);
  } catch (error) {
    if (error instanceof BadParameter || error instanceof BadCursor) {
      sendJson(reply, 400, { error: error.message });
      return;
    }
    throw error;
  }
}

/** `/api/stats`: since (default 24 h ago), until, server, tool, client, profile, bucket. */
export function statsEndpoint(
  analytics: AnalyticsStore | undefined,
  scope: ApiScope,
  request: IncomingRequest,
  reply: Reply,
): void {
  answerFrom(analytics, reply, (store) => {
    const now = Date.now();
    const params = new URLSearchParams(request.query);
    const query = commonFilters(params, scope, now);
    query.sinceMs ??= now - DAY_MS;
    const bucket = params.get('bucket');
    if (bucket !== null) {
      const ms = BUCKETS.get(bucket);
      if (ms === undefined) {
        throw new BadParameter(
          `Query parameter 'bucket' must be minute, hour or day; got '${bucket}'`,
        );
      }
      const points = ((query.untilMs ?? now) - query.sinceMs) / ms;
      if (points > MAX_SERIES_POINTS) {
        throw new BadParameter(
          `bucket=${bucket} over this window would be ${Math.ceil(points)} points (at most ${MAX_SERIES_POINTS}); choose a coarser bucket or a shorter window`,
        );
      }
      query.seriesBucketMs = ms;
    }
    sendJson(reply, 200, store.stats(query));
  });
}

/** `/api/calls`: recent calls, newest first; filters as stats plus session, status, limit, cursor. */
export function callsEndpoint(
  analytics: AnalyticsStore | undefined,
  scope: ApiScope,
  request: IncomingRequest,
  reply: Reply,
): void {
  answerFrom(analytics, reply, (store) => {
    const params = new URLSearchParams(request.query);
    const query = commonFilters(params, scope, Date.now());
    const status = params.get('status');
    if (status !== null) {
      if (!STATUSES.has(status)) {
        throw new BadParameter(
          `Query parameter 'status' must be ok, error, timeout or cancelled; got '${status}'`,
        );
      }
      query.status = status as CallStatus;
    }
    const session = params.get('session');
    if (session !== null && scope.admin) query.session = session;
    const limit = params.get('limit');
    if (limit !== null) query.limit = checkedLimit(limit, MAX_PAGE);
    const cursor = params.get('cursor');
    if (cursor !== null) query.cursor = cursor;
    const page = store.recent(query);
    sendJson(reply, 200, {
      calls: page.calls.map((call) => shown(call, scope)),
      ...(page.next !== undefined && { next: page.next }),
    });
  });
}

/** One call as the API shows it to this scope. */
function shown(call: CallRecord, scope: ApiScope) {
  return {
    ts: call.ts,
    server: call.server,
    method: call.method,
    target: call.target,
    profile: call.profile,
    client: call.client,
    ...(scope.admin && { session: call.session }),
    era: call.era,
    status: call.status,
    errorCode: call.errorCode,
    ...(call.error !== undefined && { error: call.error }),
    latencyMs: call.latencyUs / 1000,
    bytesIn: call.bytesIn,
    bytesOut: call.bytesOut,
    ...(scope.admin && call.request !== undefined && { request: call.request }),
    ...(scope.admin && call.response !== undefined && { response: call.response }),
  };
}

/**
 * `/api/history?of=sessions|servers`: sessions newest first (since, until, limit; a profile's
 * token: its own, without ids), or backend state changes (since, until, server, limit; a
 * profile's token: its servers', without the error text, which can hold paths).
 */
export function historyEndpoint(
  analytics: AnalyticsStore | undefined,
  scope: ApiScope,
  sees: (server: string) => boolean,
  request: IncomingRequest,
  reply: Reply,
): void {
  answerFrom(analytics, reply, (store) => {
    const params = new URLSearchParams(request.query);
    const now = Date.now();
    const since = params.get('since');
    const until = params.get('until');
    const limit = params.get('limit');
    const query = {
      ...(since !== null && { sinceMs: parseTime('since', since, now) }),
      ...(until !== null && { untilMs: parseTime('until', until, now) }),
      ...(limit !== null && { limit: checkedLimit(limit, MAX_HISTORY) }),
    };
    const of = params.get('of');
    if (of === 'sessions') {
      const sessions = store.sessions(scope.admin ? query : { ...query, profile: scope.profile });
      return sendJson(reply, 200, {
        sessions: scope.admin ? sessions : sessions.map(({ id: _id, ...rest }) => rest),
      });
    }
    if (of === 'servers') {
      const server = params.get('server');
      // A profile's token asks for more than it may see; the rest is filtered out below.
      const events = store
        .serverEvents({ ...query, ...(server !== null && { server }) })
        .filter((e) => scope.admin || sees(e.server));
      return sendJson(reply, 200, {
        events: scope.admin ? events : events.map(({ error: _error, ...rest }) => rest),
      });
    }
    throw new BadParameter(`Query parameter 'of' must be sessions or servers; got '${of ?? ''}'`);
  });
}

function checkedLimit(raw: string, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new BadParameter(`Query parameter 'limit' must be 1 to ${max}; got '${raw}'`);
  }
  return Number(raw);
}
