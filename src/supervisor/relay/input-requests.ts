/**
 * A legacy (session-era) client calling a stateless backend that answers `input_required`
 * (docs/architecture.md#bridging-the-eras): each of the backend's `inputRequests` becomes a
 * real request to the client on the call's stream, then the call is sent again with the
 * answers (`inputResponses`) and the backend's `requestState`, up to MAX_ROUNDS times.
 */
import type { JsonObject } from '../../shared/json.js';
import { isJsonObject, omit } from '../../shared/json.js';
import type { WireError } from '../../shared/errors.js';
import { JsonRpcCode, rpcError } from '../../shared/errors.js';
import { errorFrame } from '../../shared/jsonrpc.js';
import type { Session } from '../session/sessions.js';
import { missingCapability } from '../session/client-capabilities.js';
import type { Call, ClientLeg, Forwarded } from './call.js';

/** Rounds of `input_required` a legacy client is walked through before we give up. */
const MAX_ROUNDS = 8;

/**
 * Walks a legacy client through a stateless backend's `input_required`: each input
 * request becomes a real request to the client, then the call is sent again with the
 * answers and the backend's `requestState`.
 */
export function fulfilInputRequests(
  call: Call,
  leg: ClientLeg,
  result: JsonObject,
  resend: (forwarded: Forwarded, round: number) => void,
): void {
  const session = leg.caller as Session;
  const fail = (error: WireError): void => leg.out.respond(errorFrame(leg.id, error));
  if (call.round + 1 >= MAX_ROUNDS) {
    return fail(
      rpcError(
        JsonRpcCode.InternalError,
        `Server '${call.server}' still asked for input after ${MAX_ROUNDS} rounds; gave up`,
      ),
    );
  }
  const requests = isJsonObject(result['inputRequests']) ? result['inputRequests'] : {};
  const entries = Object.entries(requests).filter(
    (entry): entry is [string, JsonObject] =>
      isJsonObject(entry[1]) && typeof entry[1]['method'] === 'string',
  );
  const responses: JsonObject = {};
  let waiting = entries.length;
  let failed = false;
  const retry = (): void => {
    const params = omit(call.params, ['inputResponses', 'requestState']);
    const next: JsonObject = { ...params, inputResponses: responses };
    if (typeof result['requestState'] === 'string') next['requestState'] = result['requestState'];
    resend(
      { server: call.server, method: call.method, params: next, target: call.target },
      call.round + 1,
    );
  };
  if (waiting === 0) return retry();
  for (const [key, request] of entries) {
    const method = request['method'] as string;
    const params = isJsonObject(request['params']) ? request['params'] : {};
    const missing = missingCapability(session.clientCapabilities, method, params);
    if (missing !== undefined) {
      return fail(
        rpcError(
          JsonRpcCode.InternalError,
          `Server '${call.server}' asked for ${method}, but the client did not declare the ${missing} capability`,
        ),
      );
    }
    session.ask(method, params, leg.out.notify, (outcome) => {
      if (failed) return;
      if (!outcome.ok) {
        failed = true;
        return fail(outcome.error);
      }
      responses[key] = outcome.result;
      if (--waiting === 0) retry();
    });
  }
}
