/**
 * The only module that touches uWebSockets.js. It turns uWS's stack-allocated request and
 * its response object into plain values (`IncomingRequest` of http-message.ts, `Reply`,
 * `EventStream`), so the rest of the supervisor never meets uWS's rules, which are enforced
 * here:
 * - the request is only valid during the handler's synchronous part: copy everything first;
 * - every response that is not answered synchronously needs `onAborted`;
 * - `onData` chunks are neutered after the callback: copy them;
 * - writes outside the handler's synchronous part must be corked;
 * - `write()` returning false means backpressure: queue and resume on `onWritable`.
 */
import { createRequire } from 'node:module';
import type * as Uws from '@trufflesuite/uws-js-unofficial';
import { logger } from '../../shared/log.js';
import { statusLine, type IncomingRequest } from './http-message.js';

const log = logger('ingress');

type UwsModule = typeof Uws;
type HttpResponse = Uws.HttpResponse;

/** Which uWS build is running: it is always a native one, never the JS emulation. */
export interface UwsBuild {
  name: string;
  version: string;
  module: UwsModule;
}

const require = createRequire(import.meta.url);

/**
 * Loads the best native uWS build for this Node and libc. `@trufflesuite/uws-js-unofficial`'s
 * package entry silently falls back to a slow emulation when its binary does not load, so
 * its binary is required directly; `@btc-vision/uwebsockets.js` throws on its own.
 */
export function loadNativeUws(): UwsBuild {
  const failures: string[] = [];
  const candidates: Array<{ name: string; load: () => UwsModule }> = [
    { name: '@btc-vision/uwebsockets.js', load: () => require('@btc-vision/uwebsockets.js') },
    {
      name: '@trufflesuite/uws-js-unofficial',
      load: () =>
        require(
          `@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`,
        ),
    },
  ];
  for (const candidate of candidates) {
    try {
      const module = candidate.load();
      const version = (require(`${candidate.name}/package.json`) as { version: string }).version;
      return { name: candidate.name, version, module };
    } catch (error) {
      failures.push(`${candidate.name}: ${firstLine(error)}`);
    }
  }
  throw new Error(
    `No native uWebSockets.js build loads on Node ${process.version} (${process.platform}-${process.arch}, ABI ${process.versions.modules}):\n  ${failures.join('\n  ')}`,
  );
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0] ?? '';
}

export interface RequestHandler {
  handle(request: IncomingRequest, reply: Reply): void;
}

/** One top-level path (`/mcp`) and whether it also takes one more segment (`/mcp/<segment>`). */
export interface Mount {
  handler: RequestHandler;
  takesSegment: boolean;
}

/**
 * Where requests go, decided here so the hot path goes from the socket straight to its
 * transport: `/<name>` and, for a mount that takes one, `/<name>/<segment>` go to the mount
 * named `name`; every other path goes to `fallback`.
 */
export interface Routes {
  mounts: ReadonlyMap<string, Mount>;
  fallback: RequestHandler;
}

function routeOf(routes: Routes, request: IncomingRequest): RequestHandler {
  const [, name = '', segment, extra] = request.path.split('/');
  const mount = routes.mounts.get(name);
  if (mount === undefined || extra !== undefined) return routes.fallback;
  if (segment === undefined) return mount.handler;
  if (!mount.takesSegment) return routes.fallback;
  if (segment !== '') request.segment = segment;
  return mount.handler;
}

/** One response. Every method is safe to call after the client went away (it does nothing). */
export class Reply {
  #res: HttpResponse;
  /** Bytes a stream of this response may queue for a client that does not read. */
  readonly #streamQueueBytes: number;
  #abortHandlers: Array<() => void> = [];
  /** The client closed the connection before the response ended. */
  aborted = false;
  /** The response was ended (or turned into a stream). */
  answered = false;

