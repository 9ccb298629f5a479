/**
 * The fixture servers other tests rely on, driven over stdio: through the SDK v1 Client where the
 * protocol is the subject, through a raw child process where exit codes and signals are.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  getDefaultEnvironment,
  StdioClientTransport,
} from '@modelcontextprotocol/sdk/client/stdio.js';
import type { JSONRPCMessage, Notification } from '@modelcontextprotocol/sdk/types.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

import { calculate } from '../../src/demo/demo-server.js';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/${name}.js`, import.meta.url));
const demoServer = fileURLToPath(new URL('../../src/demo/demo-server.js', import.meta.url));

interface Connected {
  client: Client;
  transport: StdioClientTransport;
  /** Every notification the server sent, in order, whatever the client does with it. */
  notifications: Notification[];
  /** Every message the client sent. */
  sent: JSONRPCMessage[];
}

const openClients: Client[] = [];
after(async () => {
  await Promise.allSettled(openClients.map((c) => c.close()));
});

async function connect(
  path: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<Connected> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [path, ...args],
    env: { ...getDefaultEnvironment(), ...env },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'fixtures-test', version: '1.0.0' });
  const notifications: Notification[] = [];
  const sent: JSONRPCMessage[] = [];
  await client.connect(transport);
  // Tap the transport after connect() has installed the client's own handlers.
  const deliver = transport.onmessage;
  transport.onmessage = (message) => {
    if ('method' in message && !('id' in message)) notifications.push(message);
    deliver?.(message);
  };
  const send = transport.send.bind(transport);
  transport.send = (message: JSONRPCMessage) => {
    sent.push(message);
    return send(message);
  };
  openClients.push(client);
  return { client, transport, notifications, sent };
}

function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  assert.equal(content[0]?.type, 'text');
  return content[0]?.text ?? '';
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/** A fixture as a bare child process, for what the SDK client hides: stderr, exit code, signals. */
class RawChild {
  readonly child: ChildProcessWithoutNullStreams;
  readonly startedAt = Date.now();
  stderr = '';
  stdout = '';
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(path: string, env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [path], { env: { ...getDefaultEnvironment(), ...env } });
    this.child.stderr.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    this.child.stdout.setEncoding('utf8').on('data', (s: string) => (this.stdout += s));
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
  }

  async ready(name: string): Promise<number> {
    await waitFor(`${name} ready`, () => this.stderr.includes(`${name} ready\n`), 10_000);
    return Date.now() - this.startedAt;
  }

  send(message: object): void {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  async initialize(): Promise<void> {
    this.send({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'raw', version: '1' },
      },
    });
    await waitFor('initialize result', () => this.stdout.includes('"id":0'));
    this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async exit(timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const stopTimer = new AbortController();
    const timeout = delay(timeoutMs, undefined, { signal: stopTimer.signal }).then(() =>
      assert.fail(`process did not exit within ${timeoutMs} ms`),
    );
    timeout.catch(() => undefined); // the timer's own AbortError once the process has exited
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      stopTimer.abort();
    }
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }
}

describe(
  'every fixture: readiness line on stderr, nothing on stdout, exit on stdin close',
  { concurrency: true },
  () => {
    const servers: Array<[string, string]> = [
      ['echo-server', fixture('echo-server')],
      ['paged-server', fixture('paged-server')],
      ['crash-server', fixture('crash-server')],
      ['limits-server', fixture('limits-server')],
      ['conformance-server', fixture('conformance-server')],
      ['task-server', fixture('task-server')],
      ['demo-server', demoServer],
    ];
    for (const [name, path] of servers) {
      it(name, async () => {
        const raw = new RawChild(path);
        try {
          await raw.ready(name);
          assert.equal(raw.stdout, '', 'stdout carries MCP only');
          raw.child.stdin.end();
          assert.deepEqual(await raw.exit(), { code: 0, signal: null });
        } finally {
          raw.kill();
        }
      });
    }
  },
);

