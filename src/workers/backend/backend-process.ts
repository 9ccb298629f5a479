/**
 * One backend's current process (docs/architecture.md#backend-era): spawning the child (or
 * connecting to the remote server), the start sequence, and what the process offers while it
 * runs: its catalog, its listen stream and its idle timer. `BackendLifecycle`
 * (`backend-lifecycle.ts`) decides when a process starts and what its exit means.
 *
 * A start is: spawn, find the server's era (`handshake.ts`; a remote server's verdict is
 * cached until its connection fails), re-apply what a session-era server was told before
 * (`remembered-state.ts`), list everything it declared (`catalog-keeper.ts`), send `catalog`,
 * then `ready`; a stateless server then gets its listen stream (`listen-stream.ts`).
 */
import {
  httpChannel,
  isSessionHttp,
  loadSessionHttp,
  sessionHttpMissing,
  stdioChannel,
  type Channel,
} from './backend-channels.js';
import { RequestFailed, type BackendPeer } from './backend-peer.js';
import type { Sink } from './wires.js';
import { LIST_KINDS } from './catalog-fetch.js';
import { CatalogKeeper } from './catalog-keeper.js';
import { Handshake, IsThisDaemon } from './handshake.js';
import { IdleStop } from './idle-stop.js';
import { ListenStream } from './listen-stream.js';
import type { RememberedState } from './remembered-state.js';
import { ModernHttpChannel } from '../channels/stateless-http.js';
import type { ChannelHandler } from '../channels/stdio.js';
import type { Limits, ServerConfig } from '../../shared/config/types.js';
import type { CredentialStore } from '../../shared/credentials/credential-store.js';
import type { Era } from '../../shared/eras.js';
import type { Logger } from '../../shared/log.js';

export interface ProcessOptions {
  config: ServerConfig;
  limits: Limits;
  out: Sink;
  log: Logger;
  /** Grace period of each stop step; tests shorten it. */
  stopGraceMs: number | undefined;
  /** The daemon's instance id: a backend that reports it is the daemon itself (refused). */
  instance: string | undefined;
  /** Gets each channel's messages and exit (the `Backend`). */
  handler: ChannelHandler;
  peer: BackendPeer;
  remembered: RememberedState;
  /** Stored sign-ins of remote servers. */
  credentials: CredentialStore;
  /** Whose sign-in a remote server uses; undefined: the server's own. */
  identity: string | undefined;
}

/** What the process asks of the lifecycle that owns it (`backend-lifecycle.ts`). */
export interface ProcessHooks {
  /** Whether the backend is `ready`. */
  ready: () => boolean;
  /** Whether the backend is being stopped: a start under way stands down. */
  stopRequested: () => boolean;
  /** Sends the backend's state (a new process has a new pid). */
  announce: () => void;
  /** The start sequence got to the end: the backend becomes `ready`. */
  started: () => void;
  /** Unused for `idleStopMs`: the process stops, the catalog stays. */
  stopIdle: () => void;
}

export class BackendProcess {
  readonly #config: ServerConfig;
  readonly #limits: Limits;
  readonly #log: Logger;
  readonly #stopGraceMs: number | undefined;
  readonly #handler: ChannelHandler;
  readonly #peer: BackendPeer;
  readonly #remembered: RememberedState;
  readonly #credentials: CredentialStore;
  readonly #identity: string | undefined;
  readonly #hooks: ProcessHooks;
  readonly #handshake: Handshake;
  readonly catalog: CatalogKeeper;
  /** Stateless servers only: where their list changes and resource updates come. */
  readonly listen: ListenStream;
  /** Null when the server has no `idleStopMs`. */
  readonly idleStop: IdleStop | null;
  /** Set when the backend turned out to be this daemon: failed for good, never restarted. */
  #refusal: string | null = null;
  #channel: Channel | null = null;
  /** A remote server's era, cached until the connection fails (stdio: probed per process). */
  #httpEra: Era | undefined;
  #live = false;
  /** Bumped per spawn; async work of an older spawn checks it and stands down. */
  #generation = 0;
  /** Why the current start was abandoned, when the worker (not the child) ended it. */
  #startFailure: string | null = null;

