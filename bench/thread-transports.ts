/**
 * The three ways bench/thread-encoding.ts moves messages over a MessagePort, behind the
 * `Link` interface of src/shared/link.ts so both ends of the benchmark are mode-agnostic:
 * - `clone`:    createLink({ batch: false }), one structured-clone postMessage per message;
 * - `batched`:  createLink({ batch: true }), one array per event-loop turn (the default);
 * - `msgpackr`: the same per-turn batching, but the array is packed with msgpackr and an
 *               exact-size copy is posted (posting pack()'s Buffer would clone its whole
 *               8 KiB backing store, docs/architecture.md#thread-encoding);
 * - `eager`:    a candidate change to createLink, measured here before anyone adopts it:
 *               the first message of a turn is posted at once (a lone call pays no
 *               setImmediate deferral), the rest of that turn is batched as usual.
 */
import type { MessagePort } from 'node:worker_threads';
import { pack, unpack } from 'msgpackr';
import { createLink, receiveLinkMessages } from '../src/shared/link.js';
import type { Link } from '../src/shared/link.js';

export const TRANSPORT_MODES = ['clone', 'batched', 'msgpackr', 'eager'] as const;
export type TransportMode = (typeof TRANSPORT_MODES)[number];

export function openTransport<Out, In>(
  mode: TransportMode,
  port: MessagePort,
  onMessage: (message: In) => void,
): Link<Out> {
  switch (mode) {
    case 'clone':
      return createLink<Out, In>(port, onMessage, { batch: false });
    case 'batched':
      return createLink<Out, In>(port, onMessage, { batch: true });
    case 'msgpackr':
      return createPackedLink<Out, In>(port, onMessage);
    case 'eager':
      return createEagerLink<Out, In>(port, onMessage);
  }
}

function createEagerLink<Out, In>(port: MessagePort, onMessage: (message: In) => void): Link<Out> {
  let queue: Out[] = [];
  /** Set from the first send of a turn until the turn's flush: later sends are batched. */
  let turnOpen = false;
  let closed = false;

  receiveLinkMessages(port, onMessage);

  const flush = (): void => {
    turnOpen = false;
    if (queue.length === 0 || closed) return;
    const out = queue;
    queue = [];
    port.postMessage(out.length === 1 ? out[0] : out);
  };

  return {
    send(message) {
      if (closed) return;
      if (!turnOpen) {
        turnOpen = true;
        setImmediate(flush);
        port.postMessage(message);
        return;
      }
      queue.push(message);
    },
    flush,
    close() {
      flush();
      closed = true;
      port.close();
    },
  };
}

function createPackedLink<Out, In>(port: MessagePort, onMessage: (message: In) => void): Link<Out> {
  let queue: Out[] = [];
  let scheduled = false;
  let closed = false;

  port.on('message', (bytes: Uint8Array) => {
    for (const message of unpack(bytes) as In[]) onMessage(message);
  });

  const flush = (): void => {
    scheduled = false;
    if (queue.length === 0 || closed) return;
    const out = queue;
    queue = [];
    // new Uint8Array(buffer) copies into a fresh ArrayBuffer of exactly the packed size.
    port.postMessage(new Uint8Array(pack(out)));
  };

  return {
    send(message) {
      if (closed) return;
      queue.push(message);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
    close() {
      flush();
      closed = true;
      port.close();
    },
  };
}
