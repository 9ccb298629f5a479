/**
 * The deprecated HTTP+SSE transport of 2024-11-05
 * (https://modelcontextprotocol.io/specification/2024-11-05/basic/transports#http-with-sse;
 * docs/architecture.md#classifying-a-request), for clients that still use it: `GET /sse` opens
 * a stream whose first event names the POST endpoint (`/messages?sessionId=<id>`); every
 * message the client sends is POSTed there and answered 202, and everything the server sends
 * (responses included) goes down the stream.
 */
import { placeOf, type Place, type Projects } from '../session/projects.js';
import { rpcError } from '../../shared/errors.js';
import type { Limits } from '../../shared/config/types.js';
import type { WireError } from '../../shared/errors.js';
import type { Access, Grant } from '../ingress/access.js';
import {
  DEFERRED,
  rateLimitedError,
  replyRateLimited,
  type Admitted,
  type RateIdentity,
} from '../ingress/rate-limit.js';
import type { Dispatcher } from '../relay/dispatch.js';
import type { Responder } from '../relay/call.js';
import type { IncomingRequest } from '../ingress/http-message.js';
import type { EventStream, Reply } from '../ingress/uws.js';
import { SSE_HEADERS, SSE_KEEPALIVE, sseMessage } from '../ingress/sse.js';
import { initializeSession } from './initialize.js';
import type { ServerIdentity } from './initialize.js';
import {
  classify,
  errorFrame,
  invalidRequest,
  parseMessage,
  resultFrame,
} from '../../shared/jsonrpc.js';
import type { IncomingMessage } from '../../shared/jsonrpc.js';
import { checkHostAndOrigin } from '../ingress/origin.js';
import {
  SESSIONS_RETRY_AFTER_S,
  type Session,
  type SessionChannel,
  type Sessions,
} from '../session/sessions.js';
import {
  type Drain,
  carriesRequest,
  refuseWhileDraining,
  requestIdOf,
} from '../ingress/shutdown.js';

export const SSE_PATH = '/sse';
export const MESSAGES_PATH = '/messages';

/** One open `GET /sse` stream and, once the client initialized, its MCP session. */
interface SseConnection {
  stream: EventStream;
  channel: SessionChannel;
  session: Session | undefined;
  /** Decided when the stream opened; every POST must be decided the same way. */
  grant: Grant;
  /** The project the stream's GET named (session/projects.ts), for its sessions. */
  place: Place & { ok: true };
}

export interface SseEndpointOptions extends ServerIdentity {
  listenHost: string;
  allowedOrigins: readonly string[];
  access: Access;
  limits: Readonly<Limits>;
  drain: Drain;
  projects: Projects;
}

export class SseEndpoint {
  readonly #dispatcher: Dispatcher;
  readonly #sessions: Sessions;
  readonly #options: SseEndpointOptions;
  readonly #connections = new Map<string, SseConnection>();
  readonly #keepAlive: NodeJS.Timeout;

