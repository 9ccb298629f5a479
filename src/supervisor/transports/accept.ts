/**
 * The media types an `/mcp` request accepts, read from its Accept header: a POST must name
 * both (streamable-http.ts), a GET stream needs text/event-stream (get-streams.ts).
 */

export interface Accept {
  json: boolean;
  sse: boolean;
}

/** Which of the two media types the Accept header names (a wildcard names neither). */
export function parseAccept(header: string | undefined): Accept {
  const value = (header ?? '').toLowerCase();
  return { json: value.includes('application/json'), sse: value.includes('text/event-stream') };
}
