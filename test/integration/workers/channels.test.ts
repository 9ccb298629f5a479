/**
 * The contract every backend channel keeps (src/workers/channels/): one list of cases, run
 * against each transport a worker speaks to a backend — stdio, Streamable HTTP, HTTP+SSE and
 * stateless (2026-07-28) HTTP. Each case drives a real shard worker thread
 * (test/helpers/shard-harness.ts) in front of a real fixture server, a child process over
 * stdio or a process serving HTTP on 127.0.0.1 (any free port), and sees what the supervisor
 * sees: the messages of src/shared/messages.ts. Nothing of the protocol is mocked.
 *
 * Which channel a setup exercises follows from its fixture: serve-http.ts speaks only
 * Streamable HTTP (or, with --legacy-sse, only HTTP+SSE), so a setup that works went through
 * that channel; the stateless era is the dual-era fixture, the one that speaks 2026-07-28.
 * The session-era setups run echo-server.ts. Both fixtures have `slow` and `stats` (calls
 * cancelled while they ran); for the rest each setup names its fixture's tools.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { ServerConfig } from '../../../src/shared/config/types.js';
import { MODERN_PROTOCOL_VERSION, type Era } from '../../../src/shared/eras.js';
import { DirectorErrorCode, directorCodeOf } from '../../../src/shared/errors.js';
import type { JsonObject } from '../../../src/shared/json.js';
import type {
  CallNotificationMessage,
  CatalogMessage,
  ReplyMessage,
  ServerStateMessage,
  WorkerMessage,
} from '../../../src/shared/messages.js';
import { eventually } from '../../helpers/daemon.js';
import { startHttpFixture, type HttpFixture } from '../../helpers/http-fixture.js';
import {
  ShardHarness,
  fixtureServer,
  processExists,
  remoteServer,
  resultText,
} from '../../helpers/shard-harness.js';

/** The fixture's tools each case calls, with what they answer. */
interface Vocabulary {
  /** `serverInfo.name` of the fixture. */
  serverName: string;
  /** Answers `expect` as its text. */
  text: { tool: string; args: JsonObject; expect: string };
  /** Answers a result with `isError: true` and `expect` as its text. */
  toolError: { tool: string; expect: string };
  /** Sends `count` progress notifications to the request's token, then answers. */
  progress: { tool: string; args: JsonObject; count: number };
  /** Makes the server send `notifications/tools/list_changed` (after adding `added`). */
  listChange: { tool: string; args: JsonObject; added?: string };
}

const ECHO: Vocabulary = {
  serverName: 'echo',
  text: { tool: 'echo', args: { text: 'contract ✓' }, expect: 'contract ✓' },
  toolError: { tool: 'fail', expect: 'boom' },
  progress: { tool: 'progress', args: { steps: 3 }, count: 3 },
  listChange: { tool: 'add_tool', args: { name: 'contract_added' }, added: 'contract_added' },
};

const DUAL_ERA: Vocabulary = {
  serverName: 'mcp-director-dual-era-fixture',
  text: {
    tool: 'test_simple_text',
    args: {},
    expect: 'This is a simple text response for testing.',
  },
  toolError: {
    tool: 'test_error_handling',
    expect: 'This tool intentionally returns an error for testing',
  },
  progress: { tool: 'test_tool_with_progress', args: {}, count: 3 },
  listChange: { tool: 'test_trigger_tool_change', args: {} },
};

interface Started {
  server: ServerConfig;
  /** The process serving HTTP, for a remote backend. */
  remote?: HttpFixture;
  /** A remote backend's server started again on the same port, after it died. */
  revive?: () => Promise<HttpFixture>;
}

interface ChannelSetup {
  name: string;
  era: Era;
  vocabulary: Vocabulary;
  start(id: string): Promise<Started>;
}

