/**
 * `limits.maxBackendMessageBytes` for remote backends: a response body that carries more
 * than that in one message fails as soon as it passes the cap, so a server that answers
 * without end costs the daemon at most the cap, not the whole body. One message is the
 * whole body for a JSON response and one event for an SSE stream (a long-lived stream may
 * carry any number of events).
 */

/** The error a capped body fails with; its message names the limit. */
export class MessageTooLarge extends Error {}

/** The words used everywhere a backend broke the cap (stdio or HTTP). */
export function tooLargeMessage(server: string, maxBytes: number): string {
  return `server '${server}' sent a message over ${maxBytes} bytes (limits.maxBackendMessageBytes)`;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * `body` through a counter that errors with `MessageTooLarge` once one message passes
 * `maxBytes` (`onTooLarge` hears it first). `perEvent`: an SSE stream, where an empty line
 * (after LF, CR or CRLF) ends an event and starts the count again.
 */
export function capBody(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  perEvent: boolean,
  message: string,
  onTooLarge?: (error: MessageTooLarge) => void,
): ReadableStream<Uint8Array> {
  let size = 0;
  let lineLength = 0;
  let afterCr = false;
  const fail = (controller: TransformStreamDefaultController<Uint8Array>): void => {
    const error = new MessageTooLarge(message);
    onTooLarge?.(error);
    controller.error(error);
  };
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (!perEvent) {
        size += chunk.length;
        if (size > maxBytes) fail(controller);
        else controller.enqueue(chunk);
        return;
      }
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i];
        if (byte === LF && afterCr) {
          afterCr = false; // the second half of CRLF ends nothing more
          continue;
        }
        afterCr = byte === CR;
        if (byte === LF || byte === CR) {
          if (lineLength === 0) size = 0;
          else size++;
          lineLength = 0;
          continue;
        }
        lineLength++;
        if (++size > maxBytes) {
          fail(controller);
          return;
        }
      }
      controller.enqueue(chunk);
    },
  });
  return body.pipeThrough(counter);
}

/**
 * A `fetch` for the SDK's client transports whose response bodies are capped; `onTooLarge`
 * hears the first breach (the transports would only log the stream error). Redirects and
 * bodiless answers pass untouched.
 */
export function cappedFetch(
  maxBytes: number,
  message: string,
  onTooLarge: (error: MessageTooLarge) => void,
): (url: string | URL, init?: RequestInit) => Promise<Response> {
  return async (url, init) => {
    const response = await fetch(url, init);
    const redirect = response.status >= 300 && response.status < 400;
    if (response.body === null || response.type === 'opaqueredirect' || redirect) return response;
    const perEvent = (response.headers.get('content-type') ?? '').includes('text/event-stream');
    return new Response(capBody(response.body, maxBytes, perEvent, message, onTooLarge), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
