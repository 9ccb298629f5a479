/**
 * Which shard owns which backend: rendezvous (highest-random-weight) hashing. Pure: the
 * same server id always lands on the same shard for a given shard count, and going from N
 * to N+1 shards moves only the ~1/(N+1) of the servers that the new shard wins.
 */
import { createHash } from 'node:crypto';

function weight(serverId: string, shard: number): bigint {
  return createHash('sha256').update(`${serverId}\u0000${shard}`).digest().readBigUInt64BE(0);
}

export function shardFor(serverId: string, shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1) {
    throw new RangeError(`shardCount must be a positive integer, got ${shardCount}`);
  }
  let best = 0;
  let bestWeight = -1n;
  for (let shard = 0; shard < shardCount; shard++) {
    const w = weight(serverId, shard);
    if (w > bestWeight) {
      best = shard;
      bestWeight = w;
    }
  }
  return best;
}

/** The routing table for a set of servers: server id → shard index. */
export function assignShards(
  serverIds: readonly string[],
  shardCount: number,
): Map<string, number> {
  return new Map(serverIds.map((id) => [id, shardFor(id, shardCount)]));
}
