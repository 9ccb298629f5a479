/**
 * The HTTP side of one Streamable HTTP session: its GET stream, the response streams of its
 * POSTs and every response still open, so that
 * - a dropped stream can be resumed with GET + `Last-Event-ID` (its events are numbered and
 *   kept, `resumable-stream.ts`), including a POST stream whose call had not answered yet:
 *   the rest of that call's messages, its response too, arrive on the resuming GET;
 * - a cancelled request (`notifications/cancelled`) ends its open response at once, without
 *   a response, as the spec asks (https://modelcontextprotocol.io/specification/2025-11-25/basic/utilities/cancellation);
 * - the session's end answers every request still open instead of leaving it hanging.
 *
 * A dropped connection is not a cancellation by itself (the spec: "Disconnection SHOULD NOT
 * be interpreted as the client cancelling its request"), so a POST stream that drops keeps
 * its call for `RESUME_GRACE_MS`; a client that does not come back by then has gone, and the
 * call is cancelled. A JSON response has no ids to resume with: its connection closing
 * cancels the call at once.
 */
import type { RequestId } from '../../shared/json.js';
import type { Responder } from '../relay/call.js';
import type { EventStream, Reply } from '../ingress/uws.js';
import { SSE_HEADERS } from '../ingress/sse.js';
import { ResumableStream, type Replayed } from './resumable-stream.js';
import { requestKey, type Session, type SessionResponses } from '../session/sessions.js';

/** How long a dropped POST stream waits for its client to resume it before its call ends. */
export const RESUME_GRACE_MS = 10_000;

/** Clients of this revision and newer get a priming event (empty data) on every stream. */
const PRIMING_SINCE = '2025-11-25';

/** Tells the owner that a request's client has gone: its call is to be cancelled. */
export type Abandon = (id: RequestId, reason: string) => void;

/** A request whose HTTP response is still open. */
interface OpenResponse {
  id: RequestId;
  /** Its response: sent, and the HTTP response ends. */
  respond(frame: string): void;
  /** Cancelled by the client: the HTTP response ends without a response. */
  cancel(): void;
}

interface PostStream {
  stream: ResumableStream;
  /** Running while the stream is dropped and not yet resumed. */
  grace: NodeJS.Timeout | undefined;
}

export class SessionStreams implements SessionResponses {
  readonly #session: Session;
  readonly #maxBytes: number;
  readonly #prime: boolean;
  readonly #abandon: Abandon;
  #standing: ResumableStream | undefined;
  /** POST response streams that can still be resumed, by stream key (`p<n>`). */
  readonly #posts = new Map<string, PostStream>();
  /** Requests whose HTTP response is open, by request key. */
  readonly #open = new Map<string, OpenResponse>();
  #nextPost = 1;

  constructor(session: Session, replayBufferBytes: number, abandon: Abandon) {
    this.#session = session;
    this.#maxBytes = replayBufferBytes;
    this.#prime = session.protocolVersion >= PRIMING_SINCE;
    this.#abandon = abandon;
  }

  /** A client reads one of the streams, waits for a response, or may resume a stream. */
  get busy(): boolean {
    return this.#open.size > 0 || this.#posts.size > 0 || this.#standing?.connected === true;
  }

  /** Whether the GET stream has a client connection now. */
  get standingConnected(): boolean {
    return this.#standing?.connected === true;
  }

  /**
   * Opens the GET stream on `connection`, or resumes it after event `after`. The stream is
   * created by the first GET and from then on keeps what the session is sent while no
   * connection is attached; a GET without `Last-Event-ID` starts from the present.
   */
  attachStanding(
    connection: EventStream,
    after: number | undefined,
    onGap?: (gap: Replayed) => void,
  ): Replayed {
    let stream = this.#standing;
    if (stream === undefined) {
      const created = new ResumableStream('g', this.#maxBytes, this.#prime);
      stream = created;
      this.#standing = created;
      this.#session.channel = {
        send: (frame) => created.send(frame),
        end: () => created.end(),
        get closed() {
          return created.ended;
        },
        get connected() {
          return created.connected;
        },
      };
    }
    return stream.attach(connection, after ?? stream.lastSeq, onGap);
  }

