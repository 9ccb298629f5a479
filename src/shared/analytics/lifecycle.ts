/**
 * The lifecycle log of the analytics store (docs/architecture.md#analytics-rollups): client
 * sessions (who, through which profile, era and transport, from when to when, how many calls)
 * and backend state changes (start, ready, exit with its reason and last stderr lines,
 * restarts). Written by the supervisor, which sees both; kept in `lifecycle.mdb` so they
 * survive a restart; read back newest first for `/api/history`.
 *
 * Keys: ['session', start ms, session id] (a session's record is written when it starts and
 * rewritten when it ends, under the same key) and ['server', ts, writer tag, sequence].
 */
export interface SessionRecord {
  id: string;
  /** `clientInfo.name` and `.version` from initialize, '' when absent. */
  client: string;
  clientVersion: string;
  profile: string;
  /** The protocol version the session negotiated. */
  protocolVersion: string;
  transport: string;
  start: number;
  /** null while the session is open (or when the daemon stopped without ending it). */
  end: number | null;
  /** Calls forwarded to backends for it. */
  calls: number;
}

export interface ServerEventRecord {
  ts: number;
  server: string;
  /** The backend state entered: starting, ready, restarting, failed, stopped, idle. */
  state: string;
  restarts: number;
  pid?: number;
  /** Why it failed or restarted (exit code, last stderr lines). */
  error?: string;
}

export type LifecycleKind = 'session' | 'server';
/** ['session', start, id] or ['server', ts, writer tag, sequence]. */
export type LifecycleKey =
  [LifecycleKind, number, string] | [LifecycleKind, number, string, number];

const FORMAT = 1;

export function sessionKey(s: SessionRecord): LifecycleKey {
  return ['session', s.start, s.id];
}

export function encodeSession(s: SessionRecord): unknown[] {
  return [
    FORMAT,
    s.id,
    s.client,
    s.clientVersion,
    s.profile,
    s.protocolVersion,
    s.transport,
    s.start,
    s.end,
    s.calls,
  ];
}

export function encodeServerEvent(e: ServerEventRecord): unknown[] {
  return [FORMAT, e.ts, e.server, e.state, e.restarts, e.pid ?? null, e.error ?? null];
}

const str = (v: unknown): v is string => typeof v === 'string';
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The stored session, or undefined when the value does not have its shape. */
export function decodeSession(v: unknown): SessionRecord | undefined {
  if (!Array.isArray(v) || v[0] !== FORMAT) return undefined;
  const [, id, client, clientVersion, profile, protocolVersion, transport, start, end, calls] =
    v as unknown[];
  if (
    !str(id) ||
    !str(client) ||
    !str(clientVersion) ||
    !str(profile) ||
    !str(protocolVersion) ||
    !str(transport) ||
    !num(start) ||
    !(end === null || num(end)) ||
    !num(calls)
  ) {
    return undefined;
  }
  return { id, client, clientVersion, profile, protocolVersion, transport, start, end, calls };
}

export function decodeServerEvent(v: unknown): ServerEventRecord | undefined {
  if (!Array.isArray(v) || v[0] !== FORMAT) return undefined;
  const [, ts, server, state, restarts, pid, error] = v as unknown[];
  if (!num(ts) || !str(server) || !str(state) || !num(restarts)) return undefined;
  return {
    ts,
    server,
    state,
    restarts,
    ...(num(pid) && { pid }),
    ...(str(error) && { error }),
  };
}

export interface HistoryQuery {
  sinceMs?: number;
  untilMs?: number;
  /** Sessions of this profile only (what a profile's token may see). */
  profile?: string;
  /** Server events of this server only. */
  server?: string;
  /** At most this many, newest first (1..MAX_HISTORY). */
  limit?: number;
}

export const MAX_HISTORY = 1000;

export interface LifecycleRange {
  start: LifecycleKey;
  end: LifecycleKey;
  reverse: true;
}

/** The reading side of the lifecycle database (lmdb's getRange, kept behind the store). */
export type LifecycleReader = (range: LifecycleRange) => Iterable<{ value: unknown }>;

function range(kind: LifecycleKind, query: HistoryQuery): LifecycleRange {
  // Reverse: from the window's end down to its start; a one-element tail sorts before longer keys.
  return {
    start: [kind, query.untilMs ?? Number.MAX_SAFE_INTEGER] as unknown as LifecycleKey,
    end: [kind, query.sinceMs ?? 0] as unknown as LifecycleKey,
    reverse: true,
  };
}

function limitOf(query: HistoryQuery): number {
  return Math.min(MAX_HISTORY, Math.max(1, Math.floor(query.limit ?? 100)));
}

/** The newest records of one kind in the window that `keep` accepts, at most the limit. */
function readNewest<T>(
  read: LifecycleReader,
  kind: LifecycleKind,
  query: HistoryQuery,
  decode: (value: unknown) => T | undefined,
  keep: (record: T) => boolean,
): T[] {
  const out: T[] = [];
  const limit = limitOf(query);
  for (const { value } of read(range(kind, query))) {
    const record = decode(value);
    if (record === undefined || !keep(record)) continue;
    out.push(record);
    if (out.length === limit) break;
  }
  return out;
}

export function readSessions(read: LifecycleReader, query: HistoryQuery): SessionRecord[] {
  const { profile } = query;
  return readNewest(
    read,
    'session',
    query,
    decodeSession,
    (s) => profile === undefined || s.profile === profile,
  );
}

export function readServerEvents(read: LifecycleReader, query: HistoryQuery): ServerEventRecord[] {
  const { server } = query;
  return readNewest(
    read,
    'server',
    query,
    decodeServerEvent,
    (e) => server === undefined || e.server === server,
  );
}
