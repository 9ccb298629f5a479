/**
 * The HTTP+SSE transport of protocol 2024-11-05, client side, for targets that still speak
 * it (https://modelcontextprotocol.io/specification/2024-11-05/basic/transports#http-with-sse):
 * `GET` the SSE URL; its first event, `endpoint`, names where to POST; every POST is answered
 * `202 Accepted` and its JSON-RPC response arrives as a `message` event on the stream. One
 * session is one stream plus a second keep-alive connection for the POSTs (the stream holds
 * the first), so on this transport a bench "connection" is a whole session.
 */
import { Client } from 'undici';
import { eventParser } from '../../shared/event-stream.js';
import { clip, parseJson } from '../workload.js';
import { exchangeOver } from '../preflight.js';
import type { AnswersById, Exchange } from '../preflight.js';
import { initializeBody } from './mcp-http.js';

type Waiter = (message: unknown, failure?: string) => void;

export class SseSession implements AnswersById {
  readonly #stream: Client;
  readonly #posts: Client;
  readonly #waiting = new Map<number, Waiter>();
  readonly #timeoutMs: number;
  #endpoint = '';
  #closed: string | undefined;

  private constructor(origin: string, timeoutMs: number) {
    this.#stream = new Client(origin);
    this.#posts = new Client(origin, { keepAliveTimeout: 60_000 });
    this.#timeoutMs = timeoutMs;
    this.exchange = exchangeOver(this, timeoutMs);
  }

  /** Opens the stream, learns the endpoint, and initializes the session. */
  static async open(url: URL, timeoutMs: number, clientName: string): Promise<SseSession> {
    const session = new SseSession(url.origin, timeoutMs);
    try {
      await session.#connect(url.pathname + url.search);
      const init = await session.exchange(initializeBody(clientName), 0);
      if (typeof init !== 'object' || init === null || !('result' in init)) {
        throw new Error(`initialize failed: ${clip(JSON.stringify(init))}`);
      }
      await session.#post('{"jsonrpc":"2.0","method":"notifications/initialized"}');
      return session;
    } catch (error) {
      await session.close();
      throw error;
    }
  }

  async #connect(path: string): Promise<void> {
    const { statusCode, headers, body } = await this.#stream.request({
      path,
      method: 'GET',
      headers: { accept: 'text/event-stream' },
      headersTimeout: this.#timeoutMs,
      bodyTimeout: 0,
    });
    const type = String(headers['content-type'] ?? '');
    if (statusCode !== 200 || !type.startsWith('text/event-stream')) {
      await body.dump();
      throw new Error(`GET ${path} answered HTTP ${statusCode} (${type || 'no content type'})`);
    }
    let onEndpoint: () => void = () => {};
    const endpoint = new Promise<void>((resolve) => (onEndpoint = resolve));
    const parser = eventParser({
      onEvent: (event) => {
        if (event.event === 'endpoint') {
          // Relative to the stream's URL; only its path and query are used (same origin).
          const target = new URL(event.data, new URL(path, 'http://origin'));
          this.#endpoint = target.pathname + target.search;
          onEndpoint();
        } else this.#deliver(parseJson(event.data));
      },
      onRetry: () => {},
    });
    const decoder = new TextDecoder();
    body.on('data', (chunk: Buffer) => {
      try {
        parser.feed(decoder.decode(chunk, { stream: true }));
      } catch (error) {
        this.#end(`the SSE stream broke: ${(error as Error).message}`);
        body.destroy();
      }
    });
    body.on('error', () => {});
    body.on('close', () => this.#end('the SSE stream closed'));
    const timer = setTimeout(() => this.#end('no endpoint event'), this.#timeoutMs);
    try {
      await Promise.race([
        endpoint,
        new Promise((_, reject) => body.once('close', () => reject(new Error(this.#closed)))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  #deliver(message: unknown): void {
    const id = (message as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'number' || (message as { method?: unknown }).method !== undefined) return;
    const waiter = this.#waiting.get(id);
    if (waiter === undefined) return;
    this.#waiting.delete(id);
    waiter(message);
  }

  #end(reason: string): void {
    this.#closed ??= reason;
    for (const waiter of this.#waiting.values()) waiter(undefined, this.#closed);
    this.#waiting.clear();
  }

  async #post(body: string): Promise<void> {
    const { statusCode, body: answer } = await this.#posts.request({
      path: this.#endpoint,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
    });
    await answer.dump();
    if (statusCode < 200 || statusCode > 299) throw new PostRefused(statusCode);
  }

  /** Sends request `id`; `onAnswer` gets its response, or undefined and a short reason. */
  send(body: string, id: number, onAnswer: Waiter): void {
    if (this.#closed !== undefined) return onAnswer(undefined, this.#closed);
    this.#waiting.set(id, onAnswer);
    this.#post(body).catch((error: unknown) => {
      if (!this.#waiting.delete(id)) return;
      onAnswer(undefined, failureOf(error));
    });
  }

  /** Gives up on request `id` (a late answer is dropped). */
  forget(id: number): void {
    this.#waiting.delete(id);
  }

  readonly exchange: Exchange;

  async close(): Promise<void> {
    this.#end('closed');
    await Promise.all([this.#stream.destroy(), this.#posts.destroy()]);
  }
}

class PostRefused extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

function failureOf(error: unknown): string {
  if (error instanceof PostRefused) return error.message;
  const code = (error as { code?: unknown }).code;
  const name = typeof code === 'string' ? code : (error as Error).name;
  return name.includes('TIMEOUT') ? 'timeout' : `transport ${name}`;
}
