/**
 * The servers whose callers have instances of their own, by id: per client session or per
 * caller identity (`share`, README: Credentials per user), or per project (README: Projects).
 * What the relay needs to know of sharing: a subscription goes to the caller's instance
 * uncounted, a caller without an identity is refused by a per-identity server, and a caller
 * without a project needs one for a per-project server (project-lookup.ts).
 */
import type { ServerConfig } from '../../shared/config/types.js';

export type Sharing = 'session' | 'identity' | 'project';
export type OwnInstances = Map<string, Sharing>;
export type ReadonlyOwnInstances = ReadonlyMap<string, Sharing>;

/** The `OwnInstances` of a config's servers, written `into` a map kept by its readers. */
export function ownInstancesOf(
  servers: readonly ServerConfig[],
  into: OwnInstances = new Map(),
): OwnInstances {
  into.clear();
  for (const server of servers) if (server.share !== 'global') into.set(server.id, server.share);
  return into;
}
