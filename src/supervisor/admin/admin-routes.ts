/**
 * Every path the ingress has no mount for (index.ts mounts `/mcp` and the HTTP+SSE paths):
 * the dashboard's files, the sign-in routes, the API's actions, the admin views, and the API
 * for the rest, each given what it reads of the daemon.
 */
import type { DirectorConfig } from '../../shared/config/types.js';
import { CredentialStore } from '../../shared/credentials/credential-store.js';
import { DIRECTOR_VERSION as VERSION } from '../../shared/version.js';
import type { FleetRedis } from '../fleet/redis.js';
import { localBaseUrl } from '../ingress/protected-resource.js';
import type { RequestHandler } from '../ingress/uws.js';
import type { ClusterNode } from '../session/cluster-node.js';
import type { Dispatcher } from '../relay/dispatch.js';
import { handleApi, type ApiDeps } from './api.js';
import { handleApiAction, isApiAction, type ActionDeps } from './api-actions.js';
import { handleAdminView, isAdminView, type AdminViewDeps } from './admin-views.js';
import { loadDashboard } from './dashboard.js';
import type { ConfigReloader } from './reload.js';
import { CALLBACK_PATH, handleSignInRoute, isSignInRoute } from './sign-in-api.js';
import type { SignInApiDeps } from './sign-in-api.js';
import { SignIns } from './sign-ins.js';

/**
 * What the admin routes read of the daemon, as the composition root (index.ts) built it:
 * what the API reads (its running config and fleet health come from `reloader` and
 * `clusterNode`), and what the actions and sign-ins need besides.
 */
export interface AdminRoutesDeps extends Omit<
  ApiDeps,
  'config' | 'configStatus' | 'cluster' | 'version'
> {
  /** The config the daemon started with (its data folder and listen host). */
  config: DirectorConfig;
  reloader: ConfigReloader;
  clusterNode: ClusterNode;
  fleet: FleetRedis | undefined;
  dispatcher: Dispatcher;
  /** The port the daemon listens on (the sign-in callback names it); known once bound. */
  boundPort: () => number;
}

/** The ingress's fallback: a request for no mount goes to the first admin route that takes it. */
export function adminRoutes(deps: AdminRoutesDeps): RequestHandler {
  const { config, reloader, clusterNode, fleet, views, access, shards, states, boundPort } = deps;
  const apiDeps: ApiDeps = {
    ...deps,
    cluster: () =>
      clusterNode.node === null
        ? null
        : {
            node: clusterNode.node,
            nodes: clusterNode.knownNodes(),
            redis: fleet === undefined ? null : fleet.answering ? 'answering' : 'not answering',
          },
    config: () => reloader.running,
    configStatus: () => reloader.status,
    version: VERSION,
  };
  const actionDeps: ActionDeps = {
    config: () => reloader.running,
    access,
    shards,
    states,
    views,
    dispatcher: deps.dispatcher,
  };
  const viewDeps: AdminViewDeps = {
    config: () => reloader.running,
    configStatus: () => reloader.status,
    access,
    views,
  };
  const signInDeps: SignInApiDeps = {
    config: () => reloader.running,
    access,
    signIns: new SignIns({
      store: CredentialStore.open(config.dataDir),
      servers: () => reloader.running.servers.filter((s) => s.transport === 'http'),
      callbackUrl: () => `${localBaseUrl(config.listen.host, boundPort())}${CALLBACK_PATH}`,
      restart: (server, identity) =>
        void (identity === undefined
          ? shards.controlServer(server, 'restart')
          : shards.identityChanged(server, identity)),
    }),
  };
  const dashboard = loadDashboard();

  return {
    handle: (request, reply) => {
      if (dashboard.serves(request)) dashboard.handle(request, reply);
      else if (isSignInRoute(request.path)) handleSignInRoute(signInDeps, request, reply);
      else if (isApiAction(request.path)) handleApiAction(actionDeps, request, reply);
      else if (isAdminView(request.path)) handleAdminView(viewDeps, request, reply);
      else handleApi(apiDeps, request, reply);
    },
  };
}