async function remote(
  id: string,
  script: string,
  args: string[],
  transport: 'auto' | 'sse',
): Promise<Started> {
  const fixture = await startHttpFixture(script, args);
  const port = new URL(fixture.url).port;
  return {
    server: remoteServer(id, fixture.url, transport),
    remote: fixture,
    revive: () => startHttpFixture(script, [...args, '--port', port]),
  };
}

const SETUPS: ChannelSetup[] = [
  {
    name: 'stdio (channels/stdio.ts)',
    era: 'legacy',
    vocabulary: ECHO,
    start: (id) => Promise.resolve({ server: fixtureServer(id, 'echo-server') }),
  },
  {
    name: 'Streamable HTTP (channels/streamable-http.ts)',
    era: 'legacy',
    vocabulary: ECHO,
    // 'auto': the stateless probe is refused, so the backend settles on Streamable HTTP.
    start: (id) => remote(id, 'serve-http.js', ['--server', 'echo'], 'auto'),
  },
  {
    name: 'HTTP+SSE (channels/streamable-http.ts, "type": "sse")',
    era: 'legacy',
    vocabulary: ECHO,
    start: (id) => remote(id, 'serve-http.js', ['--server', 'echo', '--legacy-sse'], 'sse'),
  },
  {
    name: 'stateless HTTP, 2026-07-28 (channels/stateless-http.ts)',
    era: 'modern',
    vocabulary: DUAL_ERA,
    start: (id) => remote(id, 'dual-era-server.js', ['--http'], 'auto'),
  },
];

const SERVER = 'contract';
/** Bounds every case; the whole file takes a few seconds per setup. */
const CASE = { timeout: 20_000 };
/** The timeout of the call whose server dies under it, and how soon it must fail instead. */
const DYING_CALL_TIMEOUT_MS = 10_000;
const DEAD_SERVER_NOTICED_MS = 2_000;

const isState =
  (state: string) =>
  (m: WorkerMessage): m is ServerStateMessage =>
    m.type === 'server-state' && m.server === SERVER && m.state === state;

function parsed(reply: ReplyMessage): JsonObject {
  if (!reply.ok) throw new Error(`expected a result, got error ${JSON.stringify(reply.error)}`);
  return JSON.parse(reply.result) as JsonObject;
}

function repliesTo(shard: ShardHarness, callId: number): ReplyMessage[] {
  return shard.messages.filter((m): m is ReplyMessage => m.type === 'reply' && m.callId === callId);
}

