/**
 * The checks every admin-only route of `/api` makes first, in the order `/api` makes them
 * (`api.ts`): the Host/Origin check (DNS rebinding, `ingress/origin.ts`), then the token
 * (`Access.apiScope`), then the admin scope. The dashboard's views and the actions use it.
 */
import type { DirectorConfig } from '../../shared/config/types.js';
import { isJsonObject, type JsonObject } from '../../shared/json.js';
import { type Access, type ApiScope } from '../ingress/access.js';
import { checkHostAndOrigin } from '../ingress/origin.js';
import type { IncomingRequest } from '../ingress/http-message.js';
import type { Reply } from '../ingress/uws.js';
import { sendJson } from './json-reply.js';

export interface GuardDeps {
  /** The running config (it changes on reload). */
  config: () => DirectorConfig;
  access: Access;
}

/**
 * The admin scope of this request, or undefined after answering why it has none: 403 for
 * another origin or a profile's token (a request without a token, where tokens exist, gets
 * the default profile's scope, so 403 too), 401 for a token nobody knows or a required one
 * missing, 405 for a method the route does not take.
 */
export function adminScope(
  deps: GuardDeps,
  request: IncomingRequest,
  reply: Reply,
  method: 'GET' | 'POST',
): ApiScope | undefined {
  const config = deps.config();
  const refused = checkHostAndOrigin(request.headers, config.listen.host, config.allowedOrigins);
  if (refused !== undefined) return void sendJson(reply, 403, { error: refused });
  if (request.method !== method) {
    return void sendJson(
      reply,
      405,
      { error: `${request.method} is not allowed here: ${request.path} takes ${method}` },
      { Allow: method },
    );
  }
  const access = deps.access.apiScope(request.headers);
  if (!access.ok) {
    return void sendJson(reply, access.status, { error: access.message }, access.headers);
  }
  if (!access.scope.admin) {
    return void sendJson(reply, 403, {
      error: `Forbidden: ${request.path} needs an admin token ("admin": true in the config); this request has profile '${access.scope.profile}'`,
    });
  }
  return access.scope;
}

/**
 * The JSON object an action carries (an empty body is `{}`), or undefined after answering
 * 415 (not `Content-Type: application/json`, which a page of another origin cannot send
 * without a CORS preflight this daemon never grants) or 400 (not a JSON object).
 */
export function actionBody(request: IncomingRequest, reply: Reply): JsonObject | undefined {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json') {
    return void sendJson(reply, 415, {
      error: `Unsupported Media Type: send the action with Content-Type: application/json (got '${contentType ?? ''}')`,
    });
  }
  const body = parseBody(request.body);
  if (body === undefined) {
    return void sendJson(reply, 400, { error: 'The body must be a JSON object (or empty)' });
  }
  return body;
}

function parseBody(body: Buffer): JsonObject | undefined {
  if (body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export { sendJson };
