/**
 * Reading a `text/event-stream` body for the connect shim: every `message` event's data is
 * handed over in order; the last event id and the server's `retry` hint are kept in a cursor
 * so a dropped stream can be resumed with `GET` + `Last-Event-ID`
 * (https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#resumability-and-redelivery).
 */
import { eventParser } from '../../shared/event-stream.js';

/** Where a stream stood when it ended: what a resumption needs. */
export interface SseCursor {
  /** The id of the last event that carried one (an empty `id:` field clears it). */
  lastEventId: string | undefined;
  /** The reconnection delay the server asked for with `retry:`, in milliseconds. */
  retryMs: number | undefined;
}

export function newCursor(lastEventId?: string): SseCursor {
  return { lastEventId, retryMs: undefined };
}

/**
 * Reads `body` until it ends, calling `onData` with the data of each event (empty data, such
 * as a priming event, is skipped). `onData` returns `'stop'` to stop reading early; the rest
 * of the body is then cancelled. Throws when the body breaks (connection lost, aborted).
 */
export async function readEvents(
  body: ReadableStream<Uint8Array>,
  cursor: SseCursor,
  onData: (data: string) => 'stop' | void,
): Promise<void> {
  let stop = false;
  const parser = eventParser({
    onEvent: (event) => {
      if (event.id !== undefined) cursor.lastEventId = event.id === '' ? undefined : event.id;
      // MCP sends plain `message` events; anything else (e.g. the old `endpoint`) is not ours.
      if (stop || event.data === '' || (event.event ?? 'message') !== 'message') return;
      if (onData(event.data) === 'stop') stop = true;
    },
    onRetry: (ms) => {
      cursor.retryMs = ms;
    },
  });
  const decoder = new TextDecoder();
  // Leaving the loop early cancels the body (the async iterator's return()).
  for await (const chunk of body) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    if (stop) return;
  }
  parser.feed(decoder.decode());
}
