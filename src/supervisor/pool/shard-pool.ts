/**
 * The shard workers, seen from the supervisor: every call, reply, progress, catalog and state
 * change flows on each shard's link (`shared/messages.ts`). The pool mints each call's id,
 * routes it to the shard its server's id hashes to, holds it while the server starts
 * (`start-gate.ts`) and answers it exactly once. Around it: the threads' lives (piscina, one
 * long-lived task per shard, restarts after a thread dies) are `shard-lifecycle.ts`, what the
 * links deliver back is routed by `shard-messages.ts`, and a removed server is stopped by
 * `server-removal.ts`.
 *
 * Config hot reload changes the set of servers one at a time (`addServer`, `removeServer`,
 * `replaceServer`) without touching the others: the shard count stays, so every other
 * server keeps its shard, its process and its calls. The routing tables and each shard's
 * server list always describe the current config, so a shard restarted after a crash
 * starts exactly the servers it owns now.
 */
import { ProjectInstances, type ProjectInstance } from './project-instances.js';
import type { Worker } from 'node:worker_threads';
import type {
  BackendState,
  CallMessage,
  ServerAction,
  SupervisorMessage,
} from '../../shared/messages.js';
import type { WireError } from '../../shared/errors.js';
import type { DirectorConfig, ServerConfig } from '../../shared/config/types.js';
import { DirectorErrorCode, directorError } from '../../shared/errors.js';
import { ProcessRecords, killOrphans } from './process-records.js';
import { assignShards, shardFor } from './rendezvous.js';
import { REMOVE_GRACE_MS, ServerRemovals } from './server-removal.js';
import { ShardLifecycle } from './shard-lifecycle.js';
import { ShardMessages } from './shard-messages.js';
import { StartGate } from './start-gate.js';
import {
  failAllPending,
  failPendingCall,
  unroutable,
  type Admitted,
  type CallHandlers,
  type ForwardRequest,
  type Pending,
  type Shard,
  type ShardEvents,
} from './pending.js';
import { failedReply } from '../../shared/messages.js';

export class ShardPool {
  readonly #shards: Shard[];
  /** Server id → shard, for the servers configured now. */
  readonly #shardOf: Map<string, number>;
  /** Calls routed (or held) and not yet answered, by call id. */
  readonly #pending = new Map<number, Pending>();
  /** Servers being removed (`server-removal.ts`). */
  readonly #removals: ServerRemovals;
  /**
   * Process group of each running stdio backend, to kill orphans if a shard dies; recorded
   * in the data folder so that even a daemon that dies leaves none (process-records.ts).
   */
  readonly #projects = new ProjectInstances();
  readonly #pids: ProcessRecords;
  /** Calls to servers that are not ready yet wait here (`start-gate.ts`). */
  readonly #gate: StartGate;
  /** The shards' threads: started, restarted after a death, stopped (`shard-lifecycle.ts`). */
  readonly #lifecycle: ShardLifecycle;
  #nextCallId = 1;
  #stopping = false;
  #stopped: Promise<void> | undefined;