  constructor(options: ProcessOptions, hooks: ProcessHooks) {
    const { config, peer, log, out } = options;
    const server = config.id;
    this.#config = config;
    this.#limits = options.limits;
    this.#log = log;
    this.#stopGraceMs = options.stopGraceMs;
    this.#handler = options.handler;
    this.#peer = peer;
    this.#remembered = options.remembered;
    this.#credentials = options.credentials;
    this.#identity = options.identity;
    this.#hooks = hooks;
    const { initializeTimeoutMs, timeoutMs } = config;
    const { instance } = options;
    this.#handshake = new Handshake({ server, peer, initializeTimeoutMs, instance });
    const { ready } = hooks;
    const generation = (): number => this.#generation;
    this.catalog = new CatalogKeeper({
      server,
      peer,
      out,
      log,
      timeoutMs,
      ready,
      generation,
      live: () => this.#live,
      statelessHttp: () => this.#channel instanceof ModernHttpChannel,
    });
    this.listen = new ListenStream({
      peer,
      log,
      subscriptions: this.#remembered.subscriptions,
      capabilities: () => this.catalog.catalog.capabilities,
      ready,
      generation,
      onReopened: () => {
        this.catalog.markChanged(LIST_KINDS);
        this.catalog.scheduleRefresh();
      },
    });
    this.idleStop =
      config.idleStopMs > 0
        ? new IdleStop({
            idleMs: config.idleStopMs,
            busy: () => peer.callsInFlight > 0 || this.#remembered.subscriptions.size > 0,
            stop: () => hooks.stopIdle(),
          })
        : null;
  }

  /** The current channel (also after it exited; see `live`). */
  get channel(): Channel | null {
    return this.#channel;
  }

  /** Whether the current channel's process lives (or its connection holds). */
  get live(): boolean {
    return this.#live;
  }

  /** Set when the backend turned out to be this daemon: failed for good, never restarted. */
  get refusal(): string | null {
    return this.#refusal;
  }

  /** Why the current start was abandoned, when the worker (not the child) ended it. */
  get startFailure(): string | null {
    return this.#startFailure;
  }

  /** Spawns the next process (or connects) and runs the start sequence on it. */
  spawn(): void {
    const config = this.#config;
    if (config.transport === 'http' && sessionHttpMissing(config, this.#httpEra)) {
      // Loaded once per worker, then the start goes on; a stop meanwhile cancels it.
      const waiting = this.#generation;
      void loadSessionHttp().then(() => {
        if (waiting === this.#generation && !this.#hooks.stopRequested()) this.spawn();
      });
      return;
    }
    const generation = ++this.#generation;
    const channel =
      config.transport === 'http'
        ? this.#httpChannel()
        : stdioChannel(config, this.#limits, this.#stopGraceMs, this.#handler);
    this.#startFailure = null;
    this.catalog.forgetChanges(); // this start lists everything anyway
    this.#live = true;
    this.#use(channel);
    this.#hooks.announce();
    void this.#initialize(channel, generation);
  }

  #httpChannel(): Channel {
    const config = this.#config;
    if (config.transport !== 'http') throw new Error('not a remote server');
    return httpChannel(config, this.#httpEra, this.#limits, this.catalog, this.#handler, {
      store: this.#credentials,
      identity: this.#identity,
    });
  }

  #use(channel: Channel): void {
    this.#channel = channel;
    this.#peer.era = 'legacy';
    this.#peer.attach(channel);
    channel.start();
  }

  async #initialize(started: Channel, generation: number): Promise<void> {
    let channel = started;
    const current = (): boolean =>
      generation === this.#generation && this.#live && !this.#hooks.stopRequested();
    try {
      let catalog = isSessionHttp(channel) ? null : await this.#handshake.discover();
      if (!current()) return;
      if (catalog === null && channel instanceof ModernHttpChannel) {
        // A legacy server behind the URL: the session transports take over.
        this.#log.info('the server does not speak 2026-07-28; using the session-era transport');
        this.#httpEra = 'legacy';
        await loadSessionHttp();
        if (!current()) return;
        channel = this.#httpChannel();
        this.#use(channel);
      } else if (channel instanceof ModernHttpChannel) {
        this.#httpEra = 'modern';
      }
      if (catalog === null) {
        catalog = await this.#handshake.initialize();
        if (!current()) return;
        await this.#remembered.reapply();
      }
      if (!(await this.catalog.load(catalog, current))) return;
      this.#hooks.started();
      this.#log.info(
        `ready (${catalog.era === 'modern' ? catalog.protocolVersion : `legacy ${catalog.protocolVersion}`}, pid ${channel.pid ?? '-'}, ${catalog.tools.length} tools)`,
      );
      if (catalog.era === 'modern') this.listen.open();
      this.catalog.refreshIfChanged();
      this.idleStop?.arm();
    } catch (error) {
      if (!current()) return;
      // An exit is reported by onChannelExit; anything else means the child is up but
      // useless (init refused or hung), so stop it and let the exit path restart it.
      if (error instanceof RequestFailed && error.kind === 'exited') return;
      this.#startFailure = `failed to start: ${(error as Error).message}`;
      // Said now: the state changes only once the process is gone, which can take a while. A
      // refusal to aggregate itself is said once, when the state becomes final.
      if (error instanceof IsThisDaemon) this.#refusal = error.message;
      else this.#log.warn(`${this.#startFailure}; stopping it`);
      void channel.stop();
    }
  }

  /** The child has exited (or the connection is lost): nothing runs until the next spawn. */
  exited(): void {
    this.#live = false;
    this.idleStop?.disarm();
    this.#httpEra = undefined; // a remote server is probed again at the next start
  }
}
