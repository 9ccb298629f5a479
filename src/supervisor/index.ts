/**
 * Starts MCP Director's supervisor: the uWS ingress, sessions, the merged catalog and the
 * shard workers, wired together. The supervisor never touches a backend itself.
 */
import type { Readable, Writable } from 'node:stream';
import type { DirectorConfig } from '../shared/config/types.js';
import { ownInstancesOf } from './relay/own-instances.js';
import { ClusterNode } from './session/cluster-node.js';
import { Projects, type Project } from './session/projects.js';
import { openAnalyticsStore } from '../shared/analytics/store.js';
import type { AnalyticsStore } from '../shared/analytics/store.js';
import { JsonRpcCode, rpcError } from '../shared/errors.js';
import { logger } from '../shared/log.js';
import { newInstanceId } from '../shared/instance.js';
import { DIRECTOR_VERSION as VERSION } from '../shared/version.js';
import { watchConfigFile } from './admin/config-watcher.js';
import { projectFilesOf } from '../shared/config/project-files.js';
import { ConfigReloader } from './admin/reload.js';
import { adminRoutes } from './admin/admin-routes.js';
import { Access } from './ingress/access.js';
import { connectFleetRedis } from './fleet/redis.js';
import { NodeRegistry } from './fleet/node-registry.js';
import { SharedBuckets } from './fleet/shared-buckets.js';
import { Catalog } from './catalog/catalog.js';
import { ProfileViews } from './catalog/profile-views.js';
import { Dispatcher } from './relay/dispatch.js';
import { listen, loadNativeUws } from './ingress/uws.js';
import { refuseIfPortServed } from './ingress/port-check.js';
import { errorFrame } from '../shared/jsonrpc.js';
import { McpEndpoint } from './transports/streamable-http.js';
import { ServerStates } from './admin/server-states.js';
import { LiveFeed } from './admin/live-feed.js';
import { Metrics } from './admin/metrics.js';
import { keepRetention } from './admin/retention.js';
import { logServerState, logSessions } from './admin/lifecycle-log.js';
import { Sessions } from './session/sessions.js';
import { MESSAGES_PATH, SSE_PATH, SseEndpoint } from './transports/legacy-sse.js';
import { ShardPool } from './pool/shard-pool.js';
import { ProcessRecords, armCrashCleanup, reapPreviousDaemons } from './pool/process-records.js';
import { prepareDataDir } from './admin/data-dir.js';
import { localBaseUrl } from './ingress/protected-resource.js';
import { serveStdioClient } from './transports/stdio.js';
import { Drain, drainCalls, shuttingDown } from './ingress/shutdown.js';

const log = logger('director');

export interface Director {
  /** The MCP endpoint to point clients at. */
  url: string;
  port: number;
  /** Which native uWebSockets.js build serves HTTP. */
  uws: string;
  /** Resolves once every backend has finished its first start, or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<void>;
  /** Serves one MCP client on these streams (single-client mode); resolves when input ends. */
  serveStdio(input: Readable, output: Writable, profile?: string): Promise<void>;
  /** Reads the config file again now and applies it as an edit would be (SIGHUP). */
  reloadConfig(reason: string): void;
  /**
   * Stops: no new connections or requests, calls in flight may finish for
   * `limits.shutdownDrainMs` (`drain: false`: not at all; `skip` aborted: no longer), the
   * rest are answered SHUTTING_DOWN, then sessions end and every backend stops.
   */
  close(options?: CloseOptions): Promise<void>;
}

export interface CloseOptions {
  /** Let calls in flight finish first (default false: answer them SHUTTING_DOWN now). */
  drain?: boolean;
  /** Aborted (a second signal): stop waiting for calls in flight. */
  skip?: AbortSignal;
}

/** The config file to watch for changes (none for the embedded defaults). */
export interface WatchedConfig {
  file: string;
  /** The text `config` was loaded from. */
  text: string;
  /** Loads a changed text as the first load did (same environment and CLI overrides). */
  load: (text: string) => DirectorConfig;
}

