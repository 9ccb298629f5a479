/**
 * The callers' own instances of one server that is not shared by everyone:
 * - `share: "session"`: each client session gets its own backend, started on its first call
 *   and stopped when the session ends;
 * - `share: "identity"`: each caller identity (its token, or its OAuth user) gets its own,
 *   which signs in to a remote server as that identity (README: Credentials per user), so
 *   one user's credentials never carry another's call;
 * - `share: "project"`: each project folder a session works in gets its own, with
 *   `${projectDir}` and `${projectName}` filled in (README: Projects), shared by every session
 *   in that project and stopped after `idleStopMs` without a call.
 * Calls made while an instance starts wait for it. The server's shared instance (owned by
 * the host) still supplies the catalog, so an instance only carries its owner's calls, and
 * its notifications are addressed to its owner alone.
 */
import { Backend, type BackendOptions } from './backend.js';
import { DirectorErrorCode, directorError } from '../../shared/errors.js';
import type { CallMessage, ClientResponseMessage, WorkerMessage } from '../../shared/messages.js';
import { failedReply } from '../../shared/messages.js';
import type { ServerConfig } from '../../shared/config/types.js';
import { forIdentity } from '../../shared/config/token-refs.js';
import { forProject } from '../../shared/config/project-refs.js';

interface Instance {
  backend: Backend;
  /** Calls that arrived before the instance was ready, in order. */
  waiting: CallMessage[];
  /** Its process while one runs: its end names it (the supervisor keeps a record per pid). */
  pid: number | undefined;
}

/** Each instance is a `Backend` made with these; `owner` says whose it is. */
export interface CallerInstancesOptions extends BackendOptions {
  owner: 'session' | 'identity' | 'project';
}

export class CallerInstances {
  readonly #options: CallerInstancesOptions;
  /** By owner: the session id, the identity, or the project's folder. */
  readonly #instances = new Map<string, Instance>();

  constructor(options: CallerInstancesOptions) {
    this.#options = options;
  }

  /** Whose instance a call goes to; '' : nobody's (the director's own calls, no token). */
  ownerOf(message: CallMessage): string {
    const { context } = message;
    switch (this.#options.owner) {
      case 'session':
        return context.session;
      case 'identity':
        return context.identity;
      case 'project':
        return context.project;
    }
  }

  takeCall(message: CallMessage): void {
    const owner = this.ownerOf(message);
    let instance = this.#instances.get(owner);
    if (instance === undefined) {
      const { maxOwnInstancesPerServer } = this.#options.limits;
      if (this.#instances.size >= maxOwnInstancesPerServer) {
        // Each instance may be a process: callers cannot start them without bound.
        return this.#refuse(
          message,
          `Server '${this.#options.config.id}' runs ${this.#instances.size} instances of its own, the most it may ("limits.maxOwnInstancesPerServer"); try again when one has ended`,
        );
      }
      const config = this.#configOf(owner, message);
      if (typeof config === 'string') return this.#refuse(message, config);
      instance = this.#start(owner, config);
    }
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

  /**
   * The owner's instance stops (stdin close, SIGTERM, SIGKILL): its session ended, or its
   * identity signed in or out (its next call starts one with the new sign-in).
   */
  ended(owner: string, why: string): Promise<void> {
    const instance = this.#instances.get(owner);
    if (instance === undefined) return Promise.resolve();
    this.#instances.delete(owner);
    this.#refuseWaiting(instance, this.#couldNotStart(why));
    return instance.backend.stop();
  }

