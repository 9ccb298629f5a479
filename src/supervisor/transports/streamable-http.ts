/**
 * The Streamable HTTP endpoint `/mcp`, for both eras on one URL
 * (docs/architecture.md#classifying-a-request): a POST whose request claims the stateless
 * envelope (`_meta` protocol version) and carries no session id goes to `ModernEndpoint`
 * (2026-07-28); everything else is the session era.
 *
 * Session revisions 2025-03-26, 2025-06-18 and 2025-11-25
 * (https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http;
 * status codes: docs/architecture.md#status-codes): POST carries messages and is answered as
 * JSON or as an SSE stream (2025-03-26 batches: `batch.ts`), GET opens the session's stream for
 * messages not tied to a request (`get-streams.ts`), DELETE ends the session. HTTP status
 * rules: 400 and 404 for a missing or unknown session id (`http-session.ts`), 202 for
 * notifications and responses, 403 for a foreign Host/Origin.
 */
import { placeOf } from '../session/projects.js';
import type { JsonObject, RequestId } from '../../shared/json.js';
import type { Limits } from '../../shared/config/types.js';
import { isJsonObject } from '../../shared/json.js';
import { JsonRpcCode, rpcError } from '../../shared/errors.js';
import type { IncomingRequest } from '../ingress/http-message.js';
import type { EventStream, Reply } from '../ingress/uws.js';
import { SSE_HEADERS, SSE_KEEPALIVE, sseMessage } from '../ingress/sse.js';
import type { Dispatcher } from '../relay/dispatch.js';
import { SESSIONS_RETRY_AFTER_S, type Session, type Sessions } from '../session/sessions.js';
import { SessionStreams } from './session-streams.js';
import {
  type Drain,
  carriesRequest,
  refuseWhileDraining,
  requestIdOf,
} from '../ingress/shutdown.js';
import { initializeSession } from './initialize.js';
import {
  classify,
  invalidRequest,
  parseMessage,
  resultFrame,
  type IncomingMessage,
} from '../../shared/jsonrpc.js';
import { checkHostAndOrigin } from '../ingress/origin.js';
import { canBeAsked } from '../session/client-capabilities.js';
import { MODERN_PROTOCOL_VERSIONS, claimsModern } from '../../shared/eras.js';
import { ModernEndpoint, type ModernOptions } from './stateless-http.js';
import type { ProfileViews } from '../catalog/profile-views.js';
import { LIST_METHODS } from '../catalog/catalog.js';
import type { Access, Grant } from '../ingress/access.js';
import { DEFERRED, replyRateLimited, type Admitted } from '../ingress/rate-limit.js';
import { Batches } from './batch.js';
import { NO_SESSION, httpError, sessionOf } from './http-session.js';
import { type Accept, parseAccept } from './accept.js';
import { GetStreams } from './get-streams.js';

export interface EndpointOptions extends ModernOptions {
  listenHost: string;
  allowedOrigins: readonly string[];
  access: Access;
  limits: Readonly<Limits>;
  drain: Drain;
  /** Bytes of events kept per stream for `Last-Event-ID` ("limits.replayBufferBytes"). */
  replayBufferBytes: number;
}

export class McpEndpoint {
  readonly #dispatcher: Dispatcher;
  readonly #sessions: Sessions;
  readonly #options: EndpointOptions;
  readonly #keepAlive: NodeJS.Timeout;
  /** Open GET streams, kept alive with comments. */
  readonly #streams = new Set<EventStream>();
  readonly #modern: ModernEndpoint;
  readonly #batches: Batches;
  readonly #gets: GetStreams;

