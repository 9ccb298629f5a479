/**
 * The sign-in routes (README: Signing in to remote servers), for `mcp-director auth` and the
 * dashboard:
 *
 *   POST /api/servers/<name>/sign-in   → 200 {server, authorizationUrl, expiresAt}   (admin)
 *   POST /api/servers/<name>/sign-out  → 200 {server, signedOut}                     (admin)
 *   GET  /api/sign-ins                 → 200 {signIns: [{server, identity?, signedIn, …}]} (admin)
 *
 * Both POSTs take an optional body `{"identity": "<name>"}`: the sign-in of one identity
 * to a `share: "identity"` server (README: Credentials per user).
 *   GET  /oauth/callback?code&state    → an HTML page saying how it went
 *
 * The callback needs no token: a browser coming back from the authorization server has
 * none. Its `state` is what proves it belongs to a sign-in an admin started (sign-ins.ts).
 */
import { checkHostAndOrigin } from '../ingress/origin.js';
import type { IncomingRequest } from '../ingress/http-message.js';
import type { Reply } from '../ingress/uws.js';
import { actionBody, adminScope, sendJson, type GuardDeps } from './admin-guard.js';
import { SignInError, type SignIns } from './sign-ins.js';
import { logger } from '../../shared/log.js';
import { ownMember } from '../../shared/json.js';

const log = logger('sign-in');

export const CALLBACK_PATH = '/oauth/callback';
const STATUS_PATH = '/api/sign-ins';
const SERVER_ROUTE = /^\/api\/servers\/([^/]+)\/(sign-in|sign-out)$/;

export interface SignInApiDeps extends GuardDeps {
  signIns: SignIns;
}

export function isSignInRoute(path: string): boolean {
  return path === CALLBACK_PATH || path === STATUS_PATH || SERVER_ROUTE.test(path);
}

export function handleSignInRoute(
  deps: SignInApiDeps,
  request: IncomingRequest,
  reply: Reply,
): void {
  if (request.path === CALLBACK_PATH) return callback(deps, request, reply);
  if (request.path === STATUS_PATH) {
    if (adminScope(deps, request, reply, 'GET') === undefined) return;
    return sendJson(reply, 200, { signIns: deps.signIns.status() });
  }
  const [, encoded = '', action] = SERVER_ROUTE.exec(request.path) ?? [];
  if (adminScope(deps, request, reply, 'POST') === undefined) return;
  const body = actionBody(request, reply);
  if (body === undefined) return;
  const identity = ownMember(body, 'identity');
  if (identity !== undefined && typeof identity !== 'string') {
    return sendJson(reply, 400, { error: "'identity' must be a string (a token's name)" });
  }
  let server: string;
  try {
    server = decodeURIComponent(encoded);
  } catch {
    return sendJson(reply, 400, {
      error: `The server name '${encoded}' is not valid URL encoding`,
    });
  }
  if (action === 'sign-out') {
    return answer(reply, () => ({ server, signedOut: deps.signIns.signOut(server, identity) }));
  }
  void deps.signIns.begin(server, identity).then(
    (started) => sendJson(reply, 200, { server, ...started }),
    (error: unknown) => failed(reply, error),
  );
}

function answer(reply: Reply, run: () => object): void {
  try {
    sendJson(reply, 200, run());
  } catch (error) {
    failed(reply, error);
  }
}

function failed(reply: Reply, error: unknown): void {
  if (error instanceof SignInError) return sendJson(reply, error.status, { error: error.message });
  log.error(
    `a sign-in request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  sendJson(reply, 500, { error: 'The sign-in failed inside the daemon; the cause is in its log' });
}

/** The browser is back from the authorization server. */
function callback(deps: SignInApiDeps, request: IncomingRequest, reply: Reply): void {
  const config = deps.config();
  const refused = checkHostAndOrigin(request.headers, config.listen.host, config.allowedOrigins);
  if (refused !== undefined) return page(reply, 403, 'Refused', refused);
  if (request.method !== 'GET') return page(reply, 405, 'Not allowed', 'The callback takes GET.');
  void deps.signIns.complete(new URLSearchParams(request.query)).then(
    (server) =>
      page(
        reply,
        200,
        `Signed in to ${server}`,
        `MCP Director is signed in to '${server}' and is restarting it with the new sign-in. You can close this tab.`,
      ),
    (error: unknown) => {
      const known = error instanceof SignInError;
      if (!known) log.error(`the sign-in callback failed: ${String(error)}`);
      page(
        reply,
        known ? error.status : 500,
        'Sign-in failed',
        known ? error.message : 'The sign-in failed inside the daemon; the cause is in its log.',
      );
    },
  );
}

function page(reply: Reply, status: number, title: string, text: string): void {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)} · MCP Director</title></head><body style="font-family: system-ui, sans-serif; margin: 3rem auto; max-width: 40rem"><h1>${escape(title)}</h1><p>${escape(text)}</p></body></html>`;
  reply.send(
    status,
    {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
      'Referrer-Policy': 'no-referrer',
    },
    html,
  );
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
