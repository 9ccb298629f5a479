/**
 * The records of a forwarded call, shared by the modules that move it: `forwarding.ts`
 * (which owns calls), `parked-calls.ts` (a call waiting for its stateless client) and the
 * transports (which give each request its `Responder`).
 */
import type { JsonObject, RequestId } from '../../shared/json.js';
import type { ClientOutcome, ForwardedMethod, ReplyMessage } from '../../shared/messages.js';
import type { Era } from '../../shared/eras.js';
import type { Caller } from '../session/sessions.js';

/** Where the answer to one request goes (a JSON body, an SSE stream, a batch). */
export interface Responder {
  /** The JSON-RPC response as text; called exactly once per request. */
  respond(message: string): void;
  /** A message about this request (progress, a log line, a request to the client). */
  notify(message: string): void;
}

/** The client's side of a call: the request being answered now. */
export interface ClientLeg {
  caller: Caller;
  id: RequestId;
  out: Responder;
}

/** What is forwarded, and to which server. */
export interface Forwarded {
  server: string;
  method: ForwardedMethod;
  /** The params as forwarded (backend names), without a previous round's answers. */
  params: JsonObject;
  /** For analytics: the tool or prompt (backend's name), or URI. */
  target: string;
}

export interface Call extends Forwarded {
  callId: number;
  backendEra: Era;
  /** Null while parked: the stateless client has not come back yet. */
  leg: ClientLeg | null;
  round: number;
  parked?: Parked;
}

/** A question a legacy backend asked a stateless client, waiting for the client's retry. */
export interface Question {
  method: string;
  params: JsonObject;
  answer: (outcome: ClientOutcome) => void;
}

/** What a call holds while parked (`Call.parked`). */
export interface Parked {
  token: string;
  questions: Map<string, Question>;
  nextKey: number;
  /** The backend's final reply, if it came while the client was away. */
  outcome: ReplyMessage | undefined;
  flushing: boolean;
  expiry: NodeJS.Timeout | null;
}