  constructor(
    dispatcher: Dispatcher,
    sessions: Sessions,
    views: ProfileViews,
    options: EndpointOptions,
  ) {
    this.#dispatcher = dispatcher;
    this.#sessions = sessions;
    this.#options = options;
    this.#batches = new Batches(dispatcher, sessions, options);
    this.#modern = new ModernEndpoint(dispatcher, views, options, {
      track: (stream) => {
        this.#streams.add(stream);
        stream.onClose(() => this.#streams.delete(stream));
      },
    });
    this.#gets = new GetStreams(sessions, options, this.#streams, (session) =>
      this.#streamsOf(session),
    );
    // Idle SSE streams are cut by proxies and OS timers unless something flows.
    this.#keepAlive = setInterval(() => {
      for (const stream of this.#streams) stream.write(SSE_KEEPALIVE);
    }, 25_000).unref();
  }

  close(): void {
    clearInterval(this.#keepAlive);
  }

  /** A request to `/mcp`, or `/mcp/<profile>` (`request.segment`). */
  handle(request: IncomingRequest, reply: Reply): void {
    const refused = checkHostAndOrigin(
      request.headers,
      this.#options.listenHost,
      this.#options.allowedOrigins,
    );
    if (refused !== undefined)
      return httpError(reply, 403, rpcError(NO_SESSION, `Forbidden: ${refused}`));
    // A project the config gives a profile decides the profile of a request that names none.
    const place = placeOf(this.#options.projects, request.headers, request.query);
    const access = this.#options.access.decide(
      request.headers,
      request.segment,
      place.ok ? place.profile : undefined,
    );
    if (!access.ok) {
      return httpError(reply, access.status, rpcError(NO_SESSION, access.message), access.headers);
    }
    switch (request.method) {
      case 'POST':
        return this.#post(request, reply, access);
      case 'GET':
        return this.#gets.handle(request, reply, access);
      case 'DELETE':
        return this.#delete(request, reply, access);
      default:
        return httpError(
          reply,
          405,
          rpcError(
            NO_SESSION,
            `Method ${request.method} is not allowed on /mcp: use POST, GET or DELETE`,
          ),
          {
            Allow: 'GET, POST, DELETE',
          },
        );
    }
  }

  #post(request: IncomingRequest, reply: Reply, grant: Grant): void {
    const contentType = request.headers['content-type'] ?? '';
    if (!contentType.toLowerCase().includes('application/json')) {
      return httpError(
        reply,
        415,
        rpcError(
          NO_SESSION,
          `Unsupported Media Type: send the JSON-RPC message as Content-Type: application/json (got '${contentType}')`,
        ),
      );
    }
    // The client MUST list both types (https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#sending-messages-to-the-server).
    const accept = parseAccept(request.headers['accept']);
    if (!accept.json || !accept.sse) {
      return httpError(
        reply,
        406,
        rpcError(
          NO_SESSION,
          `Not Acceptable: a POST must send Accept: application/json, text/event-stream (got '${request.headers['accept'] ?? ''}')`,
        ),
      );
    }
    const parsed = parseMessage(
      request.body.toString('utf8'),
      'body',
      this.#options.limits.maxJsonDepth,
    );
    if (!parsed.ok) return httpError(reply, 400, parsed.error);
    const body = parsed.value;
    if (this.#options.drain.draining && carriesRequest(body))
      return refuseWhileDraining(reply, requestIdOf(body));
    if (Array.isArray(body)) return this.#batches.handle(request, reply, body, grant);
    const message = classify(body);
    if (message.kind === 'invalid') {
      return httpError(reply, 400, invalidRequest(message.reason), {}, message.id);
    }
    if (message.kind !== 'request') return this.#route(request, reply, message, accept, grant);
    const admitted: Admitted = (limited) => {
      if (limited !== undefined) replyRateLimited(reply, message.id, limited);
      else this.#route(request, reply, message, accept, grant);
    };
    const decision = this.#options.access.admit(grant, message.method, admitted);
    if (decision !== DEFERRED) admitted(decision);
  }

  /** A single message, admitted by the rate limits: to its era's handler or its session. */
  #route(
    request: IncomingRequest,
    reply: Reply,
    message: Exclude<IncomingMessage, { kind: 'invalid' }>,
    accept: Accept,
    grant: Grant,
  ): void {
    const sessionId = request.headers['mcp-session-id'];
    const modernHeader = MODERN_PROTOCOL_VERSIONS.includes(
      request.headers['mcp-protocol-version'] ?? '',
    );
    if (sessionId === undefined && message.kind === 'request') {
      if (claimsModern(message.params))
        return this.#modern.handle(request, reply, message, accept, grant);
      if (modernHeader) {
        return httpError(
          reply,
          400,
          rpcError(
            JsonRpcCode.InvalidParams,
            `Invalid params: the MCP-Protocol-Version header says ${request.headers['mcp-protocol-version']}, but params._meta has no "io.modelcontextprotocol/protocolVersion"; a 2026-07-28 request carries the _meta envelope`,
          ),
          {},
          message.id,
        );
      }
    }
    if (sessionId === undefined && message.kind === 'notification' && modernHeader) {
      // The stateless era has no client notifications over HTTP: accepted, nothing to do.
      reply.send(202, {});
      return;
    }
    if (message.kind === 'request' && message.method === 'initialize') {
      return this.#initialize(request, message.id, message.params, reply, accept, grant);
    }
    const session = sessionOf(
      this.#sessions,
      request,
      reply,
      message.kind === 'request' ? message.id : null,
      grant,
    );
    if (session === undefined) return;
    if (message.kind !== 'request') {
      if (message.kind === 'notification') {
        if (message.method === 'notifications/cancelled') this.#cancelled(session, message.params);
        this.#dispatcher.notification(session, message.method, message.params);
      } else {
        this.#dispatcher.response(session, message.id, message.message);
      }
      reply.send(202, {});
      return;
    }
    // A stream when something may flow before the answer: progress, a backend's request to a
    // client that can answer one, or the router's own question (a list that needs the
    // client's roots first). Otherwise one JSON body, which costs less.
    const streamed =
      accept.sse &&
      (!accept.json ||
        hasProgressToken(message.params) ||
        (ASKING_METHODS.has(message.method) && canBeAsked(session.clientCapabilities)) ||
        (LIST_METHODS.has(message.method) && this.#dispatcher.listMayAsk(session)));
    const streams = this.#streamsOf(session);
    this.#dispatcher.request(
      session,
      message.id,
      message.method,
      message.params,
      streamed
        ? streams.streamResponder(reply, message.id)
        : streams.jsonResponder(reply, message.id),
    );
  }

  /** The session's streams and open responses, made on its first request over HTTP. */
  #streamsOf(session: Session): SessionStreams {
    if (session.streams instanceof SessionStreams) return session.streams;
    const streams = new SessionStreams(session, this.#options.replayBufferBytes, (id, reason) =>
      this.#dispatcher.cancelRequest(session, id, reason),
    );
    session.streams = streams;
    return streams;
  }

  /** The client cancelled a request: its open response ends now, without an answer. */
  #cancelled(session: Session, params: JsonObject): void {
    const id = params['requestId'];
    if (typeof id === 'string' || typeof id === 'number') session.streams?.cancel(id);
  }

  #initialize(
    request: IncomingRequest,
    id: RequestId,
    params: JsonObject,
    reply: Reply,
    accept: Accept,
    grant: Grant,
  ): void {
    // The project the session works in, named on the request (session/projects.ts).
    const place = placeOf(this.#options.projects, request.headers, request.query);
    if (!place.ok)
      return httpError(reply, 403, rpcError(NO_SESSION, `Forbidden: ${place.reason}`), {}, id);
    if (!this.#sessions.makeRoom()) {
      return httpError(
        reply,
        503,
        rpcError(
          NO_SESSION,
          `Service Unavailable: MCP Director has as many sessions as it allows ("limits.maxSessions"), each busy; retry in ${SESSIONS_RETRY_AFTER_S} s`,
        ),
        { 'Retry-After': String(SESSIONS_RETRY_AFTER_S) },
        id,
      );
    }
    const { session, result } = initializeSession(
      params,
      this.#options,
      grant,
      'streamable-http',
      place,
    );
    this.#sessions.add(session);
    const frame = resultFrame(id, JSON.stringify(result));
    const headers = { 'Mcp-Session-Id': session.id };
    if (accept.json) {
      reply.json(200, frame, headers);
    } else {
      reply.stream({ ...SSE_HEADERS, ...headers }).end(sseMessage(frame));
    }
  }

  #delete(request: IncomingRequest, reply: Reply, grant: Grant): void {
    const session = sessionOf(this.#sessions, request, reply, null, grant);
    if (session === undefined) return;
    this.#sessions.end(session.id);
    reply.send(200, {});
  }
}

/** Forwarded requests during which a backend may send the client a request of its own. */
const ASKING_METHODS = new Set([
  'tools/call',
  'prompts/get',
  'resources/read',
  'completion/complete',
]);

function hasProgressToken(params: JsonObject): boolean {
  const meta = params['_meta'];
  return isJsonObject(meta) && meta['progressToken'] !== undefined;
}