  /** Whether POST stream `key` can still be resumed (it has more to send). */
  hasPost(key: string): boolean {
    return this.#posts.has(key);
  }

  /** Resumes POST stream `key` after event `after`; undefined when it has nothing more to send. */
  attachPost(
    key: string,
    connection: EventStream,
    after: number,
    onGap?: (gap: Replayed) => void,
  ): Replayed | undefined {
    const post = this.#posts.get(key);
    if (post === undefined) return undefined;
    if (post.grace !== undefined) clearTimeout(post.grace);
    post.grace = undefined;
    const replayed = post.stream.attach(connection, after, onGap);
    if (post.stream.ended) this.#posts.delete(key);
    return replayed;
  }

  /** The responder of a request answered as a resumable SSE stream. */
  streamResponder(reply: Reply, id: RequestId): Responder {
    const key = `p${this.#nextPost++}`;
    const stream = new ResumableStream(key, this.#maxBytes, this.#prime);
    const post: PostStream = { stream, grace: undefined };
    this.#posts.set(key, post);
    const rk = requestKey(id);
    const open: OpenResponse = {
      id,
      respond: (frame) => {
        this.#close(rk, open);
        const delivered = stream.connected;
        stream.end(frame);
        // Not connected: the response waits in the buffer for the client to resume.
        if (delivered) this.#dropPost(key, post);
      },
      cancel: () => {
        this.#close(rk, open);
        stream.end();
        this.#dropPost(key, post);
      },
    };
    this.#open.set(rk, open);
    stream.onDetach(() => {
      post.grace = setTimeout(() => {
        this.#dropPost(key, post);
        stream.release();
        if (this.#close(rk, open))
          this.#abandon(
            id,
            `the client did not resume the dropped stream within ${RESUME_GRACE_MS} ms`,
          );
      }, RESUME_GRACE_MS);
      post.grace.unref();
    });
    stream.attach(reply.stream(SSE_HEADERS), 0);
    return { respond: open.respond, notify: (frame) => stream.send(frame) };
  }

  /** The responder of a request answered as one JSON body. */
  jsonResponder(reply: Reply, id: RequestId): Responder {
    const rk = requestKey(id);
    const open: OpenResponse = {
      id,
      respond: (frame) => {
        this.#close(rk, open);
        reply.json(200, frame);
      },
      // A request must not be answered once cancelled; 202 ends the HTTP exchange with no
      // JSON-RPC message in it, which clients accept for a POST.
      cancel: () => {
        this.#close(rk, open);
        reply.send(202, {});
      },
    };
    this.#open.set(rk, open);
    reply.onAbort(() => {
      if (this.#close(rk, open)) this.#abandon(id, 'the client closed the request');
    });
    // Without a stream for this request, progress can only go to the session's GET stream.
    return { respond: open.respond, notify: (frame) => this.#session.sendFrame(frame) };
  }

  /** The client cancelled request `id`: its open response ends now; false if none is open. */
  cancel(id: RequestId): boolean {
    const open = this.#open.get(requestKey(id));
    if (open === undefined) return false;
    open.cancel();
    return true;
  }

  /** The session ended: every open request gets `frameFor` its id, every stream ends. */
  close(frameFor: (id: RequestId) => string): void {
    for (const open of [...this.#open.values()]) open.respond(frameFor(open.id));
    for (const [key, post] of [...this.#posts]) {
      this.#dropPost(key, post);
      post.stream.release();
    }
    this.#standing?.end();
  }

  /** Forgets an open response; false when it was already answered, cancelled or replaced. */
  #close(rk: string, open: OpenResponse): boolean {
    if (this.#open.get(rk) !== open) return false;
    this.#open.delete(rk);
    return true;
  }

  #dropPost(key: string, post: PostStream): void {
    if (post.grace !== undefined) clearTimeout(post.grace);
    post.grace = undefined;
    if (this.#posts.get(key) === post) this.#posts.delete(key);
  }
}
