/**
 * The meta tool surface answered from a view over the many-tools catalog (12 servers, about 250
 * tools): every answer is a CallToolResult whose structuredContent matches the tool's
 * outputSchema, and every mistake an agent can make gets an isError result that says what to do.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaType } from '@modelcontextprotocol/sdk/validation/types.js';

import type { JsonObject } from '../../../../src/shared/json.js';
import {
  answerMetaTool,
  META_TOOL_NAMES,
  META_TOOLS,
  parseCallArguments,
} from '../../../../src/supervisor/catalog/meta-tools.js';
import type { MetaServer, MetaView } from '../../../../src/supervisor/catalog/meta-tools.js';
import { DOMAINS, profileTools, TOOL_COUNT } from '../../../fixtures/many-tools-catalog.js';

const TOOLS = profileTools();

function view(servers?: MetaServer[]): MetaView {
  return {
    version: 1,
    tools: () => TOOLS,
    servers: () =>
      servers ??
      DOMAINS.map((d) => {
        const server: MetaServer = {
          id: d.id,
          state: 'ready',
          tools: d.tools.length,
          title: d.title,
        };
        if (d.id === 'postgres')
          server.instructions = 'Read-only by default.\nUse pg_execute to write.';
        return server;
      }),
  };
}

const VIEW = view();
const validator = new AjvJsonSchemaValidator();

/** Answers `name`, checks the result against its outputSchema, returns text and structure. */
function ask(name: string, args: unknown): { text: string; structured: JsonObject } {
  const result = answerMetaTool(name, args, VIEW);
  assert.ok(result !== undefined);
  assert.equal(result['isError'], undefined, JSON.stringify(result));
  const structured = result['structuredContent'] as JsonObject;
  const schema = META_TOOLS.find((t) => t['name'] === name)?.['outputSchema'];
  const check = validator.getValidator(schema as JsonSchemaType)(structured);
  assert.ok(check.valid, check.errorMessage);
  return { text: textOf(result), structured };
}

function textOf(result: JsonObject | undefined): string {
  const content = result?.['content'] as { type: string; text: string }[];
  assert.equal(content.length, 1);
  assert.equal(content[0]?.type, 'text');
  return content[0]?.text ?? '';
}

/** The message of an isError result. */
function error(name: string, args: unknown, v: MetaView = VIEW): string {
  const result = answerMetaTool(name, args, v);
  assert.equal(result?.['isError'], true, JSON.stringify(result));
  return textOf(result);
}

test('five tools with closed JSON Schema inputs; all but call are read-only with an outputSchema', () => {
  assert.deepEqual(
    META_TOOLS.map((t) => t['name']),
    [...META_TOOL_NAMES],
  );
  for (const tool of META_TOOLS) {
    const input = tool['inputSchema'] as JsonObject;
    assert.equal(input['type'], 'object');
    assert.equal(input['additionalProperties'], false);
    assert.ok(String(tool['description']).length > 40);
    validator.getValidator(input as JsonSchemaType); // compiles
    if (tool['name'] === 'call') continue;
    assert.deepEqual(tool['annotations'], { readOnlyHint: true, openWorldHint: false });
    validator.getValidator(tool['outputSchema'] as JsonSchemaType);
  }
});

test('search_tools: ranked hits as lines and structure; limit and server', () => {
  const { text, structured } = ask('search_tools', { query: 'open a pull request', limit: 3 });
  const hits = structured['hits'] as JsonObject[];
  assert.equal(hits.length, 3);
  assert.deepEqual(
    { ...hits[0], score: 0 },
    {
      name: 'github__create_pull_request',
      server: 'github',
      score: 0,
      description:
        'Open a new pull request in a GitHub repository, from a head branch into a base branch. Can open it as a draft.',
    },
  );
  assert.match(text.split('\n')[0] ?? '', /^github__create_pull_request \(github\): Open a new/);
  const s3 = ask('search_tools', { query: 'delete', server: 's3' }).structured[
    'hits'
  ] as JsonObject[];
  assert.ok(s3.length > 0 && s3.every((h) => h['server'] === 's3'));
  assert.equal(
    (ask('search_tools', { query: 'list', limit: 99 }).structured['hits'] as []).length > 10,
    true,
  );
  const none = ask('search_tools', { query: 'quantum banana teleporter' });
  assert.deepEqual(none.structured, { hits: [] });
  assert.match(none.text, /No tool matches/);
});

test('list_tools: every tool or one server, name and first description line', () => {
  const all = ask('list_tools', undefined);
  assert.equal((all.structured['tools'] as []).length, TOOL_COUNT);
  const github = ask('list_tools', { server: 'github' });
  const tools = github.structured['tools'] as JsonObject[];
  assert.equal(tools.length, DOMAINS[0]?.tools.length);
  assert.deepEqual(tools[1], {
    name: 'github__merge_pull_request',
    server: 'github',
    description: 'Merge an open pull request with the merge, squash or rebase method.',
  });
  assert.equal(
    github.text.split('\n')[1],
    'github__merge_pull_request: Merge an open pull request with the merge, squash or rebase method.',
  );
});

test('list_servers: state, counts, titles and instructions', () => {
  const { text, structured } = ask('list_servers', {});
  const servers = structured['servers'] as JsonObject[];
  assert.equal(servers.length, DOMAINS.length);
  assert.deepEqual(servers[0], { id: 'github', state: 'ready', tools: 21, title: 'GitHub' });
  assert.match(text, /^github \(GitHub\): ready, 21 tools$/m);
  assert.match(
    text,
    /^postgres \(PostgreSQL\): ready, 20 tools\n {2}Read-only by default\.\n {2}Use pg_execute/m,
  );
  const empty = answerMetaTool('list_servers', {}, view([]));
  assert.equal(textOf(empty), 'No servers.');
});

