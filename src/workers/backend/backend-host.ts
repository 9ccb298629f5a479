/**
 * The backends of one shard, by server id: starts them, routes `call` and `cancel`
 * messages to the one that owns the call, and stops them all in parallel. A
 * `share: "session"` or `"identity"` server also has one instance per client session or per
 * caller identity (`caller-instances.ts`), which carries that owner's calls.
 *
 * Config hot reload adds and removes single servers (`add-server`, `remove-server`). A
 * removed server's messages pass through `#fromServer`, which words its calls' errors as
 * a removal and holds its `stopped` back until its session instances have stopped too, so
 * that `stopped` is the last thing the supervisor hears about it.
 */
import { Backend } from './backend.js';
import type { CredentialStore } from '../../shared/credentials/credential-store.js';
import type { Sink } from './wires.js';
import { CallerInstances } from './caller-instances.js';
import { withoutTokenRefs } from '../../shared/config/token-refs.js';
import { forProject } from '../../shared/config/project-refs.js';
import { tmpdir } from 'node:os';
import type { CallRecorder } from './call-recorder.js';
import type { Limits, ServerConfig } from '../../shared/config/types.js';
import { DirectorErrorCode, directorCodeOf, directorError } from '../../shared/errors.js';
import { logger } from '../../shared/log.js';
import {
  failedReply,
  type CallMessage,
  type CancelMessage,
  type ClientResponseMessage,
  type ServerAction,
  type ServerStateMessage,
  type SupervisorMessage,
  type WorkerMessage,
} from '../../shared/messages.js';
import { assertNever } from '../../shared/exhaustive.js';

const log = logger('shard');

export interface BackendHostOptions {
  shard: number;
  /** The daemon's instance id (see shared/instance.ts). */
  instance?: string | undefined;
  servers: readonly ServerConfig[];
  limits: Limits;
  out: Sink;
  recorder: CallRecorder;
  /** Stored sign-ins of remote servers. */
  credentials: CredentialStore;
  /** The supervisor said `stop`: the shard stops every backend, then its link. */
  stop: () => void;
  /** Grace period of each stop step of every backend; tests shorten it. */
  stopGraceMs?: number;
  /**
   * An empty folder, where a `share: "project"` server's shared instance (which only lists
   * its tools) runs when its `${projectDir}` has no default (shared/config/project-refs.ts).
   */
  emptyProjectDir?: string;
}

/** One configured server of the shard: its shared instance and its per-session ones. */
interface Hosted {
  readonly id: string;
  readonly backend: Backend;
  readonly instances: CallerInstances | undefined;
  /** Set by `removeServer`; resolves once every instance has stopped. */
  removal: Promise<void> | undefined;
  /** The shared instance's `stopped`, held back until the removal is complete. */
  heldStop: ServerStateMessage | undefined;
  /** A server of the same id added while this one was being removed: started after it. */
  successor: ServerConfig | undefined;
}

export class BackendHost {
  readonly #shard: number;
  readonly #out: Sink;
  readonly #stop: () => void;
  readonly #recorder: CallRecorder;
  readonly #credentials: CredentialStore;
  readonly #limits: Limits;
  readonly #stopGraceMs: number | undefined;
  readonly #instance: string | undefined;
  readonly #servers = new Map<string, Hosted>();
  #stopping: Promise<void> | null = null;

  readonly #emptyProjectDir: string;
  constructor(options: BackendHostOptions) {
    this.#shard = options.shard;
    this.#out = options.out;
    this.#stop = options.stop;
    this.#recorder = options.recorder;
    this.#credentials = options.credentials;
    this.#limits = options.limits;
    this.#stopGraceMs = options.stopGraceMs;
    this.#instance = options.instance;
    this.#emptyProjectDir = options.emptyProjectDir ?? tmpdir();
    for (const config of options.servers) {
      if (this.#servers.has(config.id)) {
        // Config keys are unique, so this is a supervisor bug; one process per id still holds.
        log.error(`shard ${options.shard} got server '${config.id}' twice; ignoring the second`);
        continue;
      }
      this.#host(config);
    }
  }

