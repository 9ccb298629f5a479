/**
 * JSON-RPC batches on `/mcp`: they exist in protocol 2025-03-26 only (removed in 2025-06-18;
 * docs/architecture.md#protocol-eras), so only sessions of that revision (or of 2024-11-05)
 * may send them. A batch is answered as one JSON array once every request in it has its
 * answer; one of notifications and responses only is accepted with 202. Each request is rate
 * limited on its own, and `initialize` must not be part of a batch.
 */
import { JsonRpcCode, rpcError } from '../../shared/errors.js';
import { classify, errorFrame, invalidRequest } from '../../shared/jsonrpc.js';
import type { IncomingMessage } from '../../shared/jsonrpc.js';
import type { IncomingRequest } from '../ingress/http-message.js';
import type { Reply } from '../ingress/uws.js';
import type { Access, Grant } from '../ingress/access.js';
import {
  DEFERRED,
  rateLimitedError,
  type Admitted,
  type RateIdentity,
} from '../ingress/rate-limit.js';
import type { Dispatcher } from '../relay/dispatch.js';
import type { Session, Sessions } from '../session/sessions.js';
import { httpError, sessionOf } from './http-session.js';

/** JSON-RPC batches were removed in 2025-06-18; sessions of older revisions may send them. */
const BATCH_VERSIONS: ReadonlySet<string> = new Set(['2025-03-26', '2024-11-05']);

export class Batches {
  readonly #dispatcher: Dispatcher;
  readonly #sessions: Sessions;
  /** The endpoint's options, read per request: a reload updates them in place. */
  readonly #options: { readonly access: Access };

  constructor(dispatcher: Dispatcher, sessions: Sessions, options: { readonly access: Access }) {
    this.#dispatcher = dispatcher;
    this.#sessions = sessions;
    this.#options = options;
  }

  /** JSON-RPC batches exist in 2025-03-26 only; they are answered as one JSON array. */
  handle(request: IncomingRequest, reply: Reply, items: unknown[], grant: Grant): void {
    if (items.length === 0)
      return httpError(
        reply,
        400,
        rpcError(JsonRpcCode.InvalidRequest, 'Invalid Request: an empty batch'),
      );
    const messages = items.map(classify);
    if (messages.some((m) => m.kind === 'request' && m.method === 'initialize')) {
      return httpError(
        reply,
        400,
        rpcError(
          JsonRpcCode.InvalidRequest,
          'Invalid Request: initialize must not be part of a batch',
        ),
      );
    }
    const session = sessionOf(this.#sessions, request, reply, null, grant);
    if (session === undefined) return;
    if (!BATCH_VERSIONS.has(session.protocolVersion)) {
      return httpError(
        reply,
        400,
        rpcError(
          JsonRpcCode.InvalidRequest,
          `Invalid Request: JSON-RPC batches exist in protocol 2025-03-26 only; this session uses ${session.protocolVersion}, so send one message per POST`,
        ),
      );
    }
    const answers: string[] = [];
    let waiting = messages.filter((m) => m.kind === 'request' || m.kind === 'invalid').length;
    if (waiting === 0) {
      for (const m of messages)
        if (m.kind === 'notification') this.#dispatcher.notification(session, m.method, m.params);
      reply.send(202, {});
      return;
    }
    const collect = (answer: string): void => {
      answers.push(answer);
      if (--waiting === 0) reply.json(200, `[${answers.join(',')}]`);
    };
    for (const m of messages) this.#item(session, m, collect, grant);
  }

  #item(
    session: Session,
    message: IncomingMessage,
    collect: (answer: string) => void,
    caller: RateIdentity,
  ): void {
    switch (message.kind) {
      case 'request': {
        const admitted: Admitted = (limited) => {
          if (limited !== undefined) collect(errorFrame(message.id, rateLimitedError(limited)));
          else
            this.#dispatcher.request(session, message.id, message.method, message.params, {
              respond: collect,
              notify: (frame) => session.sendFrame(frame),
            });
        };
        const decision = this.#options.access.admit(caller, message.method, admitted);
        if (decision !== DEFERRED) admitted(decision);
        return;
      }
      case 'notification':
        this.#dispatcher.notification(session, message.method, message.params);
        return;
      case 'invalid':
        collect(errorFrame(message.id, invalidRequest(message.reason)));
        return;
      case 'response':
        this.#dispatcher.response(session, message.id, message.message);
        return;
    }
  }
}