  constructor(res: HttpResponse, streamQueueBytes: number) {
    this.#res = res;
    this.#streamQueueBytes = streamQueueBytes;
    res.onAborted(() => {
      this.aborted = true;
      for (const handler of this.#abortHandlers) guarded('an abort handler', handler);
    });
  }

  /** The stream this response became, if it did. */
  #stream: EventStream | undefined;

  /**
   * A handler threw while serving this request: the client gets a 500 (or its stream ends),
   * never the daemon's death. The error is logged with its stack.
   */
  failed(): void {
    if (this.#stream !== undefined) this.#stream.end();
    else
      this.json(
        500,
        '{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"Internal error: the daemon failed to handle this request; the cause is in its log"}}',
      );
  }

  /** Called when the client goes away before the response (or stream) ended. */
  onAbort(handler: () => void): void {
    this.#abortHandlers.push(handler);
  }

  send(status: number, headers: Record<string, string>, body: string | Buffer = ''): void {
    if (this.aborted || this.answered) return;
    this.answered = true;
    const res = this.#res;
    res.cork(() => {
      res.writeStatus(statusLine(status));
      for (const name in headers) res.writeHeader(name, headers[name] as string);
      res.end(body);
    });
  }

  json(status: number, body: string, headers: Record<string, string> = {}): void {
    this.send(status, { 'Content-Type': 'application/json', ...headers }, body);
  }

  /** Starts a streamed response (SSE) with these headers; the status is 200. */
  stream(headers: Record<string, string>): EventStream {
    this.answered = true;
    this.#stream = new EventStream(this.#res, this, headers, this.#streamQueueBytes);
    return this.#stream;
  }
}

/**
 * A long-lived streamed response. Chunks the socket cannot take now are queued and sent on
 * `onWritable`; a client that stops reading is cut off once the queue passes `maxQueued`,
 * so one slow reader cannot grow the daemon's memory without bound.
 */
export class EventStream {
  #res: HttpResponse;
  #queue: string[] = [];
  #queuedBytes = 0;
  #closeHandlers: Array<() => void> = [];
  #maxQueued: number;
  closed = false;

  constructor(res: HttpResponse, reply: Reply, headers: Record<string, string>, maxQueued: number) {
    this.#res = res;
    this.#maxQueued = maxQueued;
    reply.onAbort(() => this.#markClosed());
    if (reply.aborted) {
      this.closed = true;
      return;
    }
    res.cork(() => {
      res.writeStatus('200 OK');
      for (const name in headers) res.writeHeader(name, headers[name] as string);
      // Flushes the headers now: the client learns the stream is open before any event.
      res.write('');
    });
    res.onWritable(() => this.#drain());
  }

  /** Called once when the stream ends, whoever ended it. */
  onClose(handler: () => void): void {
    if (this.closed) handler();
    else this.#closeHandlers.push(handler);
  }

  write(chunk: string): void {
    if (this.closed) return;
    if (this.#queue.length > 0) {
      this.#enqueue(chunk);
      return;
    }
    let ok = false;
    this.#res.cork(() => {
      ok = this.#res.write(chunk);
    });
    // uWS keeps what it could not send in its own buffer; wait for onWritable before more.
    if (!ok) this.#queue.push('');
  }

  end(chunk = ''): void {
    if (this.closed) return;
    this.#queue.length = 0;
    this.#res.cork(() => this.#res.end(chunk));
    this.#markClosed();
  }

  #enqueue(chunk: string): void {
    this.#queue.push(chunk);
    this.#queuedBytes += Buffer.byteLength(chunk);
    if (this.#queuedBytes > this.#maxQueued) {
      this.#res.close();
      this.#markClosed();
    }
  }

  #drain(): boolean {
    while (this.#queue.length > 0 && !this.closed) {
      const chunk = this.#queue[0] as string;
      let ok = false;
      this.#res.cork(() => {
        ok = this.#res.write(chunk);
      });
      this.#queue.shift();
      this.#queuedBytes -= Buffer.byteLength(chunk);
      if (!ok) return false;
    }
    return true;
  }

  #markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const handler of this.#closeHandlers.splice(0)) guarded('a stream close handler', handler);
  }
}

