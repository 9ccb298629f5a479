/**
 * The API's actions: the only requests to `/api` that change something or act, each a POST
 * that needs the admin scope (README "Dashboard"):
 *
 *   POST /api/servers/<name>/restart | stop | start   → 202 {server, action, state}
 *   POST /api/tools/call {profile?, tool, arguments?} → 200 with the JSON-RPC response
 *
 * Who may: `Access.apiScope` decides, as for every `/api` request: an admin token, or anyone
 * while the config has no token at all (then nothing tells callers apart, and whoever reaches
 * the daemon can use every profile anyway). A profile's token is refused (403).
 *
 * Cross-site requests: the Host/Origin check refuses pages of other origins
 * (`ingress/origin.ts`), and an action must say `Content-Type: application/json`, which a page
 * of another origin can only send after a CORS preflight that this daemon never grants, so
 * a form or `fetch` elsewhere cannot act even where no token is configured.
 */
import { isJsonObject, ownMember, type JsonObject } from '../../shared/json.js';
import type { ServerAction } from '../../shared/messages.js';
import type { ProfileViews } from '../catalog/profile-views.js';
import type { ApiScope } from '../ingress/access.js';
import type { IncomingRequest } from '../ingress/http-message.js';
import type { Reply } from '../ingress/uws.js';
import type { ShardPool } from '../pool/shard-pool.js';
import type { Dispatcher } from '../relay/dispatch.js';
import type { Caller } from '../session/sessions.js';
import { actionBody, adminScope, sendJson, type GuardDeps } from './admin-guard.js';
import type { ServerStates } from './server-states.js';

export interface ActionDeps extends GuardDeps {
  shards: ShardPool;
  states: ServerStates;
  views: ProfileViews;
  dispatcher: Dispatcher;
}

const SERVER_ACTIONS: ReadonlySet<string> = new Set<ServerAction>(['restart', 'stop', 'start']);
const TOOL_CALL_PATH = '/api/tools/call';
/** The client name the relay and the analytics see for calls made from the dashboard. */
const DASHBOARD_CLIENT = 'mcp-director dashboard';

/** Whether the path names an action (whatever the method: others get 405 there). */
export function isApiAction(path: string): boolean {
  return path === TOOL_CALL_PATH || serverActionOf(path) !== undefined;
}

/** `/api/servers/<name>/<action>` → its parts; the name still percent-encoded. */
function serverActionOf(path: string): { name: string; action: ServerAction } | undefined {
  const parts = path.split('/');
  if (parts.length !== 5 || parts[1] !== 'api' || parts[2] !== 'servers') return undefined;
  const [, , , name = '', action = ''] = parts;
  if (name === '' || !SERVER_ACTIONS.has(action)) return undefined;
  return { name, action: action as ServerAction };
}

export function handleApiAction(deps: ActionDeps, request: IncomingRequest, reply: Reply): void {
  const scope = adminScope(deps, request, reply, 'POST');
  if (scope === undefined) return;
  const body = actionBody(request, reply);
  if (body === undefined) return;
  if (request.path === TOOL_CALL_PATH) return callTool(deps, scope, body, reply);
  const target = serverActionOf(request.path);
  if (target !== undefined) return controlServer(deps, target.name, target.action, reply);
}

function controlServer(
  deps: ActionDeps,
  encoded: string,
  action: ServerAction,
  reply: Reply,
): void {
  let name: string;
  try {
    name = decodeURIComponent(encoded);
  } catch {
    return sendJson(reply, 400, {
      error: `The server name '${encoded}' is not valid URL encoding`,
    });
  }
  const configured = new Set(deps.config().servers.map((server) => server.id));
  if (!configured.has(name) || !deps.shards.controlServer(name, action)) {
    const known = [...configured].map((id) => `'${id}'`).join(', ') || 'none';
    return sendJson(reply, 404, {
      error: `No server named '${name}' in the running config; servers: ${known}`,
    });
  }
  // Accepted, not done: the state changes arrive on /api/servers and /api/events.
  sendJson(reply, 202, { server: name, action, state: deps.states.get(name)?.state });
}

let nextCall = 1;

/**
 * Calls a tool of a profile through the relay, as a stateless-era client of that profile
 * would (docs/architecture.md#bridging-the-eras): the profile's view finds the tool, the call
 * is forwarded, recorded and counted like any other, and a backend that needs input from the
 * client gets `input_required` back (the caller declares no capabilities).
 */
function callTool(deps: ActionDeps, scope: ApiScope, body: JsonObject, reply: Reply): void {
  const tool = ownMember(body, 'tool');
  const args = ownMember(body, 'arguments');
  const profile = ownMember(body, 'profile') ?? scope.profile;
  if (typeof tool !== 'string' || tool === '') {
    return sendJson(reply, 400, { error: "'tool' must be the tool's name (a non-empty string)" });
  }
  if (typeof profile !== 'string' || deps.views.get(profile) === undefined) {
    const known = [...deps.views.values()].map((view) => `'${view.name}'`).join(', ');
    return sendJson(reply, 404, {
      error: `Unknown profile ${JSON.stringify(profile)}; profiles: ${known}`,
    });
  }
  if (args !== undefined && !isJsonObject(args)) {
    return sendJson(reply, 400, { error: "'arguments' must be a JSON object" });
  }
  const caller: Caller = {
    era: 'modern',
    id: `dashboard:${nextCall++}`,
    profile,
    // The admin's own: a per-identity server answers as their token's sign-in.
    identity: scope.identity,
    project: null,
    clientName: DASHBOARD_CLIENT,
    clientCapabilities: {},
    logLevel: undefined,
    calls: new Map(),
    forwarded: 0,
  };
  reply.onAbort(() => deps.dispatcher.abandoned(caller));
  const params: JsonObject = { name: tool, arguments: args ?? {} };
  deps.dispatcher.request(caller, 1, 'tools/call', params, {
    respond: (message) => reply.json(200, message, { 'Cache-Control': 'no-store' }),
    notify: () => {}, // progress and logs: the form shows the result only
  });
}
