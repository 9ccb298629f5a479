/**
 * The servers whose callers have instances of their own, by id: per client session or per
 * caller identity (`share`, README: Credentials per user). What the relay needs to know of
 * sharing: a subscription goes to the caller's instance uncounted, and a caller without an
 * identity is refused by a per-identity server.
 */
import type { ServerConfig } from '../../shared/config/types.js';

export type OwnInstances = Map<string, 'session' | 'identity'>;
export type ReadonlyOwnInstances = ReadonlyMap<string, 'session' | 'identity'>;

/** The `OwnInstances` of a config's servers, written `into` a map kept by its readers. */
export function ownInstancesOf(
  servers: readonly ServerConfig[],
  into: OwnInstances = new Map(),
): OwnInstances {
  into.clear();
  for (const server of servers) if (server.share !== 'global') into.set(server.id, server.share);
  return into;
}