  /**
   * Takes one message of the supervisor's (a property, so the link calls it directly). A
   * message that throws is logged: it must not take the thread, and every backend on it, down.
   */
  readonly receive = (message: SupervisorMessage): void => {
    try {
      switch (message.type) {
        case 'call':
          this.#takeCall(message);
          return;
        case 'cancel':
          this.cancel(message);
          return;
        case 'start-server':
          this.startServer(message.server);
          return;
        case 'client-response':
          this.clientResponse(message);
          return;
        case 'session-ended':
          this.sessionEnded(message.session);
          return;
        case 'identity-changed':
          void this.#servers
            .get(message.server)
            ?.instances?.ended(message.identity, 'its credentials changed');
          return;
        case 'add-server':
          this.addServer(message.server);
          return;
        case 'remove-server':
          this.removeServer(message.server).catch((error: unknown) => {
            log.error(`while removing '${message.server}': ${String(error)}`);
          });
          return;
        case 'stop':
          this.#stop();
          return;
        case 'live-calls':
          this.#recorder.live = message.on;
          return;
        case 'control-server':
          this.controlServer(message.server, message.action);
          return;
        default:
          assertNever(message);
      }
    } catch (error) {
      log.error(`failed to handle a message: ${(error as Error).stack ?? String(error)}`);
    }
  };

  startAll(): void {
    for (const hosted of this.#servers.values()) hosted.backend.start();
  }

  /** Starts one more server (config hot reload); after the old one if it is being removed. */
  addServer(config: ServerConfig): void {
    if (this.#stopping !== null) return; // the shard is going away; nothing would run it
    const existing = this.#servers.get(config.id);
    if (existing?.removal !== undefined) {
      existing.successor = config;
      return;
    }
    if (existing !== undefined) {
      log.error(`shard ${this.#shard} already runs server '${config.id}'; ignoring the add`);
      return;
    }
    this.#host(config).backend.start();
  }

  /**
   * Stops one server for good with its session instances; resolves after its final
   * `server-state` `stopped` was sent. An id the shard does not run is answered `stopped`
   * at once, so the supervisor's wait always ends.
   */
  removeServer(id: string): Promise<void> {
    const hosted = this.#servers.get(id);
    if (hosted === undefined) {
      this.#out({ type: 'server-state', server: id, state: 'stopped', restarts: 0 });
      return Promise.resolve();
    }
    hosted.successor = undefined; // removed again before its successor could start
    if (hosted.removal !== undefined) return hosted.removal;
    let removed!: () => void;
    // Set before the stops begin: they may report synchronously (a backend between two
    // starts says `stopped` at once), and that must already be treated as the removal's.
    hosted.removal = new Promise((resolve) => (removed = resolve));
    void Promise.allSettled([hosted.backend.stop(), hosted.instances?.stopAll()]).then(() => {
      try {
        this.#removed(hosted);
      } finally {
        removed();
      }
    });
    return hosted.removal;
  }

  #removed(hosted: Hosted): void {
    if (this.#servers.get(hosted.id) === hosted) this.#servers.delete(hosted.id);
    this.#out(
      hosted.heldStop ?? { type: 'server-state', server: hosted.id, state: 'stopped', restarts: 0 },
    );
    const successor = hosted.successor;
    if (successor !== undefined && this.#stopping === null) {
      this.#host(successor).backend.start();
    }
  }

  /** Hands a call to the backend (or session instance) that owns it, or refuses it. */
  #takeCall(message: CallMessage): void {
    const hosted = this.#servers.get(message.server);
    if (this.#stopping === null && hosted !== undefined && hosted.removal === undefined) {
      // The director's own calls (no session, no identity) go to the shared instance, and
      // so does every call while an admin holds the server stopped (it refuses them).
      if (
        hosted.instances !== undefined &&
        hosted.instances.ownerOf(message) !== '' &&
        hosted.backend.state !== 'stopped'
      ) {
        hosted.instances.takeCall(message);
      } else {
        // `takeCall`, with the peer's forward made here: the backend is consulted (ready, room
        // at its gate) and returns, so the path to the child's stdin stays short
        // (docs/architecture.md#call-path).
        hosted.backend.admit(message)?.forward(message);
      }
      return;
    }
    const data = { server: message.server };
    const error =
      this.#stopping !== null
        ? directorError(
            DirectorErrorCode.ShuttingDown,
            `Shard ${this.#shard} is shutting down`,
            data,
          )
        : hosted !== undefined
          ? directorError(
              DirectorErrorCode.BackendUnavailable,
              `Server '${message.server}' was removed from the config`,
              data,
            )
          : directorError(
              DirectorErrorCode.BackendUnavailable,
              `Server '${message.server}' is not run by shard ${this.#shard}`,
              data,
            );
    this.#out(failedReply(message.callId, error));
    this.#recorder.refused(message, error);
  }