  constructor(dispatcher: Dispatcher, sessions: Sessions, options: SseEndpointOptions) {
    this.#dispatcher = dispatcher;
    this.#sessions = sessions;
    this.#options = options;
    this.#keepAlive = setInterval(() => {
      for (const { stream } of this.#connections.values()) stream.write(SSE_KEEPALIVE);
    }, 25_000).unref();
  }

  close(): void {
    clearInterval(this.#keepAlive);
    for (const { stream } of this.#connections.values()) stream.end();
  }

  /** A request to `/sse`, `/sse/<profile>` (`request.segment`) or `/messages`. */
  handle(request: IncomingRequest, reply: Reply): void {
    const refused = checkHostAndOrigin(
      request.headers,
      this.#options.listenHost,
      this.#options.allowedOrigins,
    );
    if (refused !== undefined) return fail(reply, 403, `Forbidden: ${refused}`);
    const isMessages = request.path === MESSAGES_PATH;
    if (!isMessages && request.method === 'GET') {
      const place = placeOf(this.#options.projects, request.headers, request.query);
      const access = this.#options.access.decide(
        request.headers,
        request.segment,
        place.ok ? place.profile : undefined,
      );
      if (!access.ok) return refuse(reply, access);
      if (this.#options.drain.draining) return refuseWhileDraining(reply, null);
      // On this transport a stream becomes a session: no stream without room for one.
      if (!this.#sessions.makeRoom()) return atCapacity(reply);
      if (!place.ok) return fail(reply, 403, `Forbidden: ${place.reason}`);
      return this.#open(reply, access, place);
    }
    if (isMessages && request.method === 'POST') return this.#post(request, reply);
    const allowed = isMessages ? 'POST' : 'GET';
    fail(reply, 405, `Method ${request.method} is not allowed on ${request.path}: use ${allowed}`, {
      Allow: allowed,
    });
  }

  #open(reply: Reply, grant: Grant, place: Place & { ok: true }): void {
    // Like a session id, it names this node when there are several (a balancer routes the
    // POSTs by it: examples/haproxy.cfg, examples/nginx.conf).
    const id = this.#options.sessionId();
    const stream = reply.stream(SSE_HEADERS);
    const channel: SessionChannel = {
      send: (frame) => stream.write(sseMessage(frame)),
      end: () => stream.end(),
      get closed() {
        return stream.closed;
      },
      get connected() {
        return !stream.closed;
      },
    };
    const connection: SseConnection = { stream, channel, session: undefined, grant, place };
    this.#connections.set(id, connection);
    stream.write(`event: endpoint\ndata: ${MESSAGES_PATH}?sessionId=${id}\n\n`);
    // On this transport the stream is the session: when it closes, the session ends.
    stream.onClose(() => {
      this.#connections.delete(id);
      if (connection.session !== undefined) this.#sessions.end(connection.session.id);
    });
  }

  #post(request: IncomingRequest, reply: Reply): void {
    const id = new URLSearchParams(request.query).get('sessionId');
    if (id === null || id === '') {
      return fail(
        reply,
        400,
        'Bad Request: the sessionId query parameter is required; open GET /sse to get the endpoint',
      );
    }
    const connection = this.#connections.get(id);
    if (connection === undefined) {
      const owner = this.#sessions.ownerOf(id);
      return fail(
        reply,
        404,
        owner === undefined
          ? 'Session not found: its /sse stream is closed or never existed; open GET /sse again'
          : `Session not found on this node: its /sse stream is node '${owner}''s (gone, or the balancer does not route /messages by sessionId); open GET /sse again`,
      );
    }
    // Each request is decided on its own: a token revoked since the stream opened stops here.
    const access = this.#options.access.decide(request.headers, connection.grant.profile);
    if (!access.ok) return refuse(reply, access);
    if (access.identity !== connection.grant.identity) {
      return fail(
        reply,
        403,
        'Forbidden: this stream was opened with another token or sign-in; send its messages with that one',
      );
    }
    const parsed = parseMessage(
      request.body.toString('utf8'),
      'body',
      this.#options.limits.maxJsonDepth,
    );
    if (!parsed.ok) return reply.json(400, errorFrame(null, parsed.error));
    const body = parsed.value;
    if (this.#options.drain.draining && carriesRequest(body))
      return refuseWhileDraining(reply, requestIdOf(body));
    if (Array.isArray(body)) {
      reply.send(202, {});
      for (const item of body) this.#message(connection, classify(item), access);
      return;
    }
    // A single request over its rate limit is refused on the POST itself (429).
    const message = classify(body);
    if (message.kind !== 'request') {
      reply.send(202, {});
      return this.#message(connection, message, undefined);
    }
    const admitted: Admitted = (limited) => {
      if (limited !== undefined) return replyRateLimited(reply, message.id, limited);
      reply.send(202, {});
      this.#message(connection, message, undefined);
    };
    const decision = this.#options.access.admit(access, message.method, admitted);
    if (decision !== DEFERRED) admitted(decision);
  }

  /** `caller`: count a request against the rate limits here (batch items), else counted. */
  #message(
    connection: SseConnection,
    message: IncomingMessage,
    caller: RateIdentity | undefined,
  ): void {
    const { channel } = connection;
    const session = connection.session;
    switch (message.kind) {
      case 'invalid':
        channel.send(errorFrame(message.id, invalidRequest(message.reason)));
        return;
      case 'response':
        if (session !== undefined) this.#dispatcher.response(session, message.id, message.message);
        return;
      case 'notification':
        if (session !== undefined)
          this.#dispatcher.notification(session, message.method, message.params);
        return;
      case 'request': {
        if (message.method === 'initialize') {
          if (session !== undefined) {
            // A second initialize replaces the session but keeps the stream.
            session.channel = undefined;
            this.#sessions.end(session.id);
          }
          if (!this.#sessions.makeRoom()) {
            channel.send(errorFrame(message.id, tooManySessions()));
            return;
          }
          const started = initializeSession(
            message.params,
            this.#options,
            connection.grant,
            'sse',
            connection.place,
          );
          started.session.channel = channel;
          connection.session = started.session;
          this.#sessions.add(started.session);
          channel.send(resultFrame(message.id, JSON.stringify(started.result)));
          return;
        }
        if (session === undefined) {
          channel.send(errorFrame(message.id, invalidRequest('send initialize first')));
          return;
        }
        session.lastSeen = Date.now();
        const responder: Responder = { respond: channel.send, notify: channel.send };
        const dispatch = (): void =>
          this.#dispatcher.request(session, message.id, message.method, message.params, responder);
        if (caller === undefined) return dispatch();
        const admitted: Admitted = (limited) => {
          if (limited !== undefined)
            channel.send(errorFrame(message.id, rateLimitedError(limited)));
          else dispatch();
        };
        const decision = this.#options.access.admit(caller, message.method, admitted);
        if (decision !== DEFERRED) admitted(decision);
      }
    }
  }
}

function tooManySessions(): WireError {
  return rpcError(
    -32000,
    `Service Unavailable: MCP Director has as many sessions as it allows ("limits.maxSessions"), each busy; retry in ${SESSIONS_RETRY_AFTER_S} s`,
  );
}

function atCapacity(reply: Reply): void {
  reply.json(503, errorFrame(null, tooManySessions()), {
    'Retry-After': String(SESSIONS_RETRY_AFTER_S),
  });
}

function refuse(
  reply: Reply,
  access: { status: number; message: string; headers: Record<string, string> },
): void {
  fail(reply, access.status, access.message, access.headers);
}

/** An HTTP error with a JSON-RPC error body (the SDK's -32000 for transport faults). */
function fail(
  reply: Reply,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  reply.json(status, errorFrame(null, rpcError(-32000, message)), headers);
}
