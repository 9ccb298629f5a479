/**
 * StderrTail: the kept stderr of a backend never passes its byte budget, whatever the child
 * writes (long lines, no newline at all, multi-byte characters), and keeps the newest part.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StderrTail } from '../../../../src/workers/channels/stderr-tail.js';

describe('StderrTail', () => {
  it('keeps the newest whole lines within the budget', () => {
    const tail = new StderrTail(100);
    for (let i = 1; i <= 50; i++) tail.write(`line ${String(i).padStart(2, '0')}\n`);
    assert.ok(tail.bytes <= 100);
    const lines = tail.lines();
    assert.equal(lines.at(-1), 'line 50');
    assert.equal(lines.length, 14, '14 lines of 7 bytes fit in 100');
    assert.equal(lines[0], 'line 37');
  });

  it('keeps the end of a line that never ends, never splitting a character', () => {
    const tail = new StderrTail(1001);
    for (let i = 0; i < 1000; i++) tail.write('ab€'.repeat(100)); // € is 3 bytes
    assert.ok(tail.bytes <= 1001, `${tail.bytes} bytes kept`);
    tail.end();
    const [line] = tail.lines();
    assert.equal(tail.lines().length, 1);
    assert.ok(Buffer.byteLength(tail.lines().join('')) <= 1001);
    assert.ok(!(line ?? '').includes('\uFFFD'), 'no broken character');
  });

  it('shows at most 20 lines of at most 500 characters', () => {
    const tail = new StderrTail(1 << 20);
    for (let i = 0; i < 40; i++) tail.write(`${'x'.repeat(800)}\n`);
    assert.equal(tail.lines().length, 20);
    assert.equal(tail.lines()[0], `${'x'.repeat(500)}…`);
  });

  it('keeps nothing with a budget of 0, but still hands lines out for logging', () => {
    const tail = new StderrTail(0);
    assert.deepEqual(tail.write('one\ntwo\nthree'), ['one', 'two']);
    tail.end();
    assert.equal(tail.bytes, 0);
    assert.deepEqual(tail.lines(), []);
  });
});