for (const setup of SETUPS) {
  const { vocabulary: v } = setup;

  describe(`backend channel contract: ${setup.name}`, { timeout: 120_000 }, () => {
    let started: Started;
    let shard: ShardHarness;
    let stopped = false;

    before(async () => {
      started = await setup.start(SERVER);
      shard = ShardHarness.start([started.server]);
      await shard.waitForState(SERVER, 'ready', 0, 30_000);
    });

    after(async () => {
      if (shard !== undefined && !stopped) await shard.terminate();
      await started?.remote?.stop();
    });

    /** `stats`' `cancelled`: the calls the server saw cancelled while they ran. */
    const cancelledSoFar = async (): Promise<number> =>
      (JSON.parse(resultText(await shard.tool(SERVER, 'stats'))) as { cancelled: number })
        .cancelled;

    it('starts: starting, then the catalog of its era, then ready', CASE, () => {
      const starting = shard.messages.findIndex(isState('starting'));
      const catalog = shard.messages.findIndex((m) => m.type === 'catalog' && m.server === SERVER);
      const ready = shard.messages.findIndex(isState('ready'));
      assert.ok(starting >= 0 && starting < catalog && catalog < ready, 'in that order');

      const state = shard.messages[starting] as ServerStateMessage;
      // A pid is the process group to kill: only a backend that is a process of ours has one.
      assert.equal(state.pid !== undefined, started.remote === undefined, 'pid iff a child');

      const { catalog: offered } = shard.messages[catalog] as CatalogMessage;
      assert.equal(offered.era, setup.era);
      if (setup.era === 'modern') assert.equal(offered.protocolVersion, MODERN_PROTOCOL_VERSION);
      else assert.match(offered.protocolVersion, /^\d{4}-\d{2}-\d{2}$/);
      assert.equal(offered.serverInfo['name'], v.serverName);
      const tools = offered.tools.map((tool) => tool['name']);
      for (const name of [
        v.text.tool,
        v.toolError.tool,
        v.progress.tool,
        v.listChange.tool,
        'slow',
        'stats',
      ]) {
        assert.ok(tools.includes(name), `the catalog lists ${name}`);
      }
    });

    it('a tools/call round trip answers with the backend result', CASE, async () => {
      const reply = await shard.tool(SERVER, v.text.tool, v.text.args);
      assert.equal(resultText(reply), v.text.expect);
    });

    it("a tool's error result passes through as a result with isError", CASE, async () => {
      const result = parsed(await shard.tool(SERVER, v.toolError.tool));
      assert.equal(result['isError'], true);
      assert.deepEqual((result['content'] as JsonObject[])[0], {
        type: 'text',
        text: v.toolError.expect,
      });
    });

    it("a backend's JSON-RPC error passes through with its code and message", CASE, async () => {
      const reply = await shard.call(SERVER, 'prompts/get', { name: 'no_such_prompt' }).reply;
      assert.ok(!reply.ok, 'an error reply');
      assert.equal(reply.error.code, -32602);
      assert.match(reply.error.message, /no_such_prompt/);
      assert.equal(directorCodeOf(reply.error), undefined, "the backend's error, not ours");
    });

    it(
      "progress reaches the call under the client's own token, before its reply",
      CASE,
      async () => {
        const from = shard.messages.length;
        const { callId, reply } = shard.call(SERVER, 'tools/call', {
          name: v.progress.tool,
          arguments: v.progress.args,
          _meta: { progressToken: 'contract-token' },
        });
        parsed(await reply);
        const seen = shard.messages.slice(from);
        const progress = seen.filter(
          (m): m is CallNotificationMessage =>
            m.type === 'call-notification' &&
            m.callId === callId &&
            m.method === 'notifications/progress',
        );
        assert.equal(progress.length, v.progress.count);
        for (const { params } of progress) assert.equal(params['progressToken'], 'contract-token');
        const values = progress.map(({ params }) => params['progress'] as number);
        assert.deepEqual(
          values,
          [...values].sort((a, b) => a - b),
          'in order',
        );
        const replied = seen.findIndex((m) => m.type === 'reply' && m.callId === callId);
        assert.ok(seen.indexOf(progress.at(-1) as WorkerMessage) < replied, 'before the reply');
      },
    );

    it('a list_changed brings a new catalog that says what changed', CASE, async () => {
      const from = shard.messages.length;
      parsed(await shard.tool(SERVER, v.listChange.tool, v.listChange.args));
      const { catalog, signalled } = await shard.waitFor(
        (m): m is CatalogMessage => m.type === 'catalog' && m.server === SERVER,
        { from, timeoutMs: 10_000 },
      );
      assert.ok(signalled.includes('tools'), `signalled ${JSON.stringify(signalled)}`);
      const tools = catalog.tools.map((tool) => tool['name']);
      assert.ok(tools.includes(v.text.tool), 'the whole list, not only what changed');
      if (v.listChange.added !== undefined) assert.ok(tools.includes(v.listChange.added));
    });

    it(
      'a cancelled call gets no reply, the backend hears of it, and calls go on',
      CASE,
      async () => {
        const earlier = await cancelledSoFar();
        const callId = shard.sendCall(SERVER, 'tools/call', {
          name: 'slow',
          arguments: { ms: 60_000 },
        });
        await delay(500); // the call must be running on the server before it is cancelled
        shard.send({ type: 'cancel', callId, reason: 'contract test' });
        await eventually(
          async () => ((await cancelledSoFar()) === earlier + 1 ? true : undefined),
          5000,
          'the backend to see the cancellation',
        );
        assert.deepEqual(repliesTo(shard, callId), [], 'no reply to a cancelled call');
        assert.equal(resultText(await shard.tool(SERVER, v.text.tool, v.text.args)), v.text.expect);
      },
    );

    it(
      'a server that dies mid-call fails the call at once; the backend is back with the server',
      { timeout: 40_000 },
      async () => {
        // A server and shard of its own: this server is killed, the suite's goes on.
        const own = await setup.start(SERVER);
        let remote = own.remote;
        const dying = ShardHarness.start([own.server]);
        try {
          const { pid } = await dying.waitForState(SERVER, 'ready', 0, 30_000);
          const { callId, reply } = dying.call(
            SERVER,
            'tools/call',
            { name: 'slow', arguments: { ms: 60_000 } },
            { timeoutMs: DYING_CALL_TIMEOUT_MS },
          );
          await delay(300); // the call must be running on the server when it dies
          const from = dying.messages.length;
          const killedAt = Date.now();
          if (remote !== undefined) remote.process.kill('SIGKILL');
          else process.kill(pid as number, 'SIGKILL');

          const failed = await reply;
          const took = Date.now() - killedAt;
          assert.ok(!failed.ok, 'the call fails');
          assert.equal(directorCodeOf(failed.error), DirectorErrorCode.BackendExited);
          assert.ok(
            took < DEAD_SERVER_NOTICED_MS,
            `it failed ${took} ms after the server died (its timeout: ${DYING_CALL_TIMEOUT_MS} ms)`,
          );
          assert.deepEqual(repliesTo(dying, callId), [failed], 'exactly one reply');
          await dying.waitForState(SERVER, 'restarting', from, 5_000);

          // A child is started again by the backend; a remote server is back when it is.
          if (remote !== undefined) {
            if (remote.process.exitCode === null && remote.process.signalCode === null)
              await once(remote.process, 'exit');
            remote = await (own.revive as () => Promise<HttpFixture>)();
          }
          await dying.waitForState(SERVER, 'ready', from, 20_000);
          assert.equal(
            resultText(await dying.tool(SERVER, v.text.tool, v.text.args)),
            v.text.expect,
          );
        } finally {
          await dying.terminate();
          await remote?.stop();
        }
      },
    );

    it(
      'stop ends a pending call with an error, says stopped, leaves nothing running',
      CASE,
      async () => {
        const pid = shard.messages.find(isState('starting'))?.pid;
        const { callId, reply } = shard.call(SERVER, 'tools/call', {
          name: 'slow',
          arguments: { ms: 60_000 },
        });
        await delay(300);
        const from = shard.messages.length;
        // Resolves once the thread has ended: nothing of the channel (a child, a socket, an
        // open stream, a timer) may keep it alive.
        const exitCode = await shard.stop();
        stopped = true;
        assert.equal(exitCode, 0);

        const ended = await reply;
        assert.ok(!ended.ok, 'the pending call gets an error');
        assert.equal(directorCodeOf(ended.error), DirectorErrorCode.ShuttingDown);
        assert.deepEqual(repliesTo(shard, callId), [ended], 'exactly one reply');
        assert.ok(shard.messages.slice(from).some(isState('stopped')), 'server-state stopped');

        if (pid !== undefined) {
          await eventually(
            () => (processExists(pid) || processExists(-pid) ? undefined : true),
            5000,
            `process group ${pid} to be gone`,
          );
        } else {
          // A remote server is not ours: the channel ends its side only.
          const remotePid = started.remote?.process.pid;
          assert.ok(
            remotePid !== undefined && processExists(remotePid),
            'the remote server still runs',
          );
        }
      },
    );
  });
}
