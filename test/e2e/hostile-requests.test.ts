/**
 * No request can kill the shared daemon (README "Limits and safety"): the daemon from its CLI,
 * raw HTTP carrying what no SDK client sends — method and tool names that are Object.prototype
 * members, names that are objects, JSON nested 1,000 to 100,000 levels, ids beyond 2^53, a
 * missing Accept, batches on a revision without them — in both eras, then a valid call.
 * Each answer is a specific JSON-RPC error or HTTP status, and the daemon keeps serving.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI, alive, fixture, startDaemon, type Daemon } from '../helpers/daemon.js';
import {
  ACCEPT_BOTH,
  modernRequest,
  nestedJson,
  rawPost,
  rawSession,
  type RawAnswer,
} from '../helpers/raw-mcp.js';
import { textOf } from '../helpers/mcp.js';

const PROTOTYPE_KEYS = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'];
const DEPTHS = [1_000, 10_000, 100_000];

let daemon: Daemon;
let session: Record<string, string>;

const call = (id: unknown, method: string, params: unknown): string =>
  JSON.stringify({ jsonrpc: '2.0', id, method, params });

/** A session-era POST on the shared session. */
const post = (body: string, headers: Record<string, string> = {}): Promise<RawAnswer> =>
  rawPost(daemon.url, body, { ...session, ...headers });

/** A 2026-07-28 request (no session). */
const modern = (id: unknown, method: string, params: Record<string, unknown>) => {
  const request = modernRequest(id, method, params);
  return rawPost(daemon.url, request.body, request.headers);
};

function errorOf(answer: RawAnswer): { code: number; message: string; data?: unknown } {
  const error = answer.message?.error;
  assert.ok(error !== undefined, `expected a JSON-RPC error, got ${answer.status} ${answer.text}`);
  return error;
}

/** The daemon still answers a real call, and its process still runs. */
async function assertServing(): Promise<void> {
  assert.ok(alive(daemon.process.pid as number), 'the daemon process is alive');
  const answer = await post(
    call(99, 'tools/call', { name: 'echo__echo', arguments: { text: 'ok' } }),
  );
  assert.equal(answer.status, 200, answer.text);
  assert.match(answer.text, /"text":"ok"/);
}

before(async () => {
  daemon = await startDaemon({
    mcpServers: {
      echo: fixture('echo-server'),
      jobs: fixture('task-server'),
      paged: fixture('paged-server', ['--tools', '5']),
    },
  });
  session = await rawSession(daemon.url);
});

after(async () => {
  await daemon.stop();
});

describe('names that are Object.prototype members', () => {
  test('as a method, in a session and stateless: Method not found', async () => {
    for (const method of PROTOTYPE_KEYS) {
      const answer = await post(call(1, method, {}));
      assert.equal(answer.status, 200);
      assert.equal(errorOf(answer).code, -32601, `${method}: ${answer.text}`);
      const stateless = await modern(1, method, {});
      assert.equal(stateless.status, 404, stateless.text);
      assert.equal(errorOf(stateless).code, -32601);
    }
    await assertServing();
  });

  test('as a tool, prompt, resource or completion ref: unknown, like any other name', async () => {
    for (const key of PROTOTYPE_KEYS) {
      const tool = await post(call(2, 'tools/call', { name: key, arguments: {} }));
      assert.equal(errorOf(tool).message, `Unknown tool: ${key}`);
      const prompt = await post(call(3, 'prompts/get', { name: key }));
      assert.equal(errorOf(prompt).message, `Unknown prompt: ${key}`);
      const completion = await post(
        call(4, 'completion/complete', {
          ref: { type: 'ref/prompt', name: key },
          argument: { name: 'name', value: 'a' },
        }),
      );
      assert.equal(errorOf(completion).message, `Unknown prompt: ${key}`);
      const stateless = await modern(5, 'tools/call', { name: key, arguments: {} });
      assert.equal(errorOf(stateless).message, `Unknown tool: ${key}`);
      // As a header name too: just a header.
      const headerName = key.toLowerCase().replaceAll('_', '-');
      const headed = await post(call(6, 'tools/list', {}), { [headerName]: 'x' });
      assert.equal(headed.status, 200, headed.text);
    }
    await assertServing();
  });

  test('as a resource URI: not found, with the URI; an unlisted URI is still routed', async () => {
    // No server lists paged://unlisted/x, but paged is the one server using that scheme.
    const served = await post(call(6, 'resources/read', { uri: 'paged://unlisted/x' }));
    assert.match(served.text, /"text":"paged:\/\/unlisted\/x"/);
    const unlisted = await post(call(7, 'resources/read', { uri: 'echo://toString' }));
    assert.equal(errorOf(unlisted).message, 'Resource not found: echo://toString');
    assert.deepEqual(errorOf(unlisted).data, { uri: 'echo://toString' });
    for (const key of PROTOTYPE_KEYS) {
      const answer = await post(call(8, 'resources/read', { uri: key }));
      assert.equal(answer.status, 200);
      assert.ok(errorOf(answer).message.length > 0);
    }
    await assertServing();
  });
});