  /** Starts an idle server (lazy, or stopped after `idleStopMs`) that is needed now. */
  startServer(id: string): void {
    const hosted = this.#servers.get(id);
    if (this.#stopping === null && hosted !== undefined && hosted.removal === undefined) {
      hosted.backend.wake();
    }
  }

  /** An admin's restart, stop or start of one server; ignored while it goes away. */
  controlServer(id: string, action: ServerAction): void {
    const hosted = this.#servers.get(id);
    if (this.#stopping === null && hosted !== undefined && hosted.removal === undefined) {
      hosted.backend.control(action);
      if (action !== 'start') void hosted.instances?.endIdentities();
    }
  }

  /** Passes the client's answer on to the backend (or session instance) that asked. */
  clientResponse(message: ClientResponseMessage): void {
    const hosted = this.#servers.get(message.server);
    if (hosted === undefined || hosted.backend.clientResponse(message)) return;
    hosted.instances?.clientResponse(message);
  }

  /**
   * Cancels wherever the call lives: each backend indexes its own calls by callId, and a
   * shard owns a handful of backends, so asking each is cheap for a rare message.
   */
  cancel(message: CancelMessage): void {
    for (const hosted of this.#servers.values()) {
      if (hosted.backend.cancel(message.callId, message.reason)) return;
    }
    for (const hosted of this.#servers.values()) {
      if (hosted.instances?.cancel(message.callId, message.reason)) return;
    }
  }

  /** Stops the ended session's own instances. */
  sessionEnded(session: string): void {
    for (const hosted of this.#servers.values()) void hosted.instances?.sessionEnded(session);
  }

  stopAll(): Promise<void> {
    this.#stopping ??= Promise.all(
      [...this.#servers.values()].flatMap((hosted) => [
        hosted.backend.stop(),
        hosted.instances?.stopAll(),
        hosted.removal, // so its final `stopped` goes out before the shard's
      ]),
    ).then(() => {});
    return this.#stopping;
  }

  /** The config of a server's shared instance (token-refs.ts, project-refs.ts). */
  #sharedConfig(config: ServerConfig): ServerConfig {
    const shared = withoutTokenRefs(config);
    return config.share === 'project'
      ? forProject(shared, { emptyDir: this.#emptyProjectDir })
      : shared;
  }

  #host(config: ServerConfig): Hosted {
    const grace = this.#stopGraceMs === undefined ? {} : { stopGraceMs: this.#stopGraceMs };
    // The sink is only called once the instances run, after `hosted` is assigned.
    const out: Sink = (message) => this.#fromServer(hosted, message);
    const common = {
      config,
      limits: this.#limits,
      out,
      recorder: this.#recorder,
      instance: this.#instance,
      credentials: this.#credentials,
      ...grace,
    };
    const hosted: Hosted = {
      id: config.id,
      // Never a user's `${token.X}` values, nor a project, in the shared instance.
      backend: new Backend({ ...common, config: this.#sharedConfig(config) }),
      instances:
        config.share === 'global'
          ? undefined
          : new CallerInstances({ ...common, owner: config.share }),
      removal: undefined,
      heldStop: undefined,
      successor: undefined,
    };
    this.#servers.set(config.id, hosted);
    return hosted;
  }

  /** Everything a server's instances say; rewritten only while the server is being removed. */
  #fromServer(hosted: Hosted, message: WorkerMessage): void {
    if (hosted.removal === undefined) {
      this.#out(message);
      return;
    }
    if (message.type === 'reply' && !message.ok) {
      // The stop fails the calls in flight as "stopped" and a session's queued calls as
      // "could not start"; the caller should learn the actual reason.
      const code = directorCodeOf(message.error);
      if (
        code === DirectorErrorCode.ShuttingDown ||
        code === DirectorErrorCode.BackendUnavailable
      ) {
        const error = directorError(
          DirectorErrorCode.ServerRemoved,
          `Server '${hosted.id}' was removed from the config`,
          { server: hosted.id },
        );
        this.#out({ ...message, error });
        return;
      }
    }
    if (
      message.type === 'server-state' &&
      message.state === 'stopped' &&
      message.session === undefined
    ) {
      hosted.heldStop = message;
      return;
    }
    this.#out(message);
  }
}
