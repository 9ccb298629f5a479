/**
 * The backends of one shard, by server id: starts them, routes `call` and `cancel`
 * messages to the one that owns the call, and stops them all in parallel. A
 * `share: "session"` server also has one instance per client session
 * (`session-instances.ts`), which carries that session's calls.
 */
import { Backend, type Sink } from './backend.js';
import { SessionInstances } from './session-instances.js';
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
  readonly #perSession = new Map<string, SessionInstances>();
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
      const grace = options.stopGraceMs === undefined ? {} : { stopGraceMs: options.stopGraceMs };
      const backend = new Backend({
        config,
        out: options.out,
        recorder: options.recorder,
        ...grace,
      });
      this.#backends.set(config.id, backend);
      if (config.share === 'session') {
        const instances = { config, out: options.out, recorder: options.recorder, ...grace };
        this.#perSession.set(config.id, new SessionInstances(instances));
      }
    }
  }

  startAll(): void {
    for (const backend of this.#backends.values()) backend.start();
  }

  call(message: CallMessage): void {
    const backend = this.#backends.get(message.server);
    if (this.#stopping === null && backend !== undefined) {
      // The director's own calls (no session) go to the shared instance.
      const instances = this.#perSession.get(message.server);
      if (instances !== undefined && message.context.session !== '') instances.call(message);
      else backend.call(message);
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
    if (this.#backends.get(message.server)?.clientResponse(message)) return;
    this.#perSession.get(message.server)?.clientResponse(message);
  }

  cancel(message: CancelMessage): void {
    for (const backend of this.#backends.values()) {
      if (backend.cancel(message.callId, message.reason)) return;
    }
    for (const instances of this.#perSession.values()) {
      if (instances.cancel(message.callId, message.reason)) return;
    }
  }

  /** Stops the ended session's own instances. */
  sessionEnded(session: string): void {
    for (const instances of this.#perSession.values()) void instances.sessionEnded(session);
  }

  stopAll(): Promise<void> {
    this.#stopping ??= Promise.all([
      ...[...this.#backends.values()].map((b) => b.stop()),
      ...[...this.#perSession.values()].map((instances) => instances.stopAll()),
    ]).then(() => {});
    return this.#stopping;
  }
}
