/**
 * Calls parked for stateless-era clients (docs/architecture.md#bridging-the-eras): a
 * session-era backend asked a question (sampling, elicitation, roots) during the call of a
 * client that takes no requests. The backend keeps waiting; the client's request is answered
 * `input_required` with the question and a `requestState` sealed by the router
 * (`request-state.ts`) naming the parked call; the client's retry answers the question and
 * takes over waiting for the result (which may be another question). Parked calls the client
 * never comes back for expire and are cancelled upstream.
 */
import { randomBytes } from 'node:crypto';
import type { JsonObject } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import type { ClientOutcome, ForwardedMethod, ReplyMessage } from '../../shared/messages.js';
import { JsonRpcCode, rpcError } from '../../shared/errors.js';
import { INPUT_REQUIRED } from '../../shared/eras.js';
import type { ShardPool } from '../pool/shard-pool.js';
import { requestKey } from '../session/sessions.js';
import { errorFrame, resultFrame } from '../../shared/jsonrpc.js';
import { modernResult } from './result-shapes.js';
import { requestDigest, type RequestStateSealer } from '../session/request-state.js';
import type { Call, ClientLeg, Parked } from './call.js';

/** How long a parked call waits for its stateless client to come back with answers. */
const PARKED_TTL_MS = 10 * 60_000;

/** What parked calls need of the forwarding that owns the calls. */
export interface ParkedCallOwner {
  /** The backend replied: deliver it to the call's current client leg. */
  replied(call: Call, message: ReplyMessage): void;
  /** The client's request no longer waits for the call (the call itself goes on). */
  release(call: Call, leg: ClientLeg): void;
}

export class ParkedCalls {
  readonly #shards: ShardPool;
  readonly #serverInfo: JsonObject;
  readonly #owner: ParkedCallOwner;
  readonly #sealer: RequestStateSealer;
  /** Parked calls by the token their sealed `requestState` names. */
  readonly #parked = new Map<string, Call>();

  constructor(
    shards: ShardPool,
    serverInfo: JsonObject,
    owner: ParkedCallOwner,
    sealer: RequestStateSealer,
  ) {
    this.#sealer = sealer;
    this.#shards = shards;
    this.#serverInfo = serverInfo;
    this.#owner = owner;
  }

  /** Holds a legacy backend's question for a stateless client (see the module comment). */
  park(call: Call, method: string, params: JsonObject, answer: (o: ClientOutcome) => void): void {
    let parked = call.parked;
    if (parked === undefined) {
      parked = {
        token: randomBytes(16).toString('base64url'),
        questions: new Map(),
        nextKey: 1,
        outcome: undefined,
        flushing: false,
        expiry: null,
      };
      call.parked = parked;
      this.#parked.set(parked.token, call);
    }
    parked.questions.set(`input-${parked.nextKey++}`, { method, params, answer });
    if (parked.flushing) return;
    // Questions asked together (in one burst) go to the client in one answer.
    parked.flushing = true;
    setImmediate(() => this.#askClient(call));
  }

  /** A stateless client came back with answers for a parked call. */
  resume(leg: ClientLeg, method: ForwardedMethod, params: JsonObject): void {
    const fail = (reason: string): void =>
      leg.out.respond(
        errorFrame(
          leg.id,
          rpcError(
            JsonRpcCode.InvalidParams,
            `Invalid requestState: ${reason}; send the request again without requestState and inputResponses`,
          ),
        ),
      );
    const verdict = this.#sealer.unseal(params['requestState'] as string, {
      profile: leg.caller.profile,
      identity: leg.caller.identity,
      method,
      digest: requestDigest(params),
    });
    if (!verdict.ok) return fail(verdict.reason);
    const call = this.#parked.get(verdict.claims.call);
    const parked = call?.parked;
    if (call === undefined || parked === undefined) {
      return fail('the request it continues has ended (it expired or was already answered)');
    }
    if (call.leg !== null) return fail('another request is already continuing it');
    if (parked.expiry !== null) clearTimeout(parked.expiry);
    parked.expiry = null;
    call.leg = leg;
    const responses = isJsonObject(params['inputResponses']) ? params['inputResponses'] : {};
    for (const [key, question] of parked.questions) {
      const response = responses[key];
      if (!isJsonObject(response)) continue; // missing: asked again below
      parked.questions.delete(key);
      question.answer({ ok: true, result: response });
    }
    if (parked.outcome !== undefined) {
      this.#owner.replied(call, parked.outcome);
      return;
    }
    leg.caller.calls.set(requestKey(leg.id), call.callId);
    if (parked.questions.size > 0 && !parked.flushing) {
      parked.flushing = true;
      setImmediate(() => this.#askClient(call));
    }
  }

  /** The client's calls went away (cancelled upstream already): their parked state goes. */
  abandoned(callId: number): void {
    for (const [token, call] of this.#parked) {
      if (call.callId === callId) this.#drop(token, call);
    }
  }

  /** The call ended with its client back: its parked state goes, its questions are refused. */
  ended(call: Call, parked: Parked): void {
    this.#drop(parked.token, call);
  }

  /** Answers the client's current request with `input_required` and parks the call. */
  #askClient(call: Call): void {
    const parked = call.parked;
    if (parked === undefined) return;
    parked.flushing = false;
    const leg = call.leg;
    if (leg === null || parked.questions.size === 0) return;
    call.leg = null;
    this.#owner.release(call, leg);
    const inputRequests: JsonObject = {};
    for (const [key, question] of parked.questions) {
      inputRequests[key] = { method: question.method, params: question.params };
    }
    const requestState = this.#sealer.seal({
      call: parked.token,
      profile: leg.caller.profile,
      identity: leg.caller.identity,
      method: call.method,
      digest: requestDigest(call.params),
      expires: Date.now() + PARKED_TTL_MS,
    });
    const result = { resultType: INPUT_REQUIRED, inputRequests, requestState };
    const { json } = modernResult(JSON.stringify(result), call.method, this.#serverInfo);
    leg.out.respond(resultFrame(leg.id, json));
    parked.expiry = setTimeout(() => this.#expire(parked.token), PARKED_TTL_MS);
    parked.expiry.unref();
  }

  #expire(token: string): void {
    const call = this.#parked.get(token);
    if (call === undefined || call.leg !== null) return;
    this.#shards.cancel(
      call.callId,
      'the client did not come back with the input it was asked for',
    );
    this.#drop(token, call);
  }

  #drop(token: string, call: Call): void {
    const parked = call.parked;
    this.#parked.delete(token);
    if (parked === undefined) return;
    if (parked.expiry !== null) clearTimeout(parked.expiry);
    for (const question of parked.questions.values()) {
      question.answer({
        ok: false,
        error: rpcError(JsonRpcCode.InternalError, 'the client did not answer'),
      });
    }
    parked.questions.clear();
  }
}
