/**
 * Server-Sent Events framing. Data is split per line into `data:` fields, and an `id`
 * with CR or LF is refused, so no payload can inject a frame of its own.
 */
export function sseMessage(data: string, id?: string): string {
  if (id !== undefined && /[\r\n]/.test(id))
    throw new Error('SSE event id must not contain CR or LF');
  const idLine = id === undefined ? '' : `id: ${id}\n`;
  // JSON text never holds a raw newline, so the common case is one data line.
  const dataLines = data.includes('\n') ? data.split(/\r?\n/).join('\ndata: ') : data;
  return `event: message\n${idLine}data: ${dataLines}\n\n`;
}

/** A named event whose data is JSON (one line: JSON text never holds a raw newline). */
export function sseEvent(name: string, data: object): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A comment line: keeps idle streams open through proxies without delivering an event. */
export const SSE_KEEPALIVE = ': keep-alive\n\n';

/** Sent as they are (never looked up by a wire string). */
export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
} as const;
