/**
 * A typed, batching wrapper around a MessagePort: the transport under the message union
 * of `messages.ts`. Messages sent in one event-loop turn travel as one array, so under
 * load one postMessage (and one wake-up of the other thread) carries many calls; a lone
 * message costs the same single hop as unbatched sending. bench/thread-encoding.ts
 * measures this choice against per-message posting and msgpackr buffers; its figures are
 * in bench/README.md.
 */
import type { MessagePort } from 'node:worker_threads';
import { logger } from './log.js';

const log = logger('link');

export interface Link<Out> {
  send(message: Out): void;
  /** Sends what is queued now instead of at the end of the turn. */
  flush(): void;
  close(): void;
}

export interface LinkOptions<Out> {
  /** Batch per event-loop turn (default) or post every message on its own. */
  batch?: boolean;
  /**
   * A message structured clone refused (a value it cannot copy, or one nested too deep for
   * its stack): the sender fails what depended on it. The rest of its batch still goes.
   */
  onUnsendable?: (message: Out, error: unknown) => void;
}

/**
 * Delivers what a link's peer sends: a batch (an array) or a lone message, in order. A
 * handler that throws costs its one message (logged), never the thread or the rest of the batch.
 */
export function receiveLinkMessages<In>(port: MessagePort, onMessage: (message: In) => void): void {
  const deliver = (message: In): void => {
    try {
      onMessage(message);
    } catch (error) {
      log.error(
        `a thread message failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    }
  };
  port.on('message', (batchOrOne: In[] | In) => {
    if (Array.isArray(batchOrOne)) {
      for (const message of batchOrOne) deliver(message);
    } else {
      deliver(batchOrOne);
    }
  });
}

export function createLink<Out, In>(
  port: MessagePort,
  onMessage: (message: In) => void,
  options: LinkOptions<Out> = {},
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
    if (out.length === 1) post(out[0] as Out);
    else {
      try {
        port.postMessage(out);
      } catch {
        for (const message of out) post(message);
      }
    }
  };

  /** Posts one message; one that cannot be cloned goes to `onUnsendable`, never up the stack. */
  const post = (message: Out): void => {
    try {
      port.postMessage(message);
    } catch (error) {
      if (options.onUnsendable !== undefined) options.onUnsendable(message, error);
      else log.error(`a thread message could not be sent: ${String(error)}`);
    }
  };

  return {
    send(message) {
      if (closed) return;
      if (!batch) {
        post(message);
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
