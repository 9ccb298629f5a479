/**
 * The shard side of bench/thread-encoding.ts: answers every `call` on the port it was given
 * with a `reply` carrying a ~300-byte result string, through the same transport the main
 * thread uses (createLink unbatched or batched, or msgpackr-packed batches). No backend:
 * only the thread hop and its encoding are measured.
 */
import { workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { ReplyMessage, SupervisorMessage, WorkerMessage } from '../src/shared/messages.js';
import { openTransport } from './thread-transports.js';
import type { TransportMode } from './thread-transports.js';

export interface EncodingWorkerData {
  mode: TransportMode;
  port: MessagePort;
}

/** What a backend's echo of a 180-character text looks like once serialized (≈ 300 bytes). */
export const REPLY_RESULT = JSON.stringify({
  content: [{ type: 'text', text: 'x'.repeat(180) }],
  structuredContent: { echoed: 180, server: 'echo', elapsedMs: 0.42 },
  isError: false,
});

const { mode, port } = workerData as EncodingWorkerData;
const link = openTransport<WorkerMessage, SupervisorMessage>(mode, port, (message) => {
  if (message.type !== 'call') return;
  const reply: ReplyMessage = {
    type: 'reply',
    callId: message.callId,
    ok: true,
    result: REPLY_RESULT,
  };
  link.send(reply);
});
