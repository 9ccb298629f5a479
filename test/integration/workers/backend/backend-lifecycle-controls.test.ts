/**
 * An admin's `control-server` (restart, stop, start) in a real shard thread with real fixture
 * processes (src/workers/backend/backend-lifecycle.ts: `restartNow`, `hold`, `resume`):
 * a restart replaces a ready process on the supervised path and cuts its calls in flight; a
 * stop holds a server down, retries included, until a start; a restart wakes a lazy idle
 * server; an unknown id is ignored; a held server still lets the shard stop.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerStateMessage, WorkerMessage } from '../../../../src/shared/messages.js';
import {
  ShardHarness,
  fixtureServer,
  processExists,
  resultText,
} from '../../../helpers/shard-harness.js';

const isState = (m: WorkerMessage): m is ServerStateMessage => m.type === 'server-state';

function statesOf(shard: ShardHarness, server: string, from = 0): ServerStateMessage[] {
  return shard.messages
    .slice(from)
    .filter(isState)
    .filter((m) => m.server === server);
}

describe('control-server', () => {
  let shard: ShardHarness | undefined;
  afterEach(async () => {
    await shard?.terminate();
    shard = undefined;
  });

  test('restart: a new process through restarting, restarts + 1; a call in flight is cut', async () => {
    shard = ShardHarness.start([fixtureServer('echo', 'echo-server')]);
    const first = await shard.waitForState('echo', 'ready');
    const oldPid = statesOf(shard, 'echo').find((m) => m.pid !== undefined)?.pid;
    assert.ok(oldPid !== undefined && processExists(oldPid));
    const slow = shard.call('echo', 'tools/call', { name: 'slow', arguments: { ms: 10_000 } });
    const from = shard.messages.length;
    shard.send({ type: 'control-server', server: 'echo', action: 'restart' });
    const cut = await slow.reply;
    assert.equal(cut.ok, false, 'the call in flight ends with the old process');
    const restarting = await shard.waitForState('echo', 'restarting', from);
    assert.equal(restarting.restarts, first.restarts);
    assert.match(restarting.error ?? '', /restarted by an admin/);
    const ready = await shard.waitForState('echo', 'ready', from);
    assert.equal(ready.restarts, first.restarts + 1);
    const newPid = statesOf(shard, 'echo', from).find((m) => m.pid !== undefined)?.pid;
    assert.ok(newPid !== undefined && newPid !== oldPid);
    assert.equal(processExists(oldPid), false);
    assert.equal(resultText(await shard.tool('echo', 'echo', { text: 'after' })), 'after');
  });

  test('stop holds a failing server down (no retries) until start', async () => {
    shard = ShardHarness.start([
      fixtureServer('crashy', 'crash-server', { env: { CRASH_ON_START: '1' } }),
    ]);
    await shard.waitForState('crashy', 'failed');
    const from = shard.messages.length;
    shard.send({ type: 'control-server', server: 'crashy', action: 'stop' });
    await shard.waitForState('crashy', 'stopped', from);
    // Unheld, it would be spawned again within 250–1000 ms (restart-policy.ts).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = statesOf(shard, 'crashy', from);
    assert.deepEqual(
      after.map((m) => m.state),
      ['stopped'],
      'nothing after the stop: no retry',
    );
    const started = shard.messages.length;
    shard.send({ type: 'control-server', server: 'crashy', action: 'start' });
    const spawned = await shard.waitFor(
      (m): m is ServerStateMessage => isState(m) && m.server === 'crashy' && m.pid !== undefined,
      { from: started },
    );
    assert.equal(spawned.state, 'starting');
    await shard.waitForState('crashy', 'failed', started);
  });

  test('stop and start of a ready server: its calls are refused meanwhile, then served', async () => {
    shard = ShardHarness.start([fixtureServer('echo', 'echo-server')]);
    await shard.waitForState('echo', 'ready');
    let from = shard.messages.length;
    shard.send({ type: 'control-server', server: 'echo', action: 'stop' });
    const stopped = await shard.waitForState('echo', 'stopped', from);
    assert.equal(stopped.pid, undefined);
    const refused = await shard.tool('echo', 'echo', { text: 'x' });
    assert.equal(refused.ok, false);
    assert.match(JSON.stringify(refused), /stopped by an admin/);
    from = shard.messages.length;
    shard.send({ type: 'control-server', server: 'echo', action: 'start' });
    await shard.waitForState('echo', 'ready', from);
    assert.equal(resultText(await shard.tool('echo', 'echo', { text: 'back' })), 'back');
  });

  test('restart wakes a lazy idle server; an unknown id is ignored', async () => {
    shard = ShardHarness.start([{ ...fixtureServer('lazy', 'echo-server'), start: 'lazy' }]);
    await shard.waitForState('lazy', 'idle');
    const from = shard.messages.length;
    shard.send({ type: 'control-server', server: 'nope', action: 'restart' });
    shard.send({ type: 'control-server', server: 'lazy', action: 'restart' });
    await shard.waitForState('lazy', 'ready', from);
    assert.deepEqual(
      shard.messages.slice(from).filter((m) => isState(m) && m.server !== 'lazy'),
      [],
    );
  });

  test('a server an admin stopped does not keep the shard from stopping', async () => {
    shard = ShardHarness.start([fixtureServer('echo', 'echo-server')]);
    await shard.waitForState('echo', 'ready');
    const from = shard.messages.length;
    shard.send({ type: 'control-server', server: 'echo', action: 'stop' });
    await shard.waitForState('echo', 'stopped', from);
    assert.equal(await shard.stop(), 0);
    shard = undefined;
  });
});