test('a header name with "_" (which this uWS build never answers) does not hold up anyone else', async () => {
  const held = new AbortController();
  const pending = rawPost(
    daemon.url,
    call(9, 'ping', {}),
    { ...session, x_under_score: 'x' },
    held.signal,
  )
    .then((answer) => answer.status)
    .catch(() => 'no answer');
  await assertServing();
  setTimeout(() => held.abort(), 500);
  // uWS drops the request before the daemon sees it, and closes the socket after its idle
  // timeout; whatever it does, every other client is served meanwhile.
  assert.ok(['no answer', 400].includes(await pending));
  await assertServing();
});

describe('params of the wrong type', () => {
  const objectName = { toString: 1 };
  const cases: Array<[string, unknown, string]> = [
    ['tools/call', { name: objectName }, 'params.name must be a string, not an object'],
    ['tools/call', { arguments: {} }, 'params.name must be a string, but it is missing'],
    ['tools/call', { name: 'echo__echo', arguments: 'x' }, 'params.arguments must be an object'],
    ['prompts/get', { name: objectName }, 'params.name must be a string, not an object'],
    ['resources/read', { uri: objectName }, 'params.uri must be a string, not an object'],
    ['resources/subscribe', { uri: 7 }, 'params.uri must be a string, not the number 7'],
    [
      'completion/complete',
      { ref: { type: 'ref/prompt', name: objectName }, argument: { name: 'n', value: '' } },
      'params.ref.name must be a string',
    ],
    [
      'completion/complete',
      { ref: { type: 'ref/resource', uri: ['x'] }, argument: { name: 'n', value: '' } },
      'params.ref.uri must be a string, not an array',
    ],
    ['tasks/get', { taskId: { toString: 1 } }, 'params.taskId must be a string'],
    ['tools/list', { cursor: { toString: 1 } }, 'params.cursor must be a string'],
    ['logging/setLevel', { level: { toString: 1 } }, 'params.level must be a string'],
    ['tools/call', { name: 'echo__echo', _meta: { progressToken: {} } }, '_meta.progressToken'],
  ];
  test('get -32602 naming the field, in a session', async () => {
    for (const [method, params, message] of cases) {
      const error = errorOf(await post(call(10, method, params)));
      assert.equal(error.code, -32602, `${method} ${JSON.stringify(params)}: ${error.message}`);
      assert.ok(error.message.includes(message), `${error.message} should say: ${message}`);
    }
    await assertServing();
  });

  test('get -32602 naming the field, stateless', async () => {
    const answer = await modern(11, 'tools/call', { name: objectName });
    assert.equal(errorOf(answer).code, -32602, answer.text);
    assert.match(errorOf(answer).message, /params\.name must be a string/);
    await assertServing();
  });
});

describe('deep nesting', () => {
  test('below the limit passes through to the backend', async () => {
    const args = `{"text":"deep","extra":${nestedJson(200)}}`;
    const answer = await post(
      `{"jsonrpc":"2.0","id":20,"method":"tools/call","params":{"name":"echo__echo","arguments":${args}}}`,
    );
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, /"text":"deep"/);
  });

  for (const depth of DEPTHS) {
    test(`${depth} levels: 400 and -32600 naming the limit, in both eras`, async () => {
      const args = `{"text":"x","deep":${nestedJson(depth)}}`;
      const inSession = await post(
        `{"jsonrpc":"2.0","id":21,"method":"tools/call","params":{"name":"echo__echo","arguments":${args}}}`,
      );
      assert.equal(inSession.status, 400);
      assert.equal(errorOf(inSession).code, -32600);
      assert.match(errorOf(inSession).message, /deeper than 256 levels.*limits\.maxJsonDepth/);
      const request = modernRequest(22, 'tools/call', { name: 'echo__echo' });
      const deepBody = request.body.replace(
        '"name":"echo__echo"',
        `"name":"echo__echo","arguments":${args}`,
      );
      const stateless = await rawPost(daemon.url, deepBody, request.headers);
      assert.equal(stateless.status, 400, stateless.text);
      assert.equal(errorOf(stateless).code, -32600);
      // Without a session or a token: the first thing the daemon reads.
      const bare = await rawPost(daemon.url, nestedJson(depth));
      assert.equal(bare.status, 400);
      await assertServing();
    });
  }
});

