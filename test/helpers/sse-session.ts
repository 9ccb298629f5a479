/**
 * A Streamable HTTP session driven with raw fetch, for tests that need to see the SSE
 * bytes themselves (event ids, priming events, `retry:`) or to drop a stream on purpose.
 */
import { createParser } from 'eventsource-parser';
import { eventually } from './daemon.js';

export interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** Reads every event of an SSE response as it arrives; `abort()` drops the connection. */
export class EventReader {
  readonly events: SseEvent[] = [];
  retry: number | undefined;
  readonly status: number;
  /** Resolves when the body ended (or broke, or was aborted). */
  readonly done: Promise<void>;
  readonly #abort: AbortController;

  constructor(response: Response, abort: AbortController) {
    this.status = response.status;
    this.#abort = abort;
    const parser = createParser({
      onEvent: (event) =>
        void this.events.push({ id: event.id, event: event.event, data: event.data }),
      onRetry: (ms) => {
        this.retry = ms;
      },
    });
    const body = response.body;
    this.done = (async () => {
      if (body === null) return;
      const decoder = new TextDecoder();
      try {
        for await (const chunk of body) parser.feed(decoder.decode(chunk, { stream: true }));
      } catch {
        // aborted or broken: the events read so far stay
      }
    })();
  }

  /** The JSON-RPC messages among the events (events with data). */
  messages(): Array<Record<string, unknown>> {
    return this.events
      .filter((e) => e.data !== '')
      .map((e) => JSON.parse(e.data) as Record<string, unknown>);
  }

  async waitForMessages(count: number, timeoutMs = 5000): Promise<Array<Record<string, unknown>>> {
    return eventually(
      () => (this.messages().length >= count ? this.messages() : undefined),
      timeoutMs,
      `${count} SSE messages (have ${this.messages().length})`,
    );
  }

  abort(): void {
    this.#abort.abort();
  }
}

export class RawSession {
  readonly url: string;
  readonly version: string;
  sessionId = '';

  constructor(url: string, version = '2025-11-25') {
    this.url = url;
    this.version = version;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': this.version,
      ...(this.sessionId === '' ? {} : { 'Mcp-Session-Id': this.sessionId }),
      ...extra,
    };
  }

  async initialize(): Promise<this> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: this.headers({ Accept: 'application/json, text/event-stream' }),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: this.version,
          capabilities: {},
          clientInfo: { name: 'raw-sse', version: '1' },
        },
      }),
    });
    if (response.status !== 200)
      throw new Error(`initialize: ${response.status} ${await response.text()}`);
    this.sessionId = response.headers.get('mcp-session-id') ?? '';
    await response.text();
    await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return this;
  }

  post(
    message: unknown,
    extra: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<Response> {
    return fetch(this.url, {
      method: 'POST',
      headers: this.headers(extra),
      body: JSON.stringify(message),
      ...(signal === undefined ? {} : { signal }),
    });
  }

  /** A request whose answer is read as events (the response must be SSE). */
  async stream(message: unknown): Promise<EventReader> {
    const abort = new AbortController();
    const response = await this.post(message, {}, abort.signal);
    return new EventReader(response, abort);
  }

  /** Opens (or, with `lastEventId`, resumes) a GET stream. */
  async get(lastEventId?: string): Promise<EventReader> {
    const abort = new AbortController();
    const response = await fetch(this.url, {
      method: 'GET',
      headers: this.headers({
        Accept: 'text/event-stream',
        ...(lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId }),
      }),
      signal: abort.signal,
    });
    return new EventReader(response, abort);
  }

  /** Calls a tool and returns the JSON-RPC response (asks for JSON only). */
  async call(
    id: number | string,
    name: string,
    args: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const response = await this.post(
      { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } },
      { Accept: 'application/json, text/event-stream' },
    );
    return (await response.json()) as Record<string, unknown>;
  }
}
