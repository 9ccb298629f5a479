/**
 * The checks every admin-only route of `/api` makes first, in the order `/api` makes them
 * (`api.ts`): the Host/Origin check (DNS rebinding, `ingress/origin.ts`), then the token
 * (`Access.apiScope`), then the admin scope. The dashboard's views and the actions use it.
 */
import type { DirectorConfig } from '../../shared/config/types.js';
import { type Access, type ApiScope } from '../ingress/access.js';
import { checkHostAndOrigin } from '../ingress/origin.js';
import type { IncomingRequest, Reply } from '../ingress/uws.js';
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

export { sendJson };
