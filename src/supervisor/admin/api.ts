/**
 * The daemon's own HTTP API: `/healthz` for scripts and load balancers, and `/api/*` (JSON)
 * for the CLI and dashboards. Read-only views of supervisor state and of analytics.
 *
 * Who sees what (`Access.apiScope`): an admin token sees everything; a profile's token sees
 * that profile's servers (state, counts, no command, URL or error text: those can hold
 * paths and secrets), its tools, its sessions (without their ids, which are enough to act
 * in a session) and the stats of its calls. `/healthz` is open to probes and names nothing.
 * `/.well-known/oauth-protected-resource[/mcp[/<profile>]]` is the protected resource metadata
 * when `oauth` is configured (ingress/protected-resource.ts), public like any discovery
 * document; every other `/.well-known/*` is 404, so a client never starts a sign-in the daemon
 * cannot finish.
 */
import type { AnalyticsStore } from '../../shared/analytics/store.js';
import { callsEndpoint, historyEndpoint, statsEndpoint } from './analytics-api.js';
import { sendJson } from './json-reply.js';
import type { DirectorConfig } from '../../shared/config/types.js';
import type { Catalog } from '../catalog/catalog.js';
import { type Access, type ApiScope } from '../ingress/access.js';
import type { ProfileViews } from '../catalog/profile-views.js';
import type { IncomingRequest } from '../ingress/http-message.js';
import type { Reply } from '../ingress/uws.js';
import type { LiveFeed } from './live-feed.js';
import type { Metrics } from './metrics.js';
import { SSE_HEADERS, SSE_KEEPALIVE, sseEvent } from '../ingress/sse.js';
import type { ServerStates } from './server-states.js';
import type { ShardPool } from '../pool/shard-pool.js';
import type { Sessions } from '../session/sessions.js';
import { checkHostAndOrigin } from '../ingress/origin.js';
import type { Drain } from '../ingress/shutdown.js';

/** How the last reload of the config file went, for /api/health. */
export interface ConfigStatus {
  source: string;
  loadedAt: number;
  /** The problems of the last edit that was not applied; cleared by a good one. */
  rejected?: { at: number; error: string };
}

export interface ApiDeps {
  /** The running config (it changes on reload). */
  config: () => DirectorConfig;
  configStatus: () => ConfigStatus;
  views: ProfileViews;
  access: Access;
  version: string;
  uws: string;
  startedAt: number;
  states: ServerStates;
  catalog: Catalog;
  sessions: Sessions;
  shards: ShardPool;
  analytics: AnalyticsStore | undefined;
  metrics: Metrics;
  feed: LiveFeed;
  /** Set once a stop began: `/readyz` turns 503 so the balancer sends nothing new. */
  drain: Drain;
  /** This node in its fleet, for the admin's /api/health; null for a daemon on its own. */
  cluster: () => ClusterHealth | null;
}

/** What /api/health says of the fleet: this node, the nodes it knows, whether Redis answers. */
export interface ClusterHealth {
  node: string;
  nodes: Record<string, string>;
  /** Null without `cluster.redis`. */
  redis: 'answering' | 'not answering' | null;
}

const NO_OAUTH =
  'Not found: this MCP Director is no OAuth authorization server, and has no protected-resource metadata unless "oauth" is configured; when it wants a token, send one from its config as Authorization: Bearer <token>';

