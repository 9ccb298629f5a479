/**
 * The one way the pool ends a pending call with an error: taken off the table first, so a
 * late reply from the worker finds nothing, then answered.
 */
import type { ReplyMessage, WireError } from '../../shared/messages.js';

/** Fails the call if it is still pending; whether it was. */
export function failPendingCall(
  pending: Map<number, { handlers: { reply(message: ReplyMessage): void } }>,
  callId: number,
  error: WireError,
): boolean {
  const call = pending.get(callId);
  if (call === undefined) return false;
  pending.delete(callId);
  call.handlers.reply({ type: 'reply', callId, ok: false, error });
  return true;
}