/**
 * Runs a callback uWS (or a stream) calls. An exception thrown out of a uWS callback ends the
 * process, so each is caught here and logged; `onError` lets the caller fail its request.
 */
function guarded(what: string, run: () => void, onError?: () => void): void {
  try {
    run();
  } catch (error) {
    log.error(
      `${what} threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    if (onError !== undefined) guarded('an error handler', onError);
  }
}

export interface ListenOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  /** What a stream may queue for a client that does not read it ("limits.streamQueueBytes"). */
  streamQueueBytes: number;
  routes: Routes;
  /** Answer for a body over the limit (the ingress sends it with status 413). */
  tooLarge: (bytes: number, limit: number) => string;
  /**
   * Asynchronous work a request needs before it is routed (verifying a bearer JWT,
   * access.ts); undefined: route at once, as nearly every request is.
   */
  prepare?: (request: IncomingRequest) => Promise<void> | undefined;
}

export interface ListeningSocket {
  port: number;
  close(): void;
}

/** Starts the HTTP server; rejects if uWS cannot listen on host:port. */
export function listen(build: UwsBuild, options: ListenOptions): Promise<ListeningSocket> {
  const app = build.module.App();
  app.any('/*', (res, req) => {
    const request: IncomingRequest = {
      method: req.getMethod().toUpperCase(),
      path: req.getUrl(),
      query: req.getQuery() ?? '',
      // Null prototype: a header named like an Object method is just a header.
      headers: Object.create(null) as Record<string, string>,
      body: EMPTY,
    };
    req.forEach((name, value) => {
      request.headers[name] = value;
    });
    const reply = new Reply(res, options.streamQueueBytes);
    if (request.method === 'GET' || request.method === 'DELETE' || request.method === 'HEAD') {
      handle(options, request, reply);
      return;
    }
    readBody(res, reply, request, options);
  });
  return new Promise((resolve, reject) => {
    app.listen(options.host, options.port, (socket) => {
      if (!socket) {
        reject(new Error(`cannot listen on ${options.host}:${options.port}`));
        return;
      }
      resolve({
        port: build.module.us_socket_local_port(socket),
        close: () => build.module.us_listen_socket_close(socket),
      });
    });
  });
}

const EMPTY = Buffer.alloc(0);

function readBody(
  res: HttpResponse,
  reply: Reply,
  request: IncomingRequest,
  options: ListenOptions,
): void {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (declared > options.maxBodyBytes) {
    reply.json(413, options.tooLarge(declared, options.maxBodyBytes), { Connection: 'close' });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let rejected = false;
  res.onData((chunk, isLast) => {
    if (rejected) return;
    size += chunk.byteLength;
    if (size > options.maxBodyBytes) {
      rejected = true;
      reply.json(413, options.tooLarge(size, options.maxBodyBytes), { Connection: 'close' });
      return;
    }
    // The ArrayBuffer is neutered when this callback returns: copy it.
    if (chunk.byteLength > 0) chunks.push(Buffer.from(chunk.slice(0)));
    if (!isLast) return;
    request.body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    handle(options, request, reply);
  });
}

function handle(options: ListenOptions, request: IncomingRequest, reply: Reply): void {
  const pending = prepared(options, request);
  if (pending === undefined) route(options, request, reply);
  else {
    // The request is plain data by now; the reply has its abort handler and corks its writes.
    const next = () => route(options, request, reply);
    pending.then(next, next);
  }
}

/** What `options.prepare` waits for; a prepare that throws is logged and routes at once. */
function prepared(options: ListenOptions, request: IncomingRequest): Promise<void> | undefined {
  try {
    return options.prepare?.(request);
  } catch (error) {
    log.error(`preparing ${request.method} ${request.path} threw: ${firstLine(error)}`);
    return undefined;
  }
}

function route(options: ListenOptions, request: IncomingRequest, reply: Reply): void {
  guarded(
    `${request.method} ${request.path}`,
    () => routeOf(options.routes, request).handle(request, reply),
    () => reply.failed(),
  );
}