export function handleApi(deps: ApiDeps, request: IncomingRequest, reply: Reply): void {
  const config = deps.config();
  const refused = checkHostAndOrigin(request.headers, config.listen.host, config.allowedOrigins);
  if (refused !== undefined) return sendJson(reply, 403, { error: refused });
  if (request.path.startsWith('/.well-known/')) {
    const metadata =
      request.method === 'GET' ? deps.access.resourceMetadata(request.path) : undefined;
    if (metadata === undefined) return sendJson(reply, 404, { error: NO_OAUTH });
    return sendJson(reply, 200, metadata, { 'Cache-Control': 'max-age=300' });
  }
  if (request.method !== 'GET')
    return sendJson(
      reply,
      405,
      {
        error: `${request.method} is not allowed here; the API is read-only (GET) but for its actions (POST /api/servers/<name>/restart|stop|start, POST /api/tools/call)`,
      },
      { Allow: 'GET' },
    );
  // Probes need no token and learn nothing but the daemon's state.
  if (request.path === '/healthz') {
    const { status } = health(deps, { admin: true, profile: '', identity: null });
    return sendJson(reply, deps.states.settled ? 200 : 503, { status });
  }
  // For a load balancer: whether to send this node new requests (README: Running several
  // daemons). Not while its servers first start, nor once it drains on SIGTERM.
  if (request.path === '/readyz') {
    const ready = deps.states.settled && deps.drain.ready;
    const why = !deps.drain.ready ? 'draining' : deps.states.settled ? 'ready' : 'starting';
    return sendJson(reply, ready ? 200 : 503, { status: why });
  }
  const access = deps.access.apiScope(request.headers);
  if (!access.ok) return sendJson(reply, access.status, { error: access.message }, access.headers);
  const scope = access.scope;
  if (request.path === '/metrics') return metricsText(deps, scope, reply);
  if (request.path === '/api/events') return events(deps, scope, reply);
  switch (request.path) {
    case '/api/health':
      return sendJson(reply, 200, health(deps, scope));
    case '/api/servers':
      return sendJson(reply, 200, servers(deps, scope));
    case '/api/tools':
      return tools(deps, scope, request, reply);
    case '/api/profiles':
      return sendJson(reply, 200, profiles(deps, scope));
    case '/api/sessions':
      return sendJson(reply, 200, sessions(deps, scope));
    case '/api/stats':
      return statsEndpoint(deps.analytics, scope, request, reply);
    case '/api/calls':
      return callsEndpoint(deps.analytics, scope, request, reply);
    case '/api/history':
      return historyEndpoint(
        deps.analytics,
        scope,
        (server) => sees(deps, scope, server),
        request,
        reply,
      );
    default:
      return sendJson(reply, 404, {
        error: `No such endpoint: ${request.path}. MCP clients use /mcp (or the older /sse and /messages); the API has /healthz, /readyz, /metrics, /api/events, /api/health, /api/servers, /api/tools[?profile=], /api/profiles, /api/sessions, /api/stats, /api/calls, /api/history?of=sessions|servers; the admin's also /api/config, /api/profiles/<name>/tools, POST /api/servers/<name>/restart|stop|start and POST /api/tools/call`,
      });
  }
}

/** Keep-alive comments on an idle `/api/events` stream, so proxies keep it open. */
const EVENTS_KEEPALIVE_MS = 15_000;

/** `/api/events`: calls as they finish and server state changes, as SSE, for the scope. */
function events(deps: ApiDeps, scope: ApiScope, reply: Reply): void {
  const stream = reply.stream(SSE_HEADERS);
  if (stream.closed) return;
  const unwatch = deps.feed.watch({
    scope,
    send: (name, data) => stream.write(sseEvent(name, data)),
  });
  const keepalive = setInterval(() => stream.write(SSE_KEEPALIVE), EVENTS_KEEPALIVE_MS);
  stream.onClose(() => {
    clearInterval(keepalive);
    unwatch();
  });
  // The servers as they are now, so a watcher starts from the whole picture.
  for (const [server, status] of deps.states.entries()) {
    if (sees(deps, scope, server)) {
      stream.write(sseEvent('server', { server, state: status.state, restarts: status.restarts }));
    }
  }
}

/** `/metrics` covers every server and profile: an admin's (or, without tokens, anyone's). */
function metricsText(deps: ApiDeps, scope: ApiScope, reply: Reply): void {
  if (!scope.admin) {
    return sendJson(reply, 403, {
      error:
        'Forbidden: /metrics covers every profile; scrape it with an admin token ("admin": true in the config)',
    });
  }
  deps.metrics.render().then(
    (text) => reply.send(200, { 'Content-Type': deps.metrics.contentType }, text),
    (error: unknown) => sendJson(reply, 500, { error: `metrics failed: ${String(error)}` }),
  );
}

/** Whether the scope may see this server. */
function sees(deps: ApiDeps, scope: ApiScope, server: string): boolean {
  return scope.admin || deps.views.viewOf(scope.profile).hasServer(server);
}

function health(deps: ApiDeps, scope: ApiScope): { status: string; [key: string]: unknown } {
  // Null prototype: a server id is a config key, and `__proto__` is a valid one.
  const servers: Record<string, object> = Object.create(null) as Record<string, object>;
  let ready = 0;
  let total = 0;
  for (const [id, status] of deps.states.entries()) {
    if (!sees(deps, scope, id)) continue;
    servers[id] = scope.admin ? status : { state: status.state, restarts: status.restarts };
    total++;
    if (status.state === 'ready' || status.state === 'idle') ready++; // idle: on demand
  }
  const state = !deps.states.settled ? 'starting' : ready === total ? 'ok' : 'degraded';
  if (!scope.admin) {
    return {
      status: state,
      version: deps.version,
      uptimeMs: Date.now() - deps.startedAt,
      profile: scope.profile,
      sessions: countSessions(deps, scope),
      servers,
    };
  }
  return {
    status: state,
    version: deps.version,
    uws: deps.uws,
    uptimeMs: Date.now() - deps.startedAt,
    shards: deps.shards.shardCount,
    sessions: deps.sessions.size,
    servers,
    config: deps.configStatus(),
    cluster: deps.cluster(),
  };
}

