/**
 * A typed, batching wrapper around a MessagePort: the transport under the message union
 * of `messages.ts`. Messages sent in one event-loop turn travel as one array, so under
 * load one postMessage (and one wake-up of the other thread) carries many calls; a lone
 * message costs the same single hop as unbatched sending. bench/thread-encoding.ts
 * measures this choice against per-message posting and msgpackr buffers; its figures are
 * in bench/README.md.
 */
import type { MessagePort } from 'node:worker_threads';

export interface Link<Out> {
  send(message: Out): void;
  /** Sends what is queued now instead of at the end of the turn. */
  flush(): void;
  close(): void;
}

export interface LinkOptions {
  /** Batch per event-loop turn (default) or post every message on its own. */
  batch?: boolean;
}

/** Delivers what a link's peer sends: a batch (an array) or a lone message, in order. */
export function receiveLinkMessages<In>(port: MessagePort, onMessage: (message: In) => void): void {
  port.on('message', (batchOrOne: In[] | In) => {
    if (Array.isArray(batchOrOne)) {
      for (const message of batchOrOne) onMessage(message);
    } else {
      onMessage(batchOrOne);
    }
  });
}

export function createLink<Out, In>(
  port: MessagePort,
  onMessage: (message: In) => void,
  options: LinkOptions = {},
): Link<Out> {
  const batch = options.batch ?? true;
  let queue: Out[] = [];
  let scheduled = false;
  let closed = false;

  receiveLinkMessages(port, onMessage);

  const flush = (): void => {
    scheduled = false;
    if (queue.length === 0 || closed) return;
    const out = queue;
    queue = [];
    port.postMessage(out.length === 1 ? out[0] : out);
  };

  return {
    send(message) {
      if (closed) return;
      if (!batch) {
        port.postMessage(message);
        return;
      }
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