describe('echo-server', () => {
  // One server for the whole suite keeps it fast; each test owns distinct state (its own tool
  // names, the only cancellation, the only bump, the only setLevel), so the order does not matter.
  let echo: Connected;
  before(async () => {
    echo = await connect(fixture('echo-server'), ['--label', 'alpha'], {
      ECHO_FIXTURE_VAR: 'from-config',
    });
  });

  it('announces its label and capabilities', () => {
    assert.equal(echo.client.getServerVersion()?.name, 'alpha');
    const capabilities = echo.client.getServerCapabilities();
    assert.deepEqual(capabilities?.resources, { subscribe: true, listChanged: true });
    assert.deepEqual(capabilities?.tools, { listChanged: true });
    assert.ok(capabilities?.logging && capabilities.completions && capabilities.prompts);
  });

  it('answers echo, add (with structured content), whoami, fail and env', async () => {
    const { client } = echo;
    assert.equal(
      textOf(await client.callTool({ name: 'echo', arguments: { text: 'hi there' } })),
      'hi there',
    );
    const sum = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } });
    assert.equal(textOf(sum), '42');
    assert.deepEqual(sum.structuredContent, { sum: 42 });
    const { tools } = await client.listTools();
    assert.ok(tools.find((t) => t.name === 'add')?.outputSchema, 'add declares an outputSchema');
    assert.equal(textOf(await client.callTool({ name: 'whoami', arguments: {} })), 'alpha');
    const failed = await client.callTool({ name: 'fail', arguments: {} });
    assert.equal(failed.isError, true);
    assert.equal(textOf(failed), 'boom');
    assert.equal(
      textOf(await client.callTool({ name: 'env', arguments: { name: 'ECHO_FIXTURE_VAR' } })),
      'from-config',
    );
    assert.equal(
      textOf(await client.callTool({ name: 'env', arguments: { name: 'ECHO_FIXTURE_UNSET' } })),
      '',
    );
  });

  it('sends progress to the given token, and none without one', async () => {
    const { client, notifications, sent } = echo;
    const progressOf = (token: unknown): unknown[] =>
      notifications
        .filter(
          (n) => n.method === 'notifications/progress' && n.params?.['progressToken'] === token,
        )
        .map((n) => n.params);
    const result = await client.callTool(
      { name: 'progress', arguments: { steps: 3, delayMs: 1 } },
      undefined,
      {
        onprogress: () => undefined,
      },
    );
    assert.equal(textOf(result), 'done 3');
    const request = sent.findLast((m) => 'method' in m && m.method === 'tools/call');
    const token = (request as { params: { _meta: { progressToken: unknown } } }).params._meta
      .progressToken;
    // Checked on the wire: the SDK client may settle the call before it handles the last one.
    assert.deepEqual(progressOf(token), [
      { progressToken: token, progress: 1, total: 3, message: 'step 1' },
      { progressToken: token, progress: 2, total: 3, message: 'step 2' },
      { progressToken: token, progress: 3, total: 3, message: 'step 3' },
    ]);

    const before = notifications.filter((n) => n.method === 'notifications/progress').length;
    assert.equal(
      textOf(await client.callTool({ name: 'progress', arguments: { steps: 2 } })),
      'done 2',
    );
    await delay(20);
    assert.equal(notifications.filter((n) => n.method === 'notifications/progress').length, before);
  });

  it('logs through the SDK, honouring logging/setLevel', async () => {
    const { client, notifications } = echo;
    const logs = (): Notification[] =>
      notifications.filter((n) => n.method === 'notifications/message');
    assert.equal(
      textOf(
        await client.callTool({ name: 'log', arguments: { level: 'info', message: 'unfiltered' } }),
      ),
      'logged',
    );
    await waitFor('the first log', () => logs().length === 1);
    await client.setLoggingLevel('warning');
    await client.callTool({ name: 'log', arguments: { level: 'info', message: 'quiet' } });
    await client.callTool({ name: 'log', arguments: { level: 'error', message: 'loud' } });
    await waitFor('the error log', () => logs().length > 1);
    assert.deepEqual(
      logs().map((n) => n.params),
      [
        { level: 'info', logger: 'echo', data: 'unfiltered' },
        { level: 'error', logger: 'echo', data: 'loud' },
      ],
    );
  });

  it('adds a tool at runtime and announces it with tools/list_changed', async () => {
    const { client, notifications } = echo;
    assert.equal(
      textOf(await client.callTool({ name: 'add_tool', arguments: { name: 'later_tool' } })),
      'added later_tool',
    );
    await waitFor('list_changed', () =>
      notifications.some((n) => n.method === 'notifications/tools/list_changed'),
    );
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'later_tool'));
    assert.equal(
      textOf(await client.callTool({ name: 'later_tool', arguments: {} })),
      'dynamic later_tool',
    );
  });

  it('stops a cancelled slow call and reports it in stats', async () => {
    const { client, sent } = echo;
    const statsNow = async (): Promise<{
      calls: number;
      cancelled: number;
      cancelledRequestIds: unknown[];
    }> =>
      JSON.parse(textOf(await client.callTool({ name: 'stats', arguments: {} }))) as Awaited<
        ReturnType<typeof statsNow>
      >;
    const initial = await statsNow();
    assert.equal(textOf(await client.callTool({ name: 'slow', arguments: { ms: 5 } })), 'slept 5');

    const abort = new AbortController();
    const call = client.callTool({ name: 'slow', arguments: { ms: 10_000 } }, undefined, {
      signal: abort.signal,
    });
    setTimeout(() => abort.abort('test cancels'), 100);
    await assert.rejects(call);
    const slowCall = sent.find(
      (m) =>
        'method' in m &&
        m.method === 'tools/call' &&
        (m.params as { arguments?: { ms?: number } }).arguments?.ms === 10_000,
    );
    assert.ok(slowCall && 'id' in slowCall);
    assert.ok(sent.some((m) => 'method' in m && m.method === 'notifications/cancelled'));

    // The server counts the abort when the notification lands, long before the 10 s would end.
    let stats = await statsNow();
    for (let i = 0; i < 50 && stats.cancelled === 0; i++) {
      await delay(20);
      stats = await statsNow();
    }
    assert.equal(initial.cancelled, 0);
    assert.equal(stats.cancelled, 1);
    assert.deepEqual(stats.cancelledRequestIds, [slowCall.id]);
    assert.ok(stats.calls >= initial.calls + 3, 'both slow calls and this stats call were counted');
  });

  it('serves static, counter and templated resources; bump notifies the counter', async () => {
    const { client, notifications } = echo;
    const { resources } = await client.listResources();
    assert.deepEqual(resources.map((r) => r.uri).sort(), ['echo://counter', 'echo://static']);
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.deepEqual(
      resourceTemplates.map((t) => t.uriTemplate),
      ['echo://item/{id}'],
    );

    const read = async (uri: string): Promise<string> => {
      const { contents } = await client.readResource({ uri });
      return (contents[0] as { text: string }).text;
    };
    assert.equal(await read('echo://static'), 'static text');
    assert.equal(await read('echo://item/42'), 'item 42');
    assert.equal(await read('echo://counter'), '0');

    await client.subscribeResource({ uri: 'echo://counter' });
    assert.equal(textOf(await client.callTool({ name: 'bump', arguments: {} })), '1');
    await waitFor('resources/updated', () =>
      notifications.some((n) => n.method === 'notifications/resources/updated'),
    );
    assert.deepEqual(
      notifications
        .filter((n) => n.method === 'notifications/resources/updated')
        .map((n) => n.params),
      [{ uri: 'echo://counter' }],
    );
    assert.equal(await read('echo://counter'), '1');
    await client.unsubscribeResource({ uri: 'echo://counter' });
  });

  it('serves the greet prompt with completion of its name argument', async () => {
    const { client } = echo;
    const prompt = await client.getPrompt({ name: 'greet', arguments: { name: 'Ann' } });
    assert.deepEqual(prompt.messages, [
      { role: 'user', content: { type: 'text', text: 'Hello, Ann!' } },
    ]);
    const completion = await client.complete({
      ref: { type: 'ref/prompt', name: 'greet' },
      argument: { name: 'name', value: 'al' },
    });
    assert.deepEqual(completion.completion.values, ['alice', 'albert']);
  });

  it('defaults its label to echo', async () => {
    const { client } = await connect(fixture('echo-server'));
    assert.equal(client.getServerVersion()?.name, 'echo');
    assert.equal(textOf(await client.callTool({ name: 'whoami', arguments: {} })), 'echo');
  });
});

