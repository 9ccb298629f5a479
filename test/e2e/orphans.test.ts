/**
 * No orphans, ever (README "Limits and safety"): a daemon killed with SIGKILL cannot stop
 * its backends, and a backend that ignores stdin EOF and SIGTERM, with a grandchild in its
 * process group, outlives it. The next daemon on the same data folder kills that group
 * before it starts anything, and says so.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { alive, eventually, fixture, startDaemon, type Daemon } from '../helpers/daemon.js';

const scratch = mkdtempSync(join(tmpdir(), 'mcpd-orphans-'));
const pidsFile = join(scratch, 'pids.json');
const daemons: Daemon[] = [];
const strays: number[] = [];

/** The pids the stubborn backend wrote (each start overwrites them). */
function readPids(): { pid: number; grandchild: number } | undefined {
  try {
    return JSON.parse(readFileSync(pidsFile, 'utf8')) as { pid: number; grandchild: number };
  } catch {
    return undefined; // not written yet, or caught half-written
  }
}

after(async () => {
  await Promise.allSettled(daemons.map((daemon) => daemon.stop('SIGKILL')));
  // Whatever the outcome, nothing this test started outlives it.
  const last = readPids();
  if (last !== undefined) strays.push(last.pid, last.grandchild);
  for (const pid of strays) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(scratch, { recursive: true, force: true });
});

describe('a daemon killed with SIGKILL', () => {
  test('leaves a stubborn backend and its grandchild; the next daemon kills them', async () => {
    const dataDir = join(scratch, 'data');
    const config = {
      mcpServers: {
        stubborn: fixture('limits-server', [], { env: { STUBBORN: '1', PIDS_FILE: pidsFile } }),
      },
    };
    const first = await startDaemon(config, { dataDir });
    daemons.push(first);
    const { pid, grandchild } = await eventually(readPids, 10_000, 'the backend to write its pids');
    strays.push(pid, grandchild);
    const firstPid = first.process.pid as number;
    const record = join(dataDir, 'processes', `${firstPid}.json`);
    await eventually(
      () => (existsSync(record) && readFileSync(record, 'utf8').includes(`${pid}`)) || undefined,
      5000,
      'the record of the backend group',
    );

    first.process.kill('SIGKILL');
    await first.stop(); // waits for the exit
    await delay(300);
    // What the record is for: without it these two would live on with parent 1.
    assert.equal(alive(pid), true, 'the backend outlived the killed daemon');
    assert.equal(alive(grandchild), true, 'the grandchild outlived it too');

    rmSync(pidsFile, { force: true });
    const second = await startDaemon(config, { dataDir });
    daemons.push(second);
    await eventually(() => (!alive(pid) && !alive(grandchild)) || undefined, 5000, 'both gone');
    assert.match(
      second.stderr(),
      new RegExp(
        `killed process group ${pid} left by a previous daemon \\(pid ${firstPid}\\): \\S*node \\S*limits-server\\.js`,
      ),
    );
    assert.equal(existsSync(record), false, "the dead daemon's record is gone");
    // The new daemon's own backend (a new stubborn one) is recorded, and not killed.
    const fresh = await eventually(readPids, 10_000, 'the new backend');
    strays.push(fresh.pid, fresh.grandchild);
    assert.equal(alive(fresh.pid), true);

    // A clean stop stops the group (SIGKILL after the grace: it ignores SIGTERM) and
    // removes the record.
    const secondPid = second.process.pid as number;
    assert.equal(await second.stop('SIGTERM'), 0);
    assert.equal(alive(fresh.pid), false);
    assert.equal(alive(fresh.grandchild), false);
    assert.deepEqual(
      readdirSync(join(dataDir, 'processes')).filter((name) => name.startsWith(`${secondPid}.`)),
      [],
    );
  });
});
