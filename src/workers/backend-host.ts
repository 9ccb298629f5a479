/**
 * The backends of one shard, by server id: starts them, routes `call` and `cancel`
 * messages to the one that owns the call, and stops them all in parallel.
 */
import { Backend, type Sink } from './backend.js';
import type { CallRecorder } from './call-recorder.js';
import type { ServerConfig } from '../shared/config/types.js';
import { DirectorErrorCode, directorError } from '../shared/errors.js';
import { logger } from '../shared/log.js';
import type { CallMessage, CancelMessage, ClientResponseMessage } from '../shared/messages.js';

const log = logger('shard');

export interface BackendHostOptions {
  shard: number;
  servers: readonly ServerConfig[];
  out: Sink;
  recorder: CallRecorder;
  /** Grace period of each stop step of every backend; tests shorten it. */
  stopGraceMs?: number;
}

export class BackendHost {
  readonly #shard: number;
  readonly #out: Sink;
  readonly #recorder: CallRecorder;
  readonly #backends = new Map<string, Backend>();
  #stopping: Promise<void> | null = null;

  constructor(options: BackendHostOptions) {
    this.#shard = options.shard;
    this.#out = options.out;
    this.#recorder = options.recorder;
    for (const config of options.servers) {
      if (this.#backends.has(config.id)) {
        // Config keys are unique, so this is a supervisor bug; one process per id still holds.
        log.error(`shard ${options.shard} got server '${config.id}' twice; ignoring the second`);
        continue;
      }
      const backend = new Backend({
        config,
        out: options.out,
        recorder: options.recorder,
        ...(options.stopGraceMs === undefined ? {} : { stopGraceMs: options.stopGraceMs }),
      });
      this.#backends.set(config.id, backend);
    }
  }

  startAll(): void {
    for (const backend of this.#backends.values()) backend.start();
  }

  call(message: CallMessage): void {
    const backend = this.#backends.get(message.server);
    if (this.#stopping === null && backend !== undefined) {
      backend.call(message);
      return;
    }
    const error =
      this.#stopping !== null
        ? directorError(DirectorErrorCode.ShuttingDown, `Shard ${this.#shard} is shutting down`, {
            server: message.server,
          })
        : directorError(
            DirectorErrorCode.BackendUnavailable,
            `Server '${message.server}' is not run by shard ${this.#shard}`,
            { server: message.server },
          );
    this.#out({ type: 'reply', callId: message.callId, ok: false, error });
    this.#recorder.refused(message, error);
  }

  /**
   * Cancels wherever the call lives: each backend indexes its own calls by callId, and a
   * shard owns a handful of backends, so asking each is cheap for a rare message.
   */
  clientResponse(message: ClientResponseMessage): void {
    this.#backends.get(message.server)?.clientResponse(message);
  }

  cancel(message: CancelMessage): void {
    for (const backend of this.#backends.values()) {
      if (backend.cancel(message.callId, message.reason)) return;
    }
  }

  stopAll(): Promise<void> {
    this.#stopping ??= Promise.all([...this.#backends.values()].map((b) => b.stop())).then(
      () => {},
    );
    return this.#stopping;
  }
}