describe('paged-server', { concurrency: true }, () => {
  type Lister = (
    cursor: string | undefined,
  ) => Promise<{ items: string[]; nextCursor?: string | undefined }>;

  async function followAll(list: Lister): Promise<{ pages: number[]; items: string[] }> {
    const pages: number[] = [];
    const items: string[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 100; guard++) {
      const page = await list(cursor);
      pages.push(page.items.length);
      items.push(...page.items);
      cursor = page.nextCursor;
      if (cursor === undefined) return { pages, items };
    }
    return assert.fail('pagination did not end');
  }

  it('paginates tools, prompts and resources; following nextCursor yields everything once', async () => {
    const { client } = await connect(fixture('paged-server'), ['--tools', '23', '--page', '3']);
    const tools = await followAll(async (cursor) => {
      const r = await client.listTools(cursor === undefined ? {} : { cursor });
      return { items: r.tools.map((t) => t.name), nextCursor: r.nextCursor };
    });
    assert.deepEqual(tools.pages, [3, 3, 3, 3, 3, 3, 3, 2]);
    assert.deepEqual(
      tools.items,
      Array.from({ length: 23 }, (_, i) => `tool_${String(i).padStart(3, '0')}`),
    );

    const prompts = await followAll(async (cursor) => {
      const r = await client.listPrompts(cursor === undefined ? {} : { cursor });
      return { items: r.prompts.map((p) => p.name), nextCursor: r.nextCursor };
    });
    assert.deepEqual(prompts.pages, [3, 1]);
    assert.deepEqual(prompts.items, ['prompt_000', 'prompt_001', 'prompt_002', 'prompt_003']);

    const resources = await followAll(async (cursor) => {
      const r = await client.listResources(cursor === undefined ? {} : { cursor });
      return { items: r.resources.map((x) => x.uri), nextCursor: r.nextCursor };
    });
    assert.deepEqual(resources.items, [
      'paged://r/000',
      'paged://r/001',
      'paged://r/002',
      'paged://r/003',
    ]);

    assert.equal(textOf(await client.callTool({ name: 'tool_017', arguments: {} })), 'tool_017');
  });

  it('defaults to 25 tools in pages of 10 and rejects bad or foreign cursors with -32602', async () => {
    const { client } = await connect(fixture('paged-server'));
    const first = await client.listTools();
    assert.equal(first.tools.length, 10);
    assert.ok(first.nextCursor);
    const isInvalidParams = (e: unknown): boolean => e instanceof McpError && e.code === -32602;
    await assert.rejects(client.listTools({ cursor: 'not-a-cursor' }), isInvalidParams);
    await assert.rejects(client.listPrompts({ cursor: first.nextCursor }), isInvalidParams);
    const all = await client.listTools({ cursor: first.nextCursor });
    assert.equal(all.tools[0]?.name, 'tool_010');
  });
});

