/**
 * Recent calls, newest first, from the call records (for `/api/calls`): a page at a time,
 * with an opaque cursor naming where the next page starts. Order is by second, then by
 * writer and flush: calls of one second from two shards may interleave out of order.
 */
import {
  BUCKET_MS,
  bucketOf,
  decode,
  keyBound,
  recordsOf,
  type BatchKey,
} from './record-format.js';
import type { CallFilter, CallRecord, CallStatus } from './types.js';

export interface RecentQuery extends CallFilter {
  session?: string;
  status?: CallStatus;
  /** Page length, 1..MAX_PAGE. */
  limit?: number;
  /** The `next` of the previous page. */
  cursor?: string;
}

export interface RecentPage {
  calls: CallRecord[];
  /** Present when there may be more: pass it as `cursor` for the next page. */
  next?: string;
}

export const MAX_PAGE = 500;
export const DEFAULT_PAGE = 50;
/** Entries read per page at most, so a filter that matches little stays cheap. */
const SCAN_LIMIT = 20_000;

/** Thrown for a cursor that this store did not hand out. */
export class BadCursor extends Error {}

type Cursor = [bucket: number, writer: string, seq: number, index: number];

export interface RecordRange {
  start?: BatchKey;
  end?: BatchKey;
  reverse: true;
}

/** The reading side of the calls database (lmdb's getRange, kept behind the store). */
export type RecordReader = (range: RecordRange) => Iterable<{ key: BatchKey; value: unknown }>;

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new BadCursor('cursor is not one this daemon handed out');
  }
  if (
    !Array.isArray(value) ||
    value.length !== 4 ||
    !Number.isSafeInteger(value[0]) ||
    typeof value[1] !== 'string' ||
    !Number.isSafeInteger(value[2]) ||
    !Number.isSafeInteger(value[3])
  ) {
    throw new BadCursor('cursor is not one this daemon handed out');
  }
  return value as Cursor;
}

function matches(r: CallRecord, q: RecentQuery): boolean {
  return (
    (q.sinceMs === undefined || r.ts >= q.sinceMs) &&
    (q.untilMs === undefined || r.ts < q.untilMs) &&
    (q.server === undefined || r.server === q.server) &&
    (q.tool === undefined || r.target === q.tool) &&
    (q.client === undefined || r.client === q.client) &&
    (q.profile === undefined || r.profile === q.profile) &&
    (q.session === undefined || r.session === q.session) &&
    (q.status === undefined || r.status === q.status)
  );
}

export function recentCalls(read: RecordReader, query: RecentQuery): RecentPage {
  const limit = Math.min(MAX_PAGE, Math.max(1, Math.floor(query.limit ?? DEFAULT_PAGE)));
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const range: RecordRange = { reverse: true };
  if (cursor !== undefined) range.start = [cursor[0], cursor[1], cursor[2]];
  else if (query.untilMs !== undefined) range.start = keyBound(bucketOf(query.untilMs) + BUCKET_MS);
  if (query.sinceMs !== undefined) range.end = keyBound(bucketOf(query.sinceMs));
  const calls: CallRecord[] = [];
  let scanned = 0;
  for (const { key, value } of read(range)) {
    const records = recordsOf(value);
    const resume =
      cursor !== undefined && key[0] === cursor[0] && key[1] === cursor[1] && key[2] === cursor[2];
    for (let i = (resume ? cursor[3] : records.length) - 1; i >= 0; i--) {
      const record = decode(records[i]);
      if (record === undefined || !matches(record, query)) continue;
      calls.push(record);
      if (calls.length === limit) return { calls, next: encodeCursor([key[0], key[1], key[2], i]) };
    }
    if (++scanned >= SCAN_LIMIT) {
      return { calls, next: encodeCursor([key[0], key[1], key[2], 0]) };
    }
  }
  return { calls };
}
