/**
 * StdioChannel against real child processes: newline framing across arbitrary chunk
 * boundaries (including inside a UTF-8 sequence), writes far beyond the pipe buffer, and
 * process-group cleanup of grandchildren a server leaves behind.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { StdioChannel, type ChildExit } from '../../../../src/workers/channels/stdio.js';
import { processExists, tempDir } from '../../../helpers/shard-harness.js';

const scripts = tempDir('stdio-channel-');

/** Writes a child script and returns its path. */
function script(name: string, source: string): string {
  const path = join(scripts, name);
  writeFileSync(path, source);
  return path;
}

class Collector {
  readonly messages: unknown[] = [];
  exit: ChildExit | null = null;
  #onExit: () => void = () => {};
  readonly exited = new Promise<void>((resolve) => (this.#onExit = resolve));
  onChannelMessage(message: unknown): void {
    this.messages.push(message);
  }
  onChannelExit(exit: ChildExit): void {
    assert.equal(this.exit, null, 'exit is reported once');
    this.exit = exit;
    this.#onExit();
  }
  async waitForCount(count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      if (Date.now() > deadline)
        throw new Error(`got ${this.messages.length} of ${count} messages`);
      await delay(10);
    }
  }
}

function channel(
  path: string,
  collector: Collector,
  args: string[] = [],
  limits: { maxMessageBytes?: number; maxStderrBytes?: number } = {},
): StdioChannel {
  return new StdioChannel(
    {
      id: 'test',
      command: process.execPath,
      args: [path, ...args],
      env: {},
      cwd: scripts,
      stopGraceMs: 500,
      ...limits,
    },
    collector,
  );
}

describe('StdioChannel', () => {
  after(() => rmSync(scripts, { recursive: true, force: true }));

  it('frames lines split anywhere, several per chunk, CRLF, noise and large ones', async () => {
    const big = 'x'.repeat(1_000_000);
    const path = script(
      'writer.mjs',
      `
      const pause = () => new Promise((r) => setTimeout(r, 15));
      const out = (b) => new Promise((r) => process.stdout.write(b, r));
      await out('{"n":1}\\n{"n":2}\\n');
      const split = Buffer.from('{"t":"é🚀✓"}\\n');
      for (const byte of split) { await out(Buffer.from([byte])); await pause(); }
      await out('a banner that is not JSON\\n\\n');
      await out('{"n":3}\\r\\n{"n":');
      await pause();
      await out('4}\\n');
      await out(JSON.stringify({ big: ${JSON.stringify(big.slice(0, 10))}.repeat(100000) }) + '\\n');
      process.stdin.resume();
      process.stdin.on('end', () => process.exit(0));
      `,
    );
    const collector = new Collector();
    const ch = channel(path, collector);
    ch.start();
    await collector.waitForCount(6);
    assert.deepEqual(collector.messages.slice(0, 5), [
      { n: 1 },
      { n: 2 },
      { t: 'é🚀✓' },
      { n: 3 },
      { n: 4 },
    ]);
    assert.equal((collector.messages[5] as { big: string }).big, big);
    await ch.stop();
    assert.deepEqual(collector.exit, { code: 0, signal: null });
  });

  it('writes in order far beyond the pipe buffer (drain) and reads it all back', async () => {
    const path = script('cat.mjs', `process.stdin.pipe(process.stdout);`);
    const collector = new Collector();
    const ch = channel(path, collector);
    ch.start();
    const payload = 'y'.repeat(10_000);
    const count = 3000; // ~30 MB through a 64 KB pipe, in both directions
    for (let i = 0; i < count; i++) ch.send(JSON.stringify({ i, payload }));
    await collector.waitForCount(count, 30_000);
    assert.deepEqual(
      collector.messages.map((m) => (m as { i: number }).i),
      Array.from({ length: count }, (_, i) => i),
    );
    await ch.stop();
  });

  it('kills what the child left in its process group when the child exits', async () => {
    const path = script(
      'leaver.mjs',
      `
      import { spawn } from 'node:child_process';
      const grandchild = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
      process.stdout.write(JSON.stringify({ grandchild: grandchild.pid }) + '\\n');
      grandchild.unref();
      process.stdin.resume();
      process.stdin.on('end', () => process.exit(0));
      `,
    );
    const collector = new Collector();
    const ch = channel(path, collector);
    ch.start();
    await collector.waitForCount(1);
    const { grandchild } = collector.messages[0] as { grandchild: number };
    assert.equal(processExists(grandchild), true);
    await ch.stop();
    await delay(50);
    assert.equal(processExists(grandchild), false, 'the grandchild died with the group');
  });

  it('reports a spawn failure once, with the error', async () => {
    const collector = new Collector();
    const ch = new StdioChannel(
      { id: 'test', command: 'no-such-command-for-sure', args: [], env: {}, cwd: scripts },
      collector,
    );
    ch.start();
    ch.send('{"dropped":true}');
    await collector.exited;
    assert.equal(collector.exit?.spawnError?.code, 'ENOENT');
    await ch.stop(); // a no-op once the exit was reported
  });

  it('keeps the last stderr lines', async () => {
    const path = script(
      'stderr.mjs',
      `for (let i = 1; i <= 30; i++) process.stderr.write('line ' + i + '\\n'); process.stderr.write('no newline at the end', () => process.exit(5));`,
    );
    const collector = new Collector();
    const ch = channel(path, collector);
    ch.start();
    await collector.exited;
    assert.deepEqual(collector.exit, { code: 5, signal: null });
    assert.equal(ch.stderrTail.length, 20);
    assert.equal(ch.stderrTail[0], 'line 12');
    assert.equal(ch.stderrTail.at(-1), 'no newline at the end');
  });

  it('delivers a line of exactly maxMessageBytes and kills the child at the first byte more', async () => {
    // {"s":"xxx…"} of exactly 4096 bytes, then a line that never ends, 1 KiB at a time.
    const path = script(
      'flood.mjs',
      `
      const exact = JSON.stringify({ s: 'x'.repeat(4096 - 8) });
      if (Buffer.byteLength(exact) !== 4096) throw new Error('bad fixture');
      process.stdout.write(exact + '\\n');
      const chunk = 'y'.repeat(1024);
      const more = () => process.stdout.write(chunk, () => setImmediate(more));
      more();
      process.stdin.resume();
      `,
    );
    const collector = new Collector();
    const ch = channel(path, collector, [], { maxMessageBytes: 4096 });
    ch.start();
    await collector.exited;
    assert.equal(collector.messages.length, 1, 'the line at the cap was delivered');
    assert.equal(collector.exit?.signal, 'SIGKILL');
    assert.equal(
      collector.exit?.limitExceeded,
      "server 'test' sent a message over 4096 bytes (limits.maxBackendMessageBytes)",
    );
  });

  it('kills the child for a line over the cap even when it arrives in one chunk', async () => {
    const path = script(
      'long-line.mjs',
      `process.stdout.write('{"n":1}\\n' + JSON.stringify({ s: 'z'.repeat(3000) }) + '\\n{"n":2}\\n'); process.stdin.resume();`,
    );
    const collector = new Collector();
    const ch = channel(path, collector, [], { maxMessageBytes: 2048 });
    ch.start();
    await collector.exited;
    assert.deepEqual(collector.messages, [{ n: 1 }], 'nothing from the oversized line on');
    assert.match(collector.exit?.limitExceeded ?? '', /over 2048 bytes/);
  });

  it('keeps at most maxStderrBytes of stderr, the tail, and none with 0', async () => {
    const path = script(
      'stderr-flood.mjs',
      `
      for (let i = 1; i <= 100; i++) process.stderr.write('line ' + i + ' ' + 'é'.repeat(40) + '\\n');
      process.stderr.write('tail '.repeat(200_000), () => process.exit(7));
      `,
    );
    for (const maxStderrBytes of [1000, 0]) {
      const collector = new Collector();
      const ch = channel(path, collector, [], { maxStderrBytes });
      ch.start();
      await collector.exited;
      assert.deepEqual(collector.exit, { code: 7, signal: null });
      if (maxStderrBytes === 0) {
        assert.deepEqual(ch.stderrTail, []);
        continue;
      }
      // The unfinished last line alone fills the budget: only its end is kept.
      assert.equal(ch.stderrTail.length, 1);
      assert.match(ch.stderrTail[0] ?? '', /^[a-z ]{500}…$/, 'a piece of the endless line');
    }
  });
});