describe('crash-server', { concurrency: true }, () => {
  it('answers ping_me and pid', async () => {
    const { client, transport } = await connect(fixture('crash-server'));
    assert.equal(textOf(await client.callTool({ name: 'ping_me', arguments: {} })), 'pong');
    assert.equal(
      textOf(await client.callTool({ name: 'pid', arguments: {} })),
      String(transport.pid),
    );
  });

  it('crash exits with the given code without answering', async () => {
    const raw = new RawChild(fixture('crash-server'));
    try {
      await raw.ready('crash-server');
      await raw.initialize();
      raw.send({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'crash', arguments: { code: 7 } },
      });
      assert.deepEqual(await raw.exit(), { code: 7, signal: null });
      assert.ok(!raw.stdout.includes('"id":1'), 'no answer to the crash call');
    } finally {
      raw.kill();
    }
  });

  it('exits on SIGTERM normally', async () => {
    const raw = new RawChild(fixture('crash-server'));
    try {
      await raw.ready('crash-server');
      raw.child.kill('SIGTERM');
      assert.deepEqual(await raw.exit(), { code: null, signal: 'SIGTERM' });
    } finally {
      raw.kill();
    }
  });

  it('with IGNORE_SIGTERM=1 survives stdin close and SIGTERM; only SIGKILL ends it', async () => {
    const raw = new RawChild(fixture('crash-server'), { IGNORE_SIGTERM: '1' });
    try {
      await raw.ready('crash-server');
      raw.child.stdin.end();
      await delay(200);
      assert.ok(raw.alive, 'still running after stdin closed');
      raw.child.kill('SIGTERM');
      await waitFor('the SIGTERM to be ignored', () => raw.stderr.includes('ignoring SIGTERM'));
      await delay(100);
      assert.ok(raw.alive, 'still running after SIGTERM');
      raw.child.kill('SIGKILL');
      assert.deepEqual(await raw.exit(), { code: null, signal: 'SIGKILL' });
    } finally {
      raw.kill();
    }
  });

  it('with CRASH_ON_START=1 exits 3 before it is ever ready', async () => {
    const raw = new RawChild(fixture('crash-server'), { CRASH_ON_START: '1' });
    try {
      assert.deepEqual(await raw.exit(), { code: 3, signal: null });
      assert.ok(!raw.stderr.includes('ready'));
    } finally {
      raw.kill();
    }
  });

  it('with START_DELAY_MS waits that long before it is ready', async () => {
    const raw = new RawChild(fixture('crash-server'), { START_DELAY_MS: '400' });
    try {
      assert.ok((await raw.ready('crash-server')) >= 400);
    } finally {
      raw.kill();
    }
  });
});