test('describe: the full definition of a server tool or a router tool', () => {
  const { text, structured } = ask('describe', { name: 'kubernetes__pods_delete' });
  const tool = structured['tool'] as JsonObject;
  assert.equal(structured['server'], 'kubernetes');
  assert.deepEqual(tool['inputSchema'], {
    type: 'object',
    properties: { name: { type: 'string' }, namespace: { type: 'string' } },
    required: ['name'],
  });
  assert.deepEqual(tool['annotations'], { destructiveHint: true });
  assert.deepEqual(JSON.parse(text), structured);
  assert.equal(ask('describe', { name: 'call' }).structured['server'], 'router');
});

test('unknown tools and servers say what to do instead', () => {
  assert.match(
    error('describe', { name: 'github__create_pr' }),
    /^Unknown tool 'github__create_pr'; use search_tools or list_tools to find its name\. Similar: github__create_pull_request, /,
  );
  assert.equal(
    error('describe', { name: 'xyzzy' }),
    "Unknown tool 'xyzzy'; use search_tools or list_tools to find its name.",
  );
  assert.match(
    error('list_tools', { server: 'gitlab' }),
    /^Unknown server 'gitlab'; servers: github, jira, slack,/,
  );
  assert.match(error('search_tools', { query: 'x', server: 'gitlab' }), /Unknown server 'gitlab'/);
  assert.equal(
    error('github__create_issue', {}),
    `'github__create_issue' is reached through call: call {"name": "github__create_issue", "arguments": {...}}.`,
  );
  assert.match(
    error('nope', {}),
    /^Unknown tool 'nope'; this router's tools are search_tools, describe, call/,
  );
});

test('bad arguments name the problem and the expected shape', () => {
  const expected = 'search_tools takes {query: string, limit?: integer, server?: string}.';
  assert.equal(error('search_tools', {}), `search_tools: missing argument 'query'. ${expected}`);
  assert.equal(
    error('search_tools', { q: 'x' }),
    `search_tools: unknown argument 'q'. ${expected}`,
  );
  assert.equal(
    error('search_tools', { query: 7 }),
    `search_tools: 'query' must be a non-empty string. ${expected}`,
  );
  assert.equal(
    error('search_tools', { query: '  ' }),
    `search_tools: 'query' must be a non-empty string. ${expected}`,
  );
  assert.equal(
    error('search_tools', { query: 'x', limit: 0 }),
    `search_tools: 'limit' must be an integer from 1 to 50. ${expected}`,
  );
  assert.equal(
    error('search_tools', { query: 'x', limit: 2.5 }).includes("'limit' must be an integer"),
    true,
  );
  assert.equal(
    error('search_tools', ['x']),
    `search_tools: arguments must be an object. ${expected}`,
  );
  assert.equal(
    error('list_servers', { verbose: true }),
    "list_servers: unknown argument 'verbose'. list_servers takes no arguments.",
  );
});

test('call is left to the caller; parseCallArguments checks it against the view', () => {
  assert.equal(answerMetaTool('call', { name: 'github__create_issue' }, VIEW), undefined);
  const args = { owner: 'o', repo: 'r', title: 't' };
  assert.deepEqual(parseCallArguments({ name: 'github__create_issue', arguments: args }, VIEW), {
    ok: true,
    call: { name: 'github__create_issue', server: 'github', arguments: args },
  });
  assert.deepEqual(parseCallArguments({ name: 's3__listBuckets' }, VIEW), {
    ok: true,
    call: { name: 's3__listBuckets', server: 's3', arguments: {} },
  });
  const failure = (args: unknown): string => {
    const parsed = parseCallArguments(args, VIEW);
    assert.equal(parsed.ok, false);
    return parsed.ok ? '' : textOf(parsed.result);
  };
  const expected = 'call takes {name: string, arguments?: object}.';
  assert.equal(failure(undefined), `call: missing argument 'name'. ${expected}`);
  assert.equal(
    failure({ name: 's3__listBuckets', arguments: 'x' }),
    `call: 'arguments' must be an object. ${expected}`,
  );
  assert.equal(
    failure({ name: 's3__listBuckets', args: {} }),
    `call: unknown argument 'args'. ${expected}`,
  );
  assert.match(
    failure({ name: 's3__list_buckets' }),
    /^Unknown tool 's3__list_buckets'; use search_tools or list_tools to find its name\. Similar: s3__listBuckets/,
  );
  assert.equal(
    failure({ name: 'search_tools', arguments: { query: 'x' } }),
    "'search_tools' is a router tool: call it directly.",
  );
});

test('the search index follows the view version', () => {
  let tools = TOOLS.slice(0, 3);
  const v: MetaView = { version: 1, servers: () => [], tools: () => tools };
  const before = answerMetaTool('search_tools', { query: 'jira issue' }, v);
  assert.deepEqual(before?.['structuredContent'], { hits: [] });
  tools = TOOLS;
  (v as { version: number }).version = 2;
  const after = answerMetaTool('search_tools', { query: 'jira issue', limit: 1 }, v);
  const hits = (after?.['structuredContent'] as JsonObject)['hits'] as JsonObject[];
  assert.equal(hits[0]?.['server'], 'jira');
});