  /** A session ended: its own instance stops (identities outlive sessions). */
  sessionEnded(session: string): Promise<void> {
    if (this.#options.owner !== 'session') return Promise.resolve();
    return this.ended(session, 'the client session ended');
  }

  /** An admin restarted or stopped the server: identities' instances end with it. */
  endIdentities(): Promise<void> {
    if (this.#options.owner !== 'identity') return Promise.resolve();
    return this.stopAll();
  }

  stopAll(): Promise<void> {
    const owners = [...this.#instances.keys()];
    return Promise.all(owners.map((owner) => this.ended(owner, 'the server stopped'))).then(
      () => {},
    );
  }

  /**
   * The owner's config: a project's with its folder in, an identity's with its token's values
   * in; or why it has none.
   */
  #configOf(owner: string, message: CallMessage): ServerConfig | string {
    const { config } = this.#options;
    if (this.#options.owner === 'session') return config;
    if (this.#options.owner === 'project')
      return forProject(config, { dir: owner, name: message.context.projectName });
    const filled = forIdentity(config, owner);
    if (filled.ok) return filled.config;
    const names = filled.missing.map((name) => `\${token.${name}}`).join(', ');
    const first = filled.missing[0] ?? '';
    return `Server '${config.id}' takes ${names} from the calling token, and identity '${owner}' has no value for it: set tokens.${owner}.secrets.${first} in the config, or give the reference a default (\${token.${first}:-…}, which OAuth users, having no secrets, always get)`;
  }

  #start(owner: string, config: ServerConfig): Instance {
    const { limits, recorder, stopGraceMs, instance: self, credentials } = this.#options;
    const instance: Instance = {
      backend: undefined as unknown as Backend,
      waiting: [],
      pid: undefined,
    };
    instance.backend = new Backend({
      config,
      limits,
      out: (message) => this.#fromInstance(owner, instance, message),
      recorder,
      instance: self,
      credentials,
      ...(this.#options.owner === 'identity' && { identity: owner }),
      ...(stopGraceMs === undefined ? {} : { stopGraceMs }),
    });
    this.#instances.set(owner, instance);
    instance.backend.start();
    return instance;
  }

  /** What an instance says, addressed to its owner; its catalog is the shared one's. */
  #fromInstance(owner: string, instance: Instance, message: WorkerMessage): void {
    const addressed = { [this.#options.owner]: owner };
    switch (message.type) {
      case 'catalog':
        return;
      case 'server-state': {
        let pid = message.pid;
        if (pid !== undefined) instance.pid = pid;
        else [pid, instance.pid] = [instance.pid, undefined]; // its process is gone: say which
        this.#options.out({ ...message, ...addressed, ...(pid !== undefined && { pid }) });
        if (message.state === 'ready') {
          for (const waiting of instance.waiting.splice(0)) instance.backend.takeCall(waiting);
        } else if (message.state === 'failed') {
          this.#refuseWaiting(instance, this.#couldNotStart(message.error ?? 'it failed to start'));
        } else if (message.state === 'idle') {
          // Stopped for want of calls: it ends, and frees its place under the limit (its
          // owner's next call starts a new one), so idle owners cannot hold every place.
          if (this.#instances.get(owner) === instance) this.#instances.delete(owner);
        } else if (message.state === 'needs-auth') {
          // Its error names the `auth login` to run; the next call, after it, starts afresh.
          if (this.#instances.get(owner) === instance) this.#instances.delete(owner);
          this.#refuseWaiting(instance, message.error ?? this.#couldNotStart('it needs a sign-in'));
        }
        return;
      }
      case 'server-notification':
        this.#options.out({ ...message, ...addressed });
        return;
      default:
        this.#options.out(message);
    }
  }

  #refuse(message: CallMessage, text: string): void {
    const error = directorError(DirectorErrorCode.BackendUnavailable, text, {
      server: this.#options.config.id,
    });
    this.#options.out(failedReply(message.callId, error));
    this.#options.recorder.refused(message, error);
  }

  #couldNotStart(why: string): string {
    const whose = `this ${this.#options.owner}`;
    return `Server '${this.#options.config.id}' could not start an instance for ${whose}: ${why}`;
  }

  /** Answers the calls that waited for an instance with BACKEND_UNAVAILABLE and `text`. */
  #refuseWaiting(instance: Instance, text: string): void {
    for (const message of instance.waiting.splice(0)) this.#refuse(message, text);
  }
}
