/**
 * The per-session processes of one `share: "session"` server. Each client session gets its
 * own backend, started on its first call and stopped when the session ends; calls made
 * while it starts wait for it. The server's shared instance (owned by the host) still
 * supplies the catalog, so a session's instance only carries that session's calls, and
 * its notifications are addressed to that session alone.
 */
import { Backend, type BackendOptions } from './backend.js';
import { DirectorErrorCode, directorError } from '../../shared/errors.js';
import type { CallMessage, ClientResponseMessage, WorkerMessage } from '../../shared/messages.js';
import { failedReply } from '../../shared/messages.js';

interface Instance {
  backend: Backend;
  /** Calls that arrived before the instance was ready, in order. */
  waiting: CallMessage[];
}

/** Each session's instance is a `Backend` made with these. */
export type SessionInstancesOptions = BackendOptions;

export class SessionInstances {
  readonly #options: SessionInstancesOptions;
  readonly #instances = new Map<string, Instance>();

  constructor(options: SessionInstancesOptions) {
    this.#options = options;
  }

  takeCall(message: CallMessage): void {
    const session = message.context.session;
    let instance = this.#instances.get(session);
    if (instance === undefined) instance = this.#start(session);
    if (instance.backend.state === 'ready') {
      instance.backend.takeCall(message);
      return;
    }
    instance.waiting.push(message);
    // A lazy server's instance, or one stopped after `idleStopMs`, starts for this call.
    instance.backend.wake();
  }

  cancel(callId: number, reason: string | undefined): boolean {
    for (const instance of this.#instances.values()) {
      const waiting = instance.waiting.findIndex((m) => m.callId === callId);
      if (waiting >= 0) {
        instance.waiting.splice(waiting, 1);
        return true;
      }
      if (instance.backend.cancel(callId, reason)) return true;
    }
    return false;
  }

  clientResponse(message: ClientResponseMessage): boolean {
    for (const instance of this.#instances.values()) {
      if (instance.backend.clientResponse(message)) return true;
    }
    return false;
  }

  /** The session ended: its instance stops (stdin close, SIGTERM, SIGKILL). */
  sessionEnded(session: string): Promise<void> {
    const instance = this.#instances.get(session);
    if (instance === undefined) return Promise.resolve();
    this.#instances.delete(session);
    this.#refuseWaiting(instance, 'the client session ended');
    return instance.backend.stop();
  }

  stopAll(): Promise<void> {
    const sessions = [...this.#instances.keys()];
    return Promise.all(sessions.map((session) => this.sessionEnded(session))).then(() => {});
  }

  #start(session: string): Instance {
    const { config, limits, recorder, stopGraceMs, instance: self, credentials } = this.#options;
    const instance: Instance = { backend: undefined as unknown as Backend, waiting: [] };
    instance.backend = new Backend({
      config,
      limits,
      out: (message) => this.#fromInstance(session, instance, message),
      recorder,
      instance: self,
      credentials,
      ...(stopGraceMs === undefined ? {} : { stopGraceMs }),
    });
    this.#instances.set(session, instance);
    instance.backend.start();
    return instance;
  }

  /** What an instance says, addressed to its session; its catalog is the shared one's. */
  #fromInstance(session: string, instance: Instance, message: WorkerMessage): void {
    switch (message.type) {
      case 'catalog':
        return;
      case 'server-state':
        this.#options.out({ ...message, session });
        if (message.state === 'ready') {
          for (const waiting of instance.waiting.splice(0)) instance.backend.takeCall(waiting);
        } else if (message.state === 'failed') {
          this.#refuseWaiting(instance, message.error ?? 'it failed to start');
        }
        return;
      case 'server-notification':
        this.#options.out({ ...message, session });
        return;
      default:
        this.#options.out(message);
    }
  }

  #refuseWaiting(instance: Instance, why: string): void {
    const { config, out, recorder } = this.#options;
    for (const message of instance.waiting.splice(0)) {
      const error = directorError(
        DirectorErrorCode.BackendUnavailable,
        `Server '${config.id}' could not start an instance for this session: ${why}`,
        { server: config.id },
      );
      out(failedReply(message.callId, error));
      recorder.refused(message, error);
    }
  }
}
