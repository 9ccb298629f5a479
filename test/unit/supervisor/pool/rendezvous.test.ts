import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignShards, shardFor } from '../../../../src/supervisor/pool/rendezvous.js';

const ids = Array.from({ length: 400 }, (_, i) => `server-${i}`);

test('the same id always lands on the same shard', () => {
  for (const id of ids.slice(0, 20)) assert.equal(shardFor(id, 4), shardFor(id, 4));
});

test('servers spread over all shards', () => {
  const counts = [0, 0, 0, 0];
  for (const shard of assignShards(ids, 4).values()) counts[shard] = (counts[shard] ?? 0) + 1;
  for (const count of counts)
    assert.ok(count > 60 && count < 140, `balanced enough: ${counts.join(',')}`);
});

test('adding a shard moves only the servers the new shard wins (~1/N)', () => {
  const before = assignShards(ids, 4);
  const after = assignShards(ids, 5);
  let moved = 0;
  for (const id of ids) {
    if (before.get(id) === after.get(id)) continue;
    moved++;
    assert.equal(after.get(id), 4, 'a moved server moves to the new shard');
  }
  assert.ok(moved > 40 && moved < 130, `moved ${moved} of 400, expected ~80`);
});

test('a bad shard count is refused', () => {
  assert.throws(() => shardFor('x', 0), /positive integer/);
});
