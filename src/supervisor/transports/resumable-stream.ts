/**
 * One SSE stream of a session that the client can resume (Streamable HTTP resumability,
 * https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#resumability-and-redelivery).
 * The stream outlives its HTTP connections: every event gets an id `<stream>.<seq>`, which
 * names the stream it belongs to, and is kept in a replay buffer bounded in bytes (oldest
 * dropped first), so a GET with `Last-Event-ID` gets the events after that id on a new
 * connection and then the live ones. Events sent while no connection is attached are only
 * kept; the client gets them when it comes back.
 */
import type { EventStream } from '../ingress/uws.js';
import { sseMessage } from '../ingress/sse.js';

/** What a client is told to wait before it reconnects a dropped stream (SSE `retry:`). */
export const RECONNECT_DELAY_MS = 1000;

/** `g`: the session's GET stream; `p<n>`: the response stream of the session's n-th POST. */
const EVENT_ID = /^(g|p[1-9][0-9]{0,14})\.(0|[1-9][0-9]{0,14})$/;

/** An event id taken apart: which stream, and the last event the client has. */
export interface EventPosition {
  stream: string;
  seq: number;
}

/** Parses a `Last-Event-ID`; undefined when it is not an id this server hands out. */
export function parseEventId(value: string): EventPosition | undefined {
  const match = EVENT_ID.exec(value);
  if (match === null) return undefined;
  return { stream: match[1] as string, seq: Number(match[2]) };
}

/** What an attach replayed: `missed` events were dropped from the buffer before it. */
export interface Replayed {
  replayed: number;
  missed: number;
}

interface KeptEvent {
  seq: number;
  text: string;
  bytes: number;
}

export class ResumableStream {
  readonly key: string;
  readonly #maxBytes: number;
  /** Whether a new connection starts with a priming event (2025-11-25 clients and newer). */
  readonly #prime: boolean;
  #seq = 0;
  /** Events kept for replay, oldest first from `#head`, as SSE text ready to write. */
  #kept: KeptEvent[] = [];
  #head = 0;
  #keptBytes = 0;
  /** The highest seq dropped from the buffer to keep it under its bound. */
  #dropped = 0;
  #connection: EventStream | undefined;
  #ended = false;
  #onDetach: (() => void) | undefined;

  constructor(key: string, maxBytes: number, prime: boolean) {
    this.key = key;
    this.#maxBytes = maxBytes;
    this.#prime = prime;
  }

  /** A client connection is attached and open. */
  get connected(): boolean {
    return this.#connection !== undefined && !this.#connection.closed;
  }

  /** The id of the last event sent (0 before the first). */
  get lastSeq(): number {
    return this.#seq;
  }

  /** The stream has said its last (a POST stream's response, or the session ended). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Called when the attached connection closes before the stream ended. */
  onDetach(handler: () => void): void {
    this.#onDetach = handler;
  }

  /** Sends one JSON-RPC message: numbered, kept for replay, written if a client is attached. */
  send(frame: string): void {
    if (this.#ended) return;
    // Numbered and kept first: with no connection attached, the buffer is where it waits.
    const text = this.#number(frame);
    this.#connection?.write(text);
  }

  /** Ends the stream, after `frame` if given; the connection (if any) ends with it. */
  end(frame?: string): void {
    if (this.#ended) return;
    const text = frame === undefined ? '' : this.#number(frame);
    this.#ended = true;
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.end(text);
  }

  /** Ends the connection without ending the stream, e.g. when the stream is given up. */
  release(): void {
    this.#kept = [];
    this.#head = 0;
    this.#keptBytes = 0;
    this.#ended = true;
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.end();
  }

  /**
   * Attaches a client connection: a priming event (an id and empty data, with `retry:`),
   * then the kept events after `after` (every kept one when undefined is given for a
   * stream the client never saw), then live events. An earlier connection is ended: the
   * client that resumes says it lost it, even if the server has not noticed yet.
   */
  attach(connection: EventStream, after: number, onGap?: (gap: Replayed) => void): Replayed {
    const previous = this.#connection;
    this.#connection = connection;
    if (previous !== undefined && previous !== connection) previous.end();
    const from = Math.min(after, this.#seq);
    if (this.#prime)
      connection.write(`id: ${this.key}.${from}\nretry: ${RECONNECT_DELAY_MS}\ndata: \n\n`);
    let first = this.#head;
    while (first < this.#kept.length && (this.#kept[first] as KeptEvent).seq <= from) first++;
    const result = {
      replayed: this.#kept.length - first,
      missed: Math.max(0, this.#dropped - from),
    };
    // Told before the replay: what the client gets next does not follow on from its id.
    if (result.missed > 0) onGap?.(result);
    for (let i = first; i < this.#kept.length; i++)
      connection.write((this.#kept[i] as KeptEvent).text);
    if (this.#ended) {
      this.#connection = undefined;
      connection.end();
    } else {
      connection.onClose(() => {
        if (this.#connection !== connection) return;
        this.#connection = undefined;
        if (!this.#ended) this.#onDetach?.();
      });
    }
    return result;
  }

  /** The next event id for `frame`, kept in the buffer; returns its SSE text. */
  #number(frame: string): string {
    const seq = ++this.#seq;
    const text = sseMessage(frame, `${this.key}.${seq}`);
    const bytes = Buffer.byteLength(text);
    this.#kept.push({ seq, text, bytes });
    this.#keptBytes += bytes;
    while (this.#keptBytes > this.#maxBytes && this.#head < this.#kept.length) {
      const oldest = this.#kept[this.#head++] as KeptEvent;
      this.#keptBytes -= oldest.bytes;
      this.#dropped = oldest.seq;
    }
    // Dropping moves a head index (no shift per event); the array is compacted now and then.
    if (this.#head > 64 && this.#head * 2 > this.#kept.length) {
      this.#kept = this.#kept.slice(this.#head);
      this.#head = 0;
    }
    return text;
  }
}