describe('what a client sends exactly comes back exactly', () => {
  test('ids beyond 2^53 and string ids are kept as sent', async () => {
    for (const id of ['12345678901234567890', '-9007199254740993', '"id-é"']) {
      const answer = await post(`{"jsonrpc":"2.0","id":${id},"method":"ping"}`);
      assert.ok(answer.text.includes(`"id":${id}`), `${id} in ${answer.text}`);
      const failed = await post(`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{}}`);
      assert.ok(failed.text.includes(`"id":${id}`), `${id} in ${failed.text}`);
    }
    const stateless = modernRequest(0, 'tools/call', {
      name: 'echo__echo',
      arguments: { text: 'big' },
    });
    const big = await rawPost(
      daemon.url,
      stateless.body.replace('"id":0', '"id":98765432109876543210'),
      stateless.headers,
    );
    assert.ok(big.text.includes('"id":98765432109876543210'), big.text);
  });
});

describe('the transport rules that protect', () => {
  test('a POST without Accept naming both types gets 406', async () => {
    for (const accept of [undefined, 'application/json', 'text/event-stream', '*/*']) {
      const response = await fetch(daemon.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...session,
          ...(accept === undefined ? {} : { accept }),
        },
        body: call(30, 'ping', {}),
      });
      assert.equal(response.status, 406, `Accept: ${accept}`);
      assert.match(await response.text(), /Accept: application\/json, text\/event-stream/);
    }
    assert.equal((await post(call(31, 'ping', {}), { accept: ACCEPT_BOTH })).status, 200);
  });

  test('batches only on 2025-03-26 sessions', async () => {
    const batch = `[${call(40, 'ping', {})},${call(41, 'tools/list', {})}]`;
    const modernSession = await rawSession(daemon.url, '2025-06-18');
    const refused = await rawPost(daemon.url, batch, modernSession);
    assert.equal(refused.status, 400);
    assert.match(errorOf(refused).message, /batches exist in protocol 2025-03-26 only/);
    const oldSession = await rawSession(daemon.url, '2025-03-26');
    const answered = await rawPost(daemon.url, batch, oldSession);
    assert.equal(answered.status, 200, answered.text);
    const answers = JSON.parse(answered.text) as Array<{ id: number }>;
    assert.deepEqual(answers.map((a) => a.id).sort(), [40, 41]);
  });

  test('a tool that only runs as a task is listed only to clients that can call it as one', async () => {
    const names = async (capabilities: Record<string, unknown>): Promise<string[]> => {
      const client = new Client({ name: 'tasks', version: '1' }, { capabilities });
      await client.connect(new StreamableHTTPClientTransport(new URL(daemon.url)));
      const listed = await client.listTools();
      await client.close();
      return listed.tools.map((t) => t.name);
    };
    assert.ok(!(await names({})).includes('jobs__countdown_task'));
    assert.ok((await names({})).includes('jobs__countdown'));
    const taskCapable = { tasks: { requests: { tools: { call: {} } } } };
    assert.ok((await names(taskCapable)).includes('jobs__countdown_task'));
    const stateless = await modern(50, 'tools/list', {});
    assert.ok(!stateless.text.includes('jobs__countdown_task'), 'not for 2026-07-28 clients');
    assert.ok(stateless.text.includes('jobs__countdown"'));
  });
});

test('single-client stdio mode answers hostile lines and keeps serving', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpd-hostile-'));
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({ listen: { port: 0 }, mcpServers: { echo: fixture('echo-server') } }),
  );
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--config', configPath, '--data-dir', join(dir, 'data')],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  child.stderr.resume();
  const lines = createInterface({ input: child.stdout });
  const answers: string[] = [];
  const waiters: Array<() => void> = [];
  lines.on('line', (line) => {
    answers.push(line);
    waiters.shift()?.();
  });
  const next = async (): Promise<string> => {
    if (answers.length === 0) await new Promise<void>((resolve) => waiters.push(resolve));
    return answers.shift() as string;
  };
  const send = (line: string): boolean => child.stdin.write(`${line}\n`);
  try {
    send(
      call(1, 'initialize', {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'raw-stdio', version: '1' },
      }),
    );
    assert.match(await next(), /"protocolVersion":"2025-11-25"/);
    send(nestedJson(100_000));
    assert.match(await next(), /limits\.maxJsonDepth/);
    send(call(2, 'constructor', {}));
    assert.match(await next(), /"code":-32601/);
    send(call(3, 'tools/call', { name: { toString: 1 } }));
    assert.match(await next(), /params\.name must be a string/);
    send(call(4, 'tools/call', { name: 'echo__echo', arguments: { text: 'still here' } }));
    assert.match(await next(), /still here/);
  } finally {
    child.stdin.end();
    await new Promise((resolve) => child.once('exit', resolve));
  }
});

test('the connect shim passes hostile lines on and keeps serving its client', async () => {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'connect', '--url', daemon.url],
    stderr: 'pipe',
  });
  const client = new Client({ name: 'connect-hostile', version: '1' });
  await client.connect(transport);
  const error = await client.callTool({ name: 'toString', arguments: {} }).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.match(String(error ?? ''), /Unknown tool: toString/);
  const echoed = await client.callTool({ name: 'echo__echo', arguments: { text: 'via connect' } });
  assert.equal(textOf(echoed), 'via connect');
  await client.close();
  await assertServing();
});
