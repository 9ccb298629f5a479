/**
 * The daemon's own HTTP API: `/healthz` for scripts and load balancers, and `/api/*` (JSON)
 * for the CLI and dashboards. Read-only views of supervisor state and of analytics.
 */
import type { AnalyticsStore, StatsQuery } from '../shared/analytics/store.js';
import type { DirectorConfig } from '../shared/config/types.js';
import type { Catalog } from './catalog.js';
import { UNAUTHORIZED_HEADERS, type Access } from './access.js';
import type { ProfileViews } from './profile-view.js';
import type { IncomingRequest, Reply } from './ingress/uws.js';
import type { ServerStates } from './server-states.js';
import type { ShardPool } from './shards.js';
import type { Sessions } from './sessions.js';
import { checkHostAndOrigin } from './origin.js';

const DAY_MS = 24 * 60 * 60 * 1000;

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
}

export function handleApi(deps: ApiDeps, request: IncomingRequest, reply: Reply): void {
  const config = deps.config();
  const refused = checkHostAndOrigin(request.headers, config.listen.host, config.allowedOrigins);
  if (refused !== undefined) return sendJson(reply, 403, { error: refused });
  // With tokens required, only /healthz (no names, for probes) is open.
  if (deps.access.required && request.path !== '/healthz') {
    const decision = deps.access.decide(request.headers, undefined);
    if (!decision.ok)
      return sendJson(reply, decision.status, { error: decision.message }, UNAUTHORIZED_HEADERS);
  }
  if (request.method !== 'GET')
    return sendJson(
      reply,
      405,
      { error: `${request.method} is not allowed here; the API is read-only (GET)` },
      { Allow: 'GET' },
    );
  switch (request.path) {
    case '/healthz':
      return sendJson(reply, deps.states.settled ? 200 : 503, health(deps));
    case '/api/health':
      return sendJson(reply, 200, health(deps));
    case '/api/servers':
      return sendJson(reply, 200, servers(deps));
    case '/api/tools':
      return tools(deps, request, reply);
    case '/api/profiles':
      return sendJson(reply, 200, profiles(deps));
    case '/api/sessions':
      return sendJson(reply, 200, sessions(deps));
    case '/api/stats':
      return stats(deps, request, reply);
    default:
      return sendJson(reply, 404, {
        error: `No such endpoint: ${request.path}. MCP clients use /mcp (or the older /sse and /messages); the API has /healthz, /api/health, /api/servers, /api/tools[?profile=], /api/profiles, /api/sessions, /api/stats`,
      });
  }
}

function health(deps: ApiDeps): object {
  const servers: Record<string, object> = {};
  let ready = 0;
  for (const [id, status] of deps.states.entries()) {
    servers[id] = status;
    if (status.state === 'ready' || status.state === 'idle') ready++; // idle: on demand
  }
  const total = deps.config().servers.length;
  return {
    status: !deps.states.settled ? 'starting' : ready === total ? 'ok' : 'degraded',
    version: deps.version,
    uws: deps.uws,
    uptimeMs: Date.now() - deps.startedAt,
    shards: deps.shards.shardCount,
    sessions: deps.sessions.size,
    servers,
    config: deps.configStatus(),
  };
}

function servers(deps: ApiDeps): object {
  return {
    servers: deps.config().servers.map((server) => {
      const catalog = deps.catalog.backend(server.id);
      return {
        id: server.id,
        prefix: server.prefix,
        transport: server.transport,
        // Never the env or headers: they hold secrets.
        ...(server.transport === 'stdio' ? { command: server.command } : { url: server.url }),
        shard: deps.shards.shardOf(server.id),
        ...deps.states.get(server.id),
        serverInfo: catalog?.serverInfo,
        protocolVersion: catalog?.protocolVersion,
        counts: catalog && {
          tools: catalog.tools.length,
          prompts: catalog.prompts.length,
          resources: catalog.resources.length,
          resourceTemplates: catalog.resourceTemplates.length,
        },
      };
    }),
    collisions: deps.catalog.collisions,
  };
}

/** The tools a profile sees (`?profile=`, else the token's, else the default), by its names. */
function tools(deps: ApiDeps, request: IncomingRequest, reply: Reply): void {
  const asked = new URLSearchParams(request.query).get('profile') ?? undefined;
  const decision = deps.access.decide(request.headers, undefined);
  const profile = asked ?? (decision.ok ? decision.profile : 'default');
  const view = deps.views.get(profile);
  if (view === undefined) {
    const known = [...deps.views.values()].map((v) => v.name).join(', ');
    return sendJson(reply, 404, { error: `Unknown profile '${profile}'; profiles: ${known}` });
  }
  sendJson(reply, 200, {
    profile,
    toolSurface: view.config.toolSurface,
    tools: view.tools().map(({ server, tool }) => {
      const name = String(tool['name']);
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

/** Profiles and which token names reach them (never the tokens). */
function profiles(deps: ApiDeps): object {
  const tokens = deps.config().tokens;
  return {
    requireToken: deps.config().requireToken,
    profiles: [...deps.views.values()].map((view) => ({
      name: view.name,
      description: view.config.description,
      servers: view.config.servers,
      toolSurface: view.config.toolSurface,
      restricted: view.config.restricted,
      tools: view.tools().length,
      tokens: tokens.filter((t) => t.profile === view.name).map((t) => t.name),
    })),
  };
}

function sessions(deps: ApiDeps): object {
  return {
    sessions: [...deps.sessions.values()].map((s) => ({
      id: s.id,
      client: s.clientInfo,
      protocolVersion: s.protocolVersion,
      profile: s.profile,
      createdAt: s.createdAt,
      lastSeen: s.lastSeen,
      stream: s.channel !== undefined && !s.channel.closed,
      inFlight: s.calls.size,
      subscriptions: [...s.subscriptions],
    })),
  };
}

function stats(deps: ApiDeps, request: IncomingRequest, reply: Reply): void {
  if (deps.analytics === undefined) {
    return sendJson(reply, 404, {
      error: 'Analytics are disabled in the config ("analytics": {"enabled": false})',
    });
  }
  const params = new URLSearchParams(request.query);
  const query: StatsQuery = {};
  for (const [key, field] of [
    ['since', 'sinceMs'],
    ['until', 'untilMs'],
  ] as const) {
    const raw = params.get(key);
    if (raw === null) continue;
    const value = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
    if (Number.isNaN(value)) {
      return sendJson(reply, 400, {
        error: `Query parameter '${key}' must be ms since the epoch or an ISO date, got '${raw}'`,
      });
    }
    query[field] = value;
  }
  // stats() scans synchronously (~0.5M records/s): without `since`, the last 24 hours.
  query.sinceMs ??= Date.now() - DAY_MS;
  const server = params.get('server');
  if (server !== null) query.server = server;
  sendJson(reply, 200, deps.analytics.stats(query));
}

function sendJson(
  reply: Reply,
  status: number,
  body: object,
  headers: Record<string, string> = {},
): void {
  reply.json(status, JSON.stringify(body), { 'Cache-Control': 'no-store', ...headers });
}
