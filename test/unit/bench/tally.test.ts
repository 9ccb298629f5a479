/**
 * The bench's merged per-second tally (src/bench/tally.ts): what its progress line shows
 * while driver threads report their seconds one after another.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunTally, type Tick } from '../../../src/bench/tally.js';

const tick = (second: number, ok: number): Tick => ({
  second,
  ok,
  errors: 0,
  errorKinds: {},
  histogram: '',
});

describe('RunTally.latestComplete', () => {
  it('shows a second only once a later one began, with every driver’s calls in it', () => {
    const tally = new RunTally();
    tally.add(tick(3, 100)); // driver A finished second 3
    assert.equal(tally.latestComplete, undefined, 'second 3 may still have calls on the way');
    tally.add(tick(3, 120)); // driver B
    tally.add(tick(4, 90)); // driver A is in second 5 now
    assert.deepEqual(tally.latestComplete, { second: 3, ok: 220, errors: 0 });
    tally.add(tick(4, 95)); // driver B: a late tick of an older second changes nothing shown
    assert.deepEqual(tally.latestComplete, { second: 3, ok: 220, errors: 0 });
    tally.add(tick(5, 10));
    assert.deepEqual(tally.latestComplete, { second: 4, ok: 185, errors: 0 });
  });
});
