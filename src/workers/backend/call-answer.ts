/**
 * A backend's answer to a forwarded call, made into the call's reply and its analytics
 * record. Errors pass through as the backend wrote them (only a malformed one is replaced);
 * a result is serialized once, for the reply and the record's size alike.
 */
import type { CallFacts, CallRecorder } from './call-recorder.js';
import { JsonRpcCode, rpcError } from '../../shared/errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../shared/json.js';
import type { WireError } from '../../shared/errors.js';
import { failedReply } from '../../shared/messages.js';
import type { Sink } from './wires.js';

/** What answering a call needs: its backend's id, where replies go, and its recorder. */
export interface Answering {
  server: string;
  out: Sink;
  recorder: CallRecorder;
  /** Keep each call's result in its record (the server's `recordPayloads`). */
  recordPayloads: boolean;
}

/** Replies to `call` with the backend's `response` and records it; whether it succeeded. */
export function answerCall(
  call: CallFacts & { callId: number },
  response: JsonObject,
  answering: Answering,
): boolean {
  const { out, recorder, recordPayloads } = answering;
  const { error, result } = response;
  if ((error !== undefined && error !== null) || result === undefined) {
    const wire = wireError(answering.server, call, error);
    out(failedReply(call.callId, wire));
    if (recorder.enabled) {
      recorder.record(call, {
        status: 'error',
        error: wire,
        bytesOut: JSON.stringify(wire).length,
      });
    }
    return false;
  }
  const text = JSON.stringify(result);
  out({ type: 'reply', callId: call.callId, ok: true, result: text });
  if (isJsonObject(result) && result.isError === true) {
    recorder.record(call, {
      status: 'error',
      bytesOut: text.length,
      errorText: toolErrorText(result),
      ...(recordPayloads && { response: text }),
    });
  } else {
    recorder.record(call, {
      status: 'ok',
      bytesOut: text.length,
      ...(recordPayloads && { response: text }),
    });
  }
  return true;
}

/** Backend errors pass through untouched; only a malformed one is replaced. */
function wireError(server: string, call: CallFacts, error: JsonValue | undefined): WireError {
  if (isJsonObject(error) && typeof error.code === 'number' && typeof error.message === 'string') {
    return error as unknown as WireError;
  }
  const what = error === undefined ? 'neither a result nor an error' : 'a malformed error';
  return rpcError(
    JsonRpcCode.InternalError,
    `Server '${server}' answered ${call.method} '${call.target}' with ${what}`,
    { server, ...(error === undefined ? {} : { error }) },
  );
}

/** The text a tool gave with `isError: true`: its first text content, else ''. */
function toolErrorText(result: JsonObject): string {
  const content = result.content;
  if (!Array.isArray(content)) return '';
  for (const item of content) {
    if (isJsonObject(item) && item.type === 'text' && typeof item.text === 'string')
      return item.text;
  }
  return '';
}
