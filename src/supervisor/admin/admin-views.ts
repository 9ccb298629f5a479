/**
 * Read-only views the dashboard needs beyond the CLI's `/api` (README "Dashboard"), admin only:
 *
 *   GET /api/config                 the running config, secrets masked, and how the last
 *                                   reload went (the rejected edit and its problems)
 *   GET /api/profiles/<name>/tools  a profile's tools with their input schemas, and what its
 *                                   tool list costs a model per request, next to meta mode
 *
 * Masked: env values, header values, token values and URL passwords are replaced, their names
 * kept; what the running daemon does is visible, what would let someone act as it is not.
 */
import type { DirectorConfig, ServerConfig } from '../../shared/config/types.js';
import { ownMember, type JsonObject } from '../../shared/json.js';
import { META_TOOLS } from '../catalog/meta-tools.js';
import type { ProfileViews } from '../catalog/profile-views.js';
import type { IncomingRequest } from '../ingress/http-message.js';
import type { Reply } from '../ingress/uws.js';
import { adminScope, sendJson, type GuardDeps } from './admin-guard.js';
import type { ConfigStatus } from './api.js';

export interface AdminViewDeps extends GuardDeps {
  configStatus: () => ConfigStatus;
  views: ProfileViews;
}

const CONFIG_PATH = '/api/config';
/** What replaces a secret: its presence and name stay visible, its value does not. */
export const MASK = '••••••';
/**
 * The estimate the dashboard shows: a model's tokenizer makes about one token of four
 * characters of English and JSON (OpenAI's rule of thumb,
 * https://help.openai.com/en/articles/4936856-what-are-tokens-and-how-to-count-them).
 */
const CHARS_PER_TOKEN = 4;

export function isAdminView(path: string): boolean {
  return path === CONFIG_PATH || profileToolsOf(path) !== undefined;
}

/** `/api/profiles/<name>/tools` → the name, still percent-encoded. */
function profileToolsOf(path: string): string | undefined {
  const parts = path.split('/');
  if (parts.length !== 5 || parts[1] !== 'api' || parts[2] !== 'profiles') return undefined;
  return parts[4] === 'tools' && parts[3] !== '' ? parts[3] : undefined;
}

export function handleAdminView(deps: AdminViewDeps, request: IncomingRequest, reply: Reply): void {
  if (adminScope(deps, request, reply, 'GET') === undefined) return;
  if (request.path === CONFIG_PATH) {
    return sendJson(reply, 200, {
      config: maskedConfig(deps.config()),
      status: deps.configStatus(),
    });
  }
  const encoded = profileToolsOf(request.path) ?? '';
  let name: string;
  try {
    name = decodeURIComponent(encoded);
  } catch {
    return sendJson(reply, 400, {
      error: `The profile name '${encoded}' is not valid URL encoding`,
    });
  }
  const view = deps.views.get(name);
  if (view === undefined) {
    const known = [...deps.views.values()].map((v) => `'${v.name}'`).join(', ');
    return sendJson(reply, 404, { error: `Unknown profile '${name}'; profiles: ${known}` });
  }
  const tools = view.tools();
  const full = JSON.stringify({ tools: tools.map(({ tool }) => tool) });
  const meta = JSON.stringify({ tools: META_TOOLS });
  sendJson(reply, 200, {
    profile: view.name,
    toolSurface: view.config.toolSurface,
    cost: {
      method: `characters of the tools/list result's JSON / ${CHARS_PER_TOKEN}`,
      full: { characters: full.length, tokens: Math.ceil(full.length / CHARS_PER_TOKEN) },
      meta: { characters: meta.length, tokens: Math.ceil(meta.length / CHARS_PER_TOKEN) },
    },
    tools: tools.map(({ server, tool }) => ({
      server,
      name: ownMember(tool, 'name'),
      title: ownMember(tool, 'title'),
      description: ownMember(tool, 'description'),
      inputSchema: ownMember(tool, 'inputSchema'),
    })),
  });
}

/** The config as it runs, with every secret replaced by `MASK`. */
export function maskedConfig(config: DirectorConfig): JsonObject {
  return JSON.parse(
    JSON.stringify({
      ...config,
      servers: config.servers.map(maskServer),
      tokens: config.tokens.map(({ token: _token, secrets, ...rest }) => ({
        ...rest,
        token: MASK,
        secrets: maskValues(secrets),
      })),
      telemetry: {
        otlp:
          config.telemetry.otlp === null
            ? null
            : {
                ...config.telemetry.otlp,
                endpoint: maskUrl(config.telemetry.otlp.endpoint),
                headers: maskValues(config.telemetry.otlp.headers),
              },
      },
    }),
  ) as JsonObject;
}

function maskServer(server: ServerConfig): object {
  const { tokenValues, ...rest } = server;
  const masked =
    rest.transport === 'stdio'
      ? { ...rest, env: maskValues(rest.env) }
      : { ...rest, url: maskUrl(rest.url), headers: maskValues(rest.headers) };
  if (tokenValues === undefined) return masked;
  const perToken = Object.entries(tokenValues).map(([token, values]) => [
    token,
    maskValues(values),
  ]);
  return { ...masked, tokenValues: Object.fromEntries(perToken) };
}

function maskValues(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(values).map((key) => [key, MASK]));
}

/** A URL's password and query values can be credentials (`?api_key=`): masked, names kept. */
function maskUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password !== '') url.password = MASK;
    for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, MASK);
    return url.toString();
  } catch {
    return MASK;
  }
}