function servers(deps: ApiDeps, scope: ApiScope): object {
  const shown = deps.config().servers.filter((server) => sees(deps, scope, server.id));
  return {
    servers: shown.map((server) => {
      const catalog = deps.catalog.backend(server.id);
      const status = deps.states.get(server.id);
      return {
        id: server.id,
        prefix: server.prefix,
        transport: server.transport,
        // Never the env or headers: they hold secrets. Commands and URLs: admins only.
        ...(scope.admin &&
          (server.transport === 'stdio' ? { command: server.command } : { url: server.url })),
        ...(scope.admin && { shard: deps.shards.shardOf(server.id) }),
        ...(scope.admin ? status : status && { state: status.state, restarts: status.restarts }),
        // Which folders have an instance: the admin's business only.
        ...(scope.admin &&
          server.share === 'project' && { projects: deps.shards.projectInstances(server.id) }),
        serverInfo: catalog?.serverInfo,
        protocolVersion: catalog?.protocolVersion,
        era: catalog?.era,
        callsPerSecond: deps.metrics.callsPerSecond(server.id),
        counts: catalog && {
          tools: catalog.tools.length,
          prompts: catalog.prompts.length,
          resources: catalog.resources.length,
          resourceTemplates: catalog.resourceTemplates.length,
        },
      };
    }),
    collisions: deps.catalog.collisions.filter(
      (c) => sees(deps, scope, c.kept) && sees(deps, scope, c.dropped),
    ),
  };
}

/** The tools a profile sees (`?profile=`, else the caller's), by its names. */
function tools(deps: ApiDeps, scope: ApiScope, request: IncomingRequest, reply: Reply): void {
  const asked = new URLSearchParams(request.query).get('profile') ?? undefined;
  if (!scope.admin && asked !== undefined && asked !== scope.profile) {
    return sendJson(reply, 403, {
      error: `Forbidden: this request sees profile '${scope.profile}' only, not '${asked}'; an admin token ("admin": true in the config) sees every profile`,
    });
  }
  const profile = asked ?? scope.profile;
  const view = deps.views.get(profile);
  if (view === undefined) {
    const known = [...deps.views.values()].map((v) => v.name).join(', ');
    return sendJson(reply, 404, { error: `Unknown profile '${profile}'; profiles: ${known}` });
  }
  sendJson(reply, 200, {
    profile,
    toolSurface: view.config.toolSurface,
    tools: view.tools().map(({ server, tool }) => {
      const name = typeof tool['name'] === 'string' ? tool['name'] : '';
      const description = typeof tool['description'] === 'string' ? tool['description'] : '';
      return {
        name,
        server,
        backendName: view.tool(name)?.name,
        description: description.split('\n')[0],
      };
    }),
  });
}

/** Profiles and (admins only) which token names reach them; never the tokens. */
function profiles(deps: ApiDeps, scope: ApiScope): object {
  const tokens = deps.config().tokens;
  const shown = [...deps.views.values()].filter(
    (view) => scope.admin || view.name === scope.profile,
  );
  return {
    requireToken: deps.config().requireToken,
    profiles: shown.map((view) => ({
      name: view.name,
      description: view.config.description,
      servers: view.config.servers,
      toolSurface: view.config.toolSurface,
      restricted: view.config.restricted,
      tools: view.tools().length,
      ...(scope.admin && {
        tokens: tokens.filter((t) => t.profile === view.name).map((t) => t.name),
      }),
    })),
  };
}

function sessions(deps: ApiDeps, scope: ApiScope): object {
  const shown = [...deps.sessions.values()].filter(
    (s) => scope.admin || s.profile === scope.profile,
  );
  return {
    sessions: shown.map((s) => ({
      // An id is all it takes to act in a session of an open profile: admins only.
      ...(scope.admin && { id: s.id }),
      client: s.clientInfo,
      protocolVersion: s.protocolVersion,
      era: s.era,
      transport: s.transport,
      profile: s.profile,
      // Its folder is the admin's business; its project's name may be shown to its profile.
      ...(s.project !== null && {
        project: scope.admin
          ? { name: s.project.name, dir: s.project.dir }
          : { name: s.project.name },
      }),
      createdAt: s.createdAt,
      lastSeen: s.lastSeen,
      stream: s.channel !== undefined && !s.channel.closed,
      inFlight: s.calls.size,
      calls: s.forwarded,
      subscriptions: [...s.subscriptions],
    })),
  };
}

function countSessions(deps: ApiDeps, scope: ApiScope): number {
  if (scope.admin) return deps.sessions.size;
  let count = 0;
  for (const s of deps.sessions.values()) if (s.profile === scope.profile) count++;
  return count;
}