describe('conformance-server', () => {
  it('exposes every name the conformance suite calls', async () => {
    const { client } = await connect(fixture('conformance-server'));
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [
      'json_schema_2020_12_tool',
      'test_audio_content',
      'test_elicitation',
      'test_elicitation_sep1034_defaults',
      'test_elicitation_sep1330_enums',
      'test_embedded_resource',
      'test_error_handling',
      'test_image_content',
      'test_multiple_content_types',
      'test_reconnection',
      'test_sampling',
      'test_simple_text',
      'test_tool_with_logging',
      'test_tool_with_progress',
    ]);
    const schema = tools.find((t) => t.name === 'json_schema_2020_12_tool')?.inputSchema as Record<
      string,
      unknown
    >;
    assert.equal(schema['$schema'], 'https://json-schema.org/draft/2020-12/schema');
    assert.ok(schema['$defs'] && schema['if'] && schema['allOf']);

    const { prompts } = await client.listPrompts();
    assert.deepEqual(prompts.map((p) => p.name).sort(), [
      'test_prompt_with_arguments',
      'test_prompt_with_embedded_resource',
      'test_prompt_with_image',
      'test_simple_prompt',
    ]);
    const { resources } = await client.listResources();
    assert.deepEqual(resources.map((r) => r.uri).sort(), [
      'test://static-binary',
      'test://static-text',
      'test://watched-resource',
    ]);
    const { contents } = await client.readResource({ uri: 'test://template/123/data' });
    assert.match((contents[0] as { text: string }).text, /"id":"123"/);
    await assert.rejects(
      client.readResource({ uri: 'test://nope' }),
      (e: unknown) => e instanceof McpError && e.code === -32002,
    );

    // Without the sampling capability the tool fails as a tool error instead of hanging.
    const sampling = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'hi' } });
    assert.equal(sampling.isError, true);
  });
});

