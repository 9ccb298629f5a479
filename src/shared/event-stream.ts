/**
 * The only module that touches eventsource-parser (docs/architecture.md#boundaries-and-adapters):
 * reading a `text/event-stream` body into events, either pushed text at a time (`eventParser`)
 * or as a stream transform (`eventStream`).
 */
import { createParser } from 'eventsource-parser';
import { EventSourceParserStream } from 'eventsource-parser/stream';

/** One event of the stream; fields the server did not send are undefined. */
export interface ServerSentEvent {
  id?: string | undefined;
  event?: string | undefined;
  data: string;
}

export interface EventParserCallbacks {
  onEvent: (event: ServerSentEvent) => void;
  /** The reconnection delay a `retry:` field asked for, in milliseconds. */
  onRetry: (ms: number) => void;
}

export interface EventParser {
  /** Parses the next piece of decoded text; complete events reach the callbacks. */
  feed(text: string): void;
}

export function eventParser(callbacks: EventParserCallbacks): EventParser {
  return createParser(callbacks);
}

/** A transform from decoded text to events. */
export function eventStream(): TransformStream<string, ServerSentEvent> {
  return new EventSourceParserStream();
}
