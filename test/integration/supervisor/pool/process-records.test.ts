/**
 * ProcessRecords against real processes (Linux procfs): the way out of a crash kills the
 * recorded groups, and the start-up sweep kills only what it can prove is a dead daemon's
 * (a leader with the recorded start time, or members of a group whose leader is gone),
 * never a process that merely got a recorded pid, nor a live daemon's backends.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { reapPreviousDaemons } from '../../../../src/supervisor/pool/process-records.js';
import { processExists, tempDir } from '../../../helpers/shard-harness.js';

const MODULE = new URL('../../../../src/supervisor/pool/process-records.js', import.meta.url).href;
const scratch = tempDir('process-records-');
const started: number[] = [];

after(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(scratch, { recursive: true, force: true });
});

/** Collects log lines instead of printing them. */
function lines(): { logged: string[]; log: Parameters<typeof reapPreviousDaemons>[1] } {
  const logged: string[] = [];
  const keep = (line: string): void => void logged.push(line);
  return { logged, log: { debug: keep, info: keep, warn: keep, error: keep } };
}

/** Runs a module script; resolves with its stdout lines as they come and its exit. */
function run(source: string): { lines: string[]; exited: Promise<number | null>; pid: number } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const out: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (text: string) => out.push(...text.split('\n')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  started.push(child.pid as number);
  return { lines: out, exited, pid: child.pid as number };
}

/** A detached sleeper (its own group) with a child of its own in that group. */
const SPAWN_GROUP = `
  import { spawn } from 'node:child_process';
  const leader = spawn(process.execPath, ['-e', \`
    const { spawn } = require('node:child_process');
    const member = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    member.unref();
    console.log(member.pid);
    setTimeout(() => {}, Number(process.env.LEADER_MS));
  \`], { detached: true, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env } });
  const member = await new Promise((resolve) => leader.stdout.once('data', (d) => resolve(Number(d))));
  leader.unref();
`;

async function waitForLine(out: string[], prefix: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const line = out.find((l) => l.startsWith(prefix));
    if (line !== undefined) return line.slice(prefix.length);
    if (Date.now() > deadline) throw new Error(`no '${prefix}' line`);
    await delay(10);
  }
}

describe('ProcessRecords', () => {
  it('kills the recorded groups when the daemon dies of an uncaught exception', async () => {
    const dataDir = join(scratch, 'crash');
    const script = run(`
      import { ProcessRecords, armCrashCleanup } from '${MODULE}';
      process.env.LEADER_MS = '60000';
      ${SPAWN_GROUP}
      const records = new ProcessRecords(${JSON.stringify(dataDir)});
      armCrashCleanup(records);
      records.set('stubborn', { server: 'stubborn', pid: leader.pid });
      await new Promise((resolve) => setImmediate(resolve)); // the write of this turn
      console.log('group ' + leader.pid + ' ' + member);
      console.log('file ' + records.file);
      setTimeout(() => { throw new Error('a bug in the daemon'); }, 100);
    `);
    const [leader, member] = (await waitForLine(script.lines, 'group ')).split(' ').map(Number);
    const file = await waitForLine(script.lines, 'file ');
    started.push(leader as number, member as number);
    assert.equal(processExists(leader as number), true);
    assert.ok(readFileSync(file, 'utf8').includes(`"pgid":${leader}`));
    assert.equal(await script.exited, 1, 'the uncaught exception still ends the process');
    await delay(100);
    assert.equal(processExists(leader as number), false, 'the leader was killed');
    assert.equal(processExists(member as number), false, 'its group member too');
    assert.equal(existsSync(file), false, 'nothing left to reap: the record is gone');
  });

  it("kills what is left of a dead daemon's group whose leader is gone", async () => {
    const dataDir = join(scratch, 'leaderless');
    // The leader exits by itself after 300 ms; its member stays, carrying the group id.
    const script = run(`
      import { ProcessRecords } from '${MODULE}';
      process.env.LEADER_MS = '300';
      ${SPAWN_GROUP}
      const records = new ProcessRecords(${JSON.stringify(dataDir)});
      records.set('launcher', { server: 'launcher', pid: leader.pid });
      await new Promise((resolve) => setImmediate(resolve)); // the write of this turn
      console.log('group ' + leader.pid + ' ' + member);
      setTimeout(() => {}, 60000);
    `);
    const [leader, member] = (await waitForLine(script.lines, 'group ')).split(' ').map(Number);
    started.push(leader as number, member as number);
    process.kill(script.pid, 'SIGKILL'); // the daemon dies without a word
    await script.exited;
    const deadline = Date.now() + 5000;
    while (processExists(leader as number) && Date.now() < deadline) await delay(20);
    assert.equal(processExists(leader as number), false, 'the leader exited');
    assert.equal(processExists(member as number), true, 'its member lives on');

    const { logged, log } = lines();
    assert.equal(reapPreviousDaemons(dataDir, log), 1);
    await delay(100);
    assert.equal(processExists(member as number), false);
    assert.match(
      logged.join('\n'),
      new RegExp(
        `killed process group ${leader} left by a previous daemon \\(pid ${script.pid}\\)`,
      ),
    );
    assert.equal(existsSync(join(dataDir, 'processes', `${script.pid}.json`)), false);
  });

  it('leaves a pid that is no longer the recorded process, and a live daemon, alone', async () => {
    const dataDir = join(scratch, 'reused');
    const folder = join(dataDir, 'processes');
    mkdirSync(folder, { recursive: true });
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {
      detached: true,
      stdio: 'ignore',
    });
    const pid = sleeper.pid as number;
    started.push(pid);
    const startTime = Number(
      readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19],
    );
    assert.ok(Number.isFinite(startTime));
    // A dead daemon (pid 2^22 + 1 is above Linux's pid_max default) recorded this pid with
    // another start time: the kernel has given the pid to someone else since.
    const dead = join(folder, `${2 ** 22 + 1}.json`);
    writeFileSync(
      dead,
      JSON.stringify({
        daemon: { pid: 2 ** 22 + 1, startTime: 1 },
        groups: [{ pgid: pid, server: 'x', startTime: startTime - 1, cmdline: 'node x' }],
      }),
    );
    // A live daemon (the sleeper itself, with its true start time) recorded it correctly.
    const live = join(folder, `${pid}.json`);
    writeFileSync(
      live,
      JSON.stringify({
        daemon: { pid, startTime },
        groups: [{ pgid: pid, server: 'x', startTime, cmdline: 'node x' }],
      }),
    );
    const { logged, log } = lines();
    assert.equal(reapPreviousDaemons(dataDir, log), 0);
    assert.deepEqual(logged, []);
    assert.equal(processExists(pid), true);
    assert.equal(existsSync(dead), false, "the dead daemon's record is removed");
    assert.equal(existsSync(live), true, "the live daemon's record is its own business");
  });
});