describe('demo-server', () => {
  it('calculate evaluates arithmetic without eval', () => {
    assert.equal(calculate('1 + 2 * 3'), 7);
    assert.equal(calculate('(1 + 2) * 3'), 9);
    assert.equal(calculate('2 ^ 3 ^ 2'), 512);
    assert.equal(calculate('-2 ^ 2'), -4);
    assert.equal(calculate('2 ** -1'), 0.5);
    assert.equal(calculate('0.1 + 0.2'), 0.3);
    assert.equal(calculate('10 % 4 - -1'), 3);
    assert.equal(calculate('sqrt(16) + max(1, 7, 3) + abs(-2)'), 13);
    assert.equal(calculate('round(pi * 100) / 100'), 3.14);
    assert.equal(calculate('1.5e3 + .5'), 1500.5);
    for (const [bad, message] of [
      ['', /empty/],
      ['1 / 0', /division by zero/],
      ['2 +', /end of expression/],
      ['(1 + 2', /expected '\)'/],
      ['process.exit(1)', /unexpected character '\.'/],
      ['constructor', /unknown name/],
      ['foo(1)', /unknown function/],
      ['sqrt(1, 2)', /takes 1 argument/],
      ['1 2', /unexpected '2'/],
      ['sqrt(-1)', /not a finite number/],
      ['('.repeat(200) + '1' + ')'.repeat(200), /nested too deeply/],
    ] as const) {
      assert.throws(() => calculate(bad), message, bad);
    }
  });

  it('serves its tools, the about resource and the explain_tool prompt over stdio', async () => {
    const { client } = await connect(demoServer);
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name),
      ['echo', 'calculate', 'current_time', 'uuid', 'hash', 'base64', 'word_count'],
    );
    assert.ok(
      tools.every((t) => (t.description ?? '').length > 20),
      'every tool says what it does',
    );

    const call = (name: string, args: Record<string, unknown>) =>
      client.callTool({ name, arguments: args });
    assert.equal(textOf(await call('echo', { text: 'x' })), 'x');
    const calc = await call('calculate', { expression: '6 * 7' });
    assert.deepEqual(calc.structuredContent, { result: 42 });
    assert.equal((await call('calculate', { expression: '6 *' })).isError, true);
    assert.equal(
      textOf(await call('hash', { text: 'abc', algorithm: 'sha256' })),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    assert.equal(
      textOf(await call('hash', { text: 'abc', algorithm: 'md5' })),
      '900150983cd24fb0d6963f7d28e17f72',
    );
    assert.equal(textOf(await call('base64', { text: 'héllo', mode: 'encode' })), 'aMOpbGxv');
    assert.equal(textOf(await call('base64', { text: 'aMOpbGxv', mode: 'decode' })), 'héllo');
    assert.equal((await call('base64', { text: 'a*b', mode: 'decode' })).isError, true);
    const uuids = textOf(await call('uuid', { count: 3 })).split('\n');
    assert.equal(new Set(uuids).size, 3);
    assert.ok(
      uuids.every((u) =>
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u),
      ),
    );
    const counts = await call('word_count', { text: 'one two\nthree' });
    assert.deepEqual(counts.structuredContent, { words: 3, characters: 13, lines: 2, bytes: 13 });
    const time = JSON.parse(textOf(await call('current_time', { timeZone: 'Asia/Tokyo' }))) as {
      timeZone: string;
      unixMs: number;
    };
    assert.equal(time.timeZone, 'Asia/Tokyo');
    assert.ok(Math.abs(time.unixMs - Date.now()) < 60_000);
    assert.equal((await call('current_time', { timeZone: 'Mars/Olympus' })).isError, true);

    const { contents } = await client.readResource({ uri: 'demo://about' });
    assert.match((contents[0] as { text: string }).text, /mcpServers/);
    const prompt = await client.getPrompt({ name: 'explain_tool', arguments: { tool: 'hash' } });
    assert.match((prompt.messages[0]?.content as { text: string }).text, /"hash"/);
  });
});