export async function startDirector(
  config: DirectorConfig,
  watched?: WatchedConfig,
): Promise<Director> {
  const startedAt = Date.now();
  const build = loadNativeUws();
  const uws = `${build.name}@${build.version}`;
  if (config.listen.port !== 0) await refuseIfPortServed(config.listen.host, config.listen.port);

  const catalog = new Catalog(config.servers);
  const states = new ServerStates(config.servers);
  const views = new ProfileViews(
    catalog,
    config.profiles,
    config.pageSize,
    (server) => states.get(server)?.state ?? 'unknown',
  );
  prepareDataDir(config.dataDir);
  // Before any backend starts: what a daemon killed or crashed here left running goes.
  reapPreviousDaemons(config.dataDir);
  const processes = new ProcessRecords(config.dataDir);
  const disarmCrashCleanup = armCrashCleanup(processes);
  // The cluster settings are read at start only (a node does not change its name, key or Redis).
  const cluster = config.cluster;
  const fleet =
    cluster?.redis == null ? undefined : await connectFleetRedis(cluster.redis, cluster.key);
  const registry =
    fleet === undefined || cluster === null
      ? undefined
      : new NodeRegistry(fleet, cluster.node, cluster.url ?? cluster.nodes[cluster.node] ?? null);
  const access = new Access(config, fleet && new SharedBuckets(fleet));
  const instance = newInstanceId();
  const analytics: AnalyticsStore | undefined = config.analytics.enabled
    ? openAnalyticsStore(`${config.dataDir}/analytics`, { writerId: 'supervisor' })
    : undefined;
  const clusterNode = new ClusterNode(cluster, registry);
  const sessions = new Sessions({
    idleMs: config.sessionIdleMs,
    maxSessions: config.limits.maxSessions,
    cluster: clusterNode,
  });
  if (analytics !== undefined) logSessions(analytics, sessions);
  const drain = new Drain();
  const shards = new ShardPool(config, processes);
  const ownInstances = ownInstancesOf(config.servers);
  const projects = new Projects(config);
  const identity = {
    serverInfo: { name: 'mcp-director', title: 'MCP Director', version: VERSION },
    sessionId: () => clusterNode.sessionId(),
    instance,
    instructions: (profile: string, project?: Project | null) => {
      const view = views.viewOf(profile, project);
      return catalog.instructions((server) => view.hasServer(server));
    },
    tasks: () => catalog.serversWith('tasks').length > 0,
  };
  const dispatcher = new Dispatcher({
    catalog,
    views,
    shards,
    sessions,
    ownInstances,
    serverInfo: identity.serverInfo,
    sealer: clusterNode.sealer,
    projects,
  });
  sessions.onEnd((session) => dispatcher.sessionEnded(session));
  const feed = new LiveFeed(
    (on) => shards.setLiveCalls(on),
    (scope, server) => scope.admin || views.viewOf(scope.profile).hasServer(server),
  );
  const metrics = new Metrics({
    servers: () => states.entries(),
    sessions: () => sessions.values(),
    pendingPerShard: () => shards.pendingPerShard(),
    node: clusterNode.node,
  });
  // No event fires before shards.start(), below.
  shards.onEvents({
    serverState: (message) => {
      states.update(message);
      feed.serverState(message);
      if (analytics !== undefined) logServerState(analytics, message);
      const detail = message.error === undefined ? '' : `: ${message.error}`;
      const write =
        message.state === 'failed' || message.state === 'restarting' ? log.warn : log.info;
      write(`server '${message.server}' is ${message.state}${detail}`);
      // An idle server keeps its catalog: its tools stay listed and a call starts it again.
      if (message.state === 'failed' || message.state === 'stopped') {
        if (catalog.removeBackend(message.server)) dispatcher.listsChanged(views.rebuild());
      }
      dispatcher.serverChanged(message.server);
    },
    catalog: (message) => {
      const before = catalog.collisions.length;
      catalog.setBackend(message.server, message.catalog);
      const changed = views.rebuild();
      // A backend that said its list changed is believed even when the page text did not.
      for (const view of views.values()) {
        if (message.signalled.length === 0 || !view.hasServer(message.server)) continue;
        const kinds = changed.get(view.key) ?? new Set();
        for (const kind of message.signalled) kinds.add(kind);
        changed.set(view.key, kinds);
      }
      for (const c of catalog.collisions.slice(before)) {
        log.warn(
          `name collision: ${c.kind} '${c.name}' of server '${c.dropped}' is hidden; server '${c.kept}' (earlier in the config) keeps it. Give one of them a "prefix".`,
        );
      }
      dispatcher.listsChanged(changed);
      dispatcher.serverChanged(message.server);
    },
    notification: (message) => dispatcher.serverNotification(message),
    callStats: (rows) => metrics.addCallStats(rows),
    calls: (calls) => feed.calls(calls),
  });
  // One options object for both endpoints: a reload updates its allowedOrigins in place.
  const ingress = {
    ...identity,
    listenHost: config.listen.host,
    allowedOrigins: config.allowedOrigins,
    access,
    limits: config.limits,
    drain,
    replayBufferBytes: config.limits.replayBufferBytes,
    cluster: clusterNode,
    projects,
  };
  const endpoint = new McpEndpoint(dispatcher, sessions, views, ingress);
  const sseEndpoint = new SseEndpoint(dispatcher, sessions, ingress);
  const reloader = new ConfigReloader(config, {
    shards,
    states,
    catalog,
    views,
    access,
    dispatcher,
    sessions,
    ownInstances,
    ingress,
    projects,
  });
  const stopRetention = analytics
    ? keepRetention(analytics, {
        days: config.analytics.retentionDays,
        maxSizeMB: config.analytics.maxSizeMB,
      })
    : () => {};
  /** The port the daemon listens on (the sign-in callback names it); known once bound. */
  let boundPort = config.listen.port;
  const fallback = adminRoutes({
    config,
    reloader,
    clusterNode,
    fleet,
    views,
    access,
    uws,
    startedAt,
    states,
    catalog,
    sessions,
    shards,
    analytics,
    metrics,
    feed,
    drain,
    dispatcher,
    boundPort: () => boundPort,
  });

  const listener = await listen(build, {
    host: config.listen.host,
    port: config.listen.port,
    maxBodyBytes: config.maxBodyBytes,
    streamQueueBytes: config.limits.streamQueueBytes,
    routes: {
      mounts: new Map([
        ['mcp', { handler: endpoint, takesSegment: true }],
        [SSE_PATH.slice(1), { handler: sseEndpoint, takesSegment: true }],
        [MESSAGES_PATH.slice(1), { handler: sseEndpoint, takesSegment: false }],
      ]),
      fallback,
    },
    prepare: (request) => access.prepare(request.headers),
    tooLarge: (bytes, limit) =>
      errorFrame(
        null,
        rpcError(
          JsonRpcCode.InvalidRequest,
          `Payload Too Large: the body has ${bytes} bytes, the limit is ${limit} ("maxBodyBytes" in the config)`,
        ),
      ),
  });
  boundPort = listener.port;
  access.listening(listener.port);
  const url = `${localBaseUrl(config.listen.host, listener.port)}/mcp`;
  log.info(
    `HTTP on ${url} (uWebSockets.js native build ${uws}); ${plural(config.servers.length, 'server')} on ${plural(shards.shardCount, 'shard')}; config: ${config.source}`,
  );
  await shards.start(instance);
  const watcher =
    watched &&
    watchConfigFile(watched.file, {
      load: watched.load,
      initialText: watched.text,
      relatedFiles: projectFilesOf,
      initialConfig: config,
      onConfig: (next) => reloader.apply(next),
      onInvalid: (error) => reloader.rejected(error),
    });

  let closing: Promise<void> | undefined;
  return {
    url,
    port: listener.port,
    uws,
    settled: async (timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      while (!states.settled && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
    },
    serveStdio: (input, output, profile = 'default') =>
      serveStdioClient(input, output, profile, {
        dispatcher,
        sessions,
        identity,
        maxJsonDepth: config.limits.maxJsonDepth,
        drain,
        admit: (method, then) => access.admit({ profile }, method, then),
      }),
    reloadConfig: (reason) => {
      if (watcher === undefined) log.info(`${reason}: there is no config file to reload`);
      else {
        log.info(`${reason}: reloading the config file ${watched?.file}`);
        watcher.checkNow();
      }
    },
    close: (options = {}) =>
      (closing ??= (async () => {
        watcher?.close();
        const noticeMs = options.drain === true ? (config.cluster?.drainNoticeMs ?? 0) : 0;
        if (noticeMs > 0) {
          // Its balancer learns from /readyz first; requests are still served meanwhile.
          drain.notice();
          log.info(`draining: /readyz says 503 for ${noticeMs} ms before the socket closes`);
          await drainCalls(() => 1, noticeMs, options.skip); // the notice; a 2nd signal ends it
        }
        // No new connections; requests on open ones get 503 SHUTTING_DOWN from here on.
        listener.close();
        drain.begin();
        const drainMs = options.drain === true ? config.limits.shutdownDrainMs : 0;
        if (drainMs > 0 && shards.inFlight > 0) {
          log.info(
            `draining: ${plural(shards.inFlight, 'call')} in flight may finish within ${drainMs} ms ("limits.shutdownDrainMs"); a second signal stops waiting`,
          );
        }
        await drainCalls(() => shards.inFlight, drainMs, options.skip);
        const cut = shards.failInFlight(
          shuttingDown('the call did not finish before the drain deadline'),
        );
        if (cut > 0) log.warn(`answered ${plural(cut, 'call')} still in flight with SHUTTING_DOWN`);
        endpoint.close();
        sseEndpoint.close();
        sessions.close();
        await shards.stop();
        // Every backend is stopped (or its group killed): nothing is left to clean up.
        disarmCrashCleanup();
        processes.close();
        stopRetention();
        await analytics?.close();
        await registry?.leave();
        fleet?.close();
      })()),
  };
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
