/**
 * `nestsDeeperThan` at its edges: the limit itself passes and one level more is refused,
 * however short the rest of the text; brackets inside strings do not count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nestsDeeperThan } from '../../../src/shared/json-text.js';

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

test('the limit passes, one level more is refused, at the shortest texts that nest so', () => {
  for (const limit of [8, 256, 1000]) {
    assert.equal(nestsDeeperThan(nested(limit), limit), false, `${limit} levels, limit ${limit}`);
    assert.equal(nestsDeeperThan(nested(limit + 1), limit), true, `${limit + 1} levels`);
    const objects = '{"a":'.repeat(limit + 1) + '1' + '}'.repeat(limit + 1);
    assert.equal(nestsDeeperThan(objects, limit), true, `${limit + 1} objects`);
  }
});

test('brackets inside strings, escaped quotes included, do not count', () => {
  const text = JSON.stringify({ text: `\\"${'['.repeat(600)}`, list: [[1]] });
  assert.equal(nestsDeeperThan(text, 8), false);
  assert.equal(nestsDeeperThan(JSON.stringify({ a: [[[[[[[[[1]]]]]]]]] }), 8), true);
});

test('a long text nested within the limit passes', () => {
  const wide = JSON.stringify({ items: Array.from({ length: 500 }, (_, i) => ({ i, tags: [i] })) });
  assert.equal(nestsDeeperThan(wide, 8), false);
});
