/**
 * The GET streams of a session on `/mcp`, for the endpoint (streamable-http.ts): the session's
 * standing stream for messages not tied to a request, or, with `Last-Event-ID`, a dropped
 * stream continued after the events it replays
 * (https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#listening-for-messages-from-the-server).
 */
import { rpcError } from '../../shared/errors.js';
import { logger } from '../../shared/log.js';
import type { IncomingRequest } from '../ingress/http-message.js';
import type { EventStream, Reply } from '../ingress/uws.js';
import { SSE_HEADERS, sseMessage } from '../ingress/sse.js';
import { type Drain, refuseWhileDraining } from '../ingress/shutdown.js';
import type { Grant } from '../ingress/access.js';
import type { Session, Sessions } from '../session/sessions.js';
import type { SessionStreams } from './session-streams.js';
import { type Replayed, parseEventId } from './resumable-stream.js';
import { NO_SESSION, httpError, sessionOf } from './http-session.js';
import { parseAccept } from './accept.js';

const log = logger('mcp');

export class GetStreams {
  readonly #sessions: Sessions;
  readonly #options: { readonly drain: Drain };
  /** The endpoint's open streams, kept alive with comments. */
  readonly #streams: Set<EventStream>;
  /** The session's streams and open responses (the endpoint's, made on first use). */
  readonly #streamsOf: (session: Session) => SessionStreams;

  constructor(
    sessions: Sessions,
    options: { readonly drain: Drain },
    streams: Set<EventStream>,
    streamsOf: (session: Session) => SessionStreams,
  ) {
    this.#sessions = sessions;
    this.#options = options;
    this.#streams = streams;
    this.#streamsOf = streamsOf;
  }

  /** A GET of `/mcp` for a session (`request.segment`: its profile). */
  handle(request: IncomingRequest, reply: Reply, grant: Grant): void {
    if (!parseAccept(request.headers['accept']).sse) {
      return httpError(
        reply,
        406,
        rpcError(NO_SESSION, 'Not Acceptable: the GET stream needs Accept: text/event-stream'),
      );
    }
    const session = sessionOf(this.#sessions, request, reply, null, grant);
    if (session === undefined) return;
    const lastEventId = request.headers['last-event-id'];
    if (lastEventId !== undefined) return this.#resume(reply, session, lastEventId);
    if (this.#options.drain.draining) return refuseWhileDraining(reply, null);
    const streams = this.#streamsOf(session);
    if (streams.standingConnected) {
      return httpError(
        reply,
        409,
        rpcError(
          NO_SESSION,
          'Conflict: this session already has an open GET stream; only one is allowed (send Last-Event-ID to resume it instead)',
        ),
      );
    }
    streams.attachStanding(
      this.#track(session, reply.stream(this.#sseHeaders(session))),
      undefined,
    );
  }

  /**
   * GET with `Last-Event-ID`: the stream that id names continues on this connection, after
   * the events it replays (https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#resumability-and-redelivery).
   * A POST stream with nothing more to send (answered, cancelled, or given up) gets 204.
   */
  #resume(reply: Reply, session: Session, lastEventId: string): void {
    const position = parseEventId(lastEventId);
    if (position === undefined) {
      return httpError(
        reply,
        400,
        rpcError(
          NO_SESSION,
          `Bad Request: Last-Event-ID '${lastEventId.slice(0, 64)}' is not an event id of this server; open the GET stream without it`,
        ),
      );
    }
    const streams = this.#streamsOf(session);
    const isStanding = position.stream === 'g';
    if (!isStanding && !streams.hasPost(position.stream)) {
      reply.send(204, {});
      return;
    }
    const connection = this.#track(session, reply.stream(this.#sseHeaders(session)));
    // The buffer is bounded: what it no longer holds is gone. Said in the log and, in band,
    // on the stream itself (an event without an id, so it is never replayed).
    const onGap = ({ missed, replayed }: Replayed): void => {
      const message = `${missed} event(s) of this stream after ${lastEventId} were dropped from its replay buffer ("limits.replayBufferBytes") before the client came back; the ${replayed} kept follow`;
      log.warn(`session ${session.id.slice(0, 8)}…: ${message}`);
      connection.write(
        sseMessage(
          JSON.stringify({
            jsonrpc: '2.0',
            method: 'notifications/message',
            params: { level: 'warning', logger: 'mcp-director', data: message },
          }),
        ),
      );
    };
    if (isStanding) streams.attachStanding(connection, position.seq, onGap);
    else streams.attachPost(position.stream, connection, position.seq, onGap);
  }

  #sseHeaders(session: Session): Record<string, string> {
    return { ...SSE_HEADERS, 'Mcp-Session-Id': session.id };
  }

  /** Keeps a GET connection alive with comments until it closes; its end counts as activity. */
  #track(session: Session, stream: EventStream): EventStream {
    this.#streams.add(stream);
    stream.onClose(() => {
      this.#streams.delete(stream);
      session.lastSeen = Date.now();
    });
    return stream;
  }
}