  /** Where what the shards say goes; set by `onEvents` before `start()`. */
  #handlers: ShardEvents | undefined;
  /** What the pool's parts report to: the handlers set by `onEvents`. */
  readonly #events: ShardEvents = {
    serverState: (message) => this.#handlers?.serverState(message),
    catalog: (message) => this.#handlers?.catalog(message),
    notification: (message) => this.#handlers?.notification(message),
    callStats: (rows) => this.#handlers?.callStats(rows),
    calls: (calls) => this.#handlers?.calls(calls),
  };
  /** Whether shards send finished calls (the live feed has watchers). */
  readonly #live = { calls: false };

  constructor(config: DirectorConfig, processes: ProcessRecords = new ProcessRecords(null)) {
    const events = this.#events;
    this.#pids = processes;
    const count = Math.max(1, config.workers);
    this.#shardOf = assignShards(
      config.servers.map((s) => s.id),
      count,
    );
    this.#shards = Array.from({ length: count }, (_, index) => ({
      index,
      servers: config.servers.filter((s) => this.#shardOf.get(s.id) === index),
      link: undefined,
      restarts: 0,
    }));
    this.#gate = new StartGate(config.limits.startWaitMs, {
      release: (callId) => this.#release(callId),
      refuse: (callId, error) => failPendingCall(this.#pending, callId, error),
      wake: (server) => this.#wake(server),
    });
    for (const server of config.servers) this.#gate.track(server);
    const stopping = (): boolean => this.#stopping;
    this.#removals = new ServerRemovals(this.#shards, this.#pending, processes, events, stopping);
    const messages = new ShardMessages({
      pending: this.#pending,
      shardOf: this.#shardOf,
      gate: this.#gate,
      pids: processes,
      removals: this.#removals,
      events,
      projects: this.#projects,
      hold: (callId, pending) => this.#hold(callId, pending),
    });
    this.#lifecycle = new ShardLifecycle({
      config,
      shards: this.#shards,
      pending: this.#pending,
      pids: processes,
      gate: this.#gate,
      events,
      removals: this.#removals,
      projects: this.#projects,
      messages,
      stopping,
      liveCalls: () => this.#live.calls,
    });
  }

  /** Turns the shards' live call feed on or off (a restarted shard is told at its start). */
  setLiveCalls(on: boolean): void {
    if (this.#live.calls === on) return;
    this.#live.calls = on;
    for (const shard of this.#shards) shard.link?.send({ type: 'live-calls', on });
  }

  /** Calls each shard holds now (sent, or waiting for their server), for /metrics. */
  pendingPerShard(): number[] {
    const counts = new Array<number>(this.#shards.length).fill(0);
    for (const pending of this.#pending.values())
      counts[pending.shard] = (counts[pending.shard] ?? 0) + 1;
    return counts;
  }

  get shardCount(): number {
    return this.#shards.length;
  }

  /** The pool's threads, for diagnostics (and for tests that kill one). */
  get threads(): readonly Worker[] {
    return this.#lifecycle.threads;
  }

  shardOf(server: string): number | undefined {
    return this.#shardOf.get(server);
  }

  /** The projects' own instances of a `share: "project"` server (README: Projects). */
  projectInstances(server: string): ProjectInstance[] {
    return this.#projects.of(server);
  }

  /**
   * A shared server's state as the routing knows it (its worker's last word); undefined for
   * a server that is not configured or is per session.
   */
  stateOf(server: string): BackendState | undefined {
    return this.#gate.state(server);
  }

  /** How long a call waits for a server that is still starting (`limits.startWaitMs`). */
  get startWaitMs(): number {
    return this.#gate.waitMs;
  }

  /** Starts an idle server that a client needs (it listed a profile that includes it). */
  wake(server: string): void {
    this.#gate.wake(server);
  }

  /** Starts every shard; resolves when each has said `ready`. */
  /**
   * Where server states, catalogs and server notifications go. Set after construction, so
   * the composition root can build the pool before the relay that handles its events.
   */
  onEvents(handlers: ShardEvents): void {
    this.#handlers = handlers;
  }

  /** `instance`: the daemon's id, which every shard (and a restarted one) is told. */
  start(instance?: string): Promise<void> {
    return this.#lifecycle.start(instance);
  }

  /**
   * Routes one request to the shard that owns its server, or holds it while the server
   * starts; returns its call id (for `cancel`).
   */
  route(request: ForwardRequest, handlers: CallHandlers): number {
    const admitted = this.admit(request, handlers);
    admitted.link?.send(admitted.message);
    return admitted.callId;
  }

  /**
   * `route` without the send: mints the call's id and registers its handlers, and returns
   * the link to post `message` on now. No link: the pool holds the call until its server is
   * ready (and posts it then), or refused it (its reply has gone to `handlers`). The relay's
   * hot path posts the call itself, so the pool is consulted, not passed through
   * (docs/architecture.md#call-path).
   */
  admit(request: ForwardRequest, handlers: CallHandlers): Admitted {
    const { server, method } = request;
    const callId = this.#nextCallId++;
    const index = this.#shardOf.get(server);
    const link = index === undefined ? undefined : this.#shards[index]?.link;
    const message: CallMessage = {
      type: 'call',
      callId,
      server,
      method,
      params: request.params,
      target: request.target,
      context: request.context,
      clientCapabilities: request.clientCapabilities ?? {},
      logLevel: request.logLevel,
    };
    // A server that is starting (or idle, or its worker restarting) is waited for; an idle
    // one takes a log level without being started (it applies it when it next starts).
    const open =
      this.#gate.open(server) ||
      (method === 'logging/setLevel' && this.#gate.state(server) === 'idle' && link !== undefined);
    if (index === undefined || (link === undefined && open) || this.#stopping) {
      handlers.reply(failedReply(callId, unroutable(server, index !== undefined, this.#stopping)));
      return { callId, message, link: undefined };
    }
    const pending: Pending = { shard: index, server, handlers, message, held: false, deadline: 0 };
    this.#pending.set(callId, pending);
    if (open && link !== undefined) return { callId, message, link };
    this.#hold(callId, pending);
    return { callId, message, link: undefined };
  }

  /** Holds a call until its server is ready, within `limits.startWaitMs` of its first hold. */
  #hold(callId: number, pending: Pending): void {
    if (pending.deadline === 0) pending.deadline = Date.now() + this.#gate.waitMs;
    pending.held = true;
    this.#gate.hold(pending.server, callId, pending.deadline);
  }

  /** The server of a held call is ready: the call goes to its worker. */
  #release(callId: number): void {
    const pending = this.#pending.get(callId);
    if (pending === undefined) return; // cancelled while it waited
    const link = this.#shards[pending.shard]?.link;
    if (link === undefined) {
      this.#hold(callId, pending); // its worker died meanwhile: wait for the new one
      return;
    }
    pending.held = false;
    link.send(pending.message);
  }

  /**
   * An admin's restart, stop or start of one server, sent to the worker that owns it; false
   * when no shard runs that server (not configured, or being removed).
   */
  controlServer(server: string, action: ServerAction): boolean {
    const link = this.#linkOf(server);
    link?.send({ type: 'control-server', server, action });
    return link !== undefined;
  }

  /** An identity's credentials for a server changed: its own instance there stops. */
  identityChanged(server: string, identity: string): boolean {
    const link = this.#linkOf(server);
    link?.send({ type: 'identity-changed', server, identity });
    return link !== undefined;
  }

  /** Asks the worker that owns an idle server to start it. */
  #wake(server: string): void {
    this.#linkOf(server)?.send({ type: 'start-server', server });
  }

  /** The link of the worker that runs `server`, if one does (and is up). */
  #linkOf(server: string): Shard['link'] {
    const index = this.#shardOf.get(server);
    return index === undefined ? undefined : this.#shards[index]?.link;
  }

  /** The client cancelled: the backend is told, and no reply will come. */
  cancel(callId: number, reason?: string): void {
    const pending = this.#pending.get(callId);
    if (pending === undefined) return;
    this.#pending.delete(callId);
    if (pending.held) {
      this.#gate.drop(pending.server, callId); // never reached the worker
      return;
    }
    const message: SupervisorMessage =
      reason === undefined ? { type: 'cancel', callId } : { type: 'cancel', callId, reason };
    this.#shards[pending.shard]?.link?.send(message);
  }

  /** Calls forwarded and not yet answered (or cancelled). */
  get inFlight(): number {
    return this.#pending.size;
  }

  /**
   * Answers every call in flight with `error` (the drain deadline passed) and cancels it
   * upstream, so each backend hears the cancellation; returns how many there were.
   */
  failInFlight(error: WireError): number {
    return failAllPending(this.#pending, this.#shards, error);
  }

  /** A client session ended: every shard stops that session's own backend instances. */
  sessionEnded(session: string): void {
    for (const shard of this.#shards) shard.link?.send({ type: 'session-ended', session });
  }

  /**
   * Starts one more server (config hot reload) on the shard its id hashes to among the
   * current shards. Throws if a server of that id is configured already (a changed entry is
   * `replaceServer`). If a removal of that id is still under way, the new one is sent to
   * the worker once the old one has stopped (one id never has two processes); its calls
   * meanwhile are answered BACKEND_UNAVAILABLE by the worker.
   */
  addServer(config: ServerConfig): void {
    if (this.#stopping) return;
    if (this.#shardOf.has(config.id)) {
      throw new Error(`server '${config.id}' is already configured; use replaceServer`);
    }
    this.#gate.track(config);
    const index = shardFor(config.id, this.#shards.length);
    const shard = this.#shards[index];
    if (shard === undefined) throw new Error(`no shard ${index}`);
    this.#shardOf.set(config.id, index);
    shard.servers = [...shard.servers, config];
    // No link: the shard is restarting, and its restart starts `shard.servers`.
    if (!this.#removals.succeed(config)) shard.link?.send({ type: 'add-server', server: config });
  }

  /**
   * Stops one server for good (config hot reload): from now on its calls are answered
   * BACKEND_UNAVAILABLE "not configured", those in flight SERVER_REMOVED. Resolves once the
   * worker reported it `stopped`, or after `graceMs`, when its process groups are killed
   * and its calls answered here. Never rejects; an unknown id resolves at once.
   */
  removeServer(id: string, graceMs = REMOVE_GRACE_MS): Promise<void> {
    const index = this.#shardOf.get(id);
    if (index === undefined) return this.#removals.done(id);
    this.#shardOf.delete(id);
    this.#gate.forget(id);
    this.#projects.removed(id);
    const shard = this.#shards[index];
    if (shard !== undefined) shard.servers = shard.servers.filter((s) => s.id !== id);
    return this.#removals.remove(id, index, graceMs);
  }

  /** A changed server entry: the old process stops, then the new one starts. */
  async replaceServer(config: ServerConfig, graceMs = REMOVE_GRACE_MS): Promise<void> {
    await this.removeServer(config.id, graceMs);
    if (!this.#stopping && !this.#shardOf.has(config.id)) this.addServer(config);
  }

  /** Stops every backend (each shard escalates to SIGKILL itself), then the threads. */
  stop(graceMs = 10_000): Promise<void> {
    this.#stopped ??= this.#stop(graceMs);
    return this.#stopped;
  }

  async #stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.#gate.refuseAll(
      directorError(DirectorErrorCode.ShuttingDown, 'MCP Director is shutting down'),
    );
    await this.#lifecycle.stop(graceMs);
    // Every process the workers reported and did not report gone: servers configured at
    // start, added later, or still being removed.
    killOrphans(this.#pids, () => true);
    this.#removals.endAll();
    await this.#lifecycle.destroy();
  }
}
