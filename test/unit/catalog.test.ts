import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Catalog } from '../../src/supervisor/catalog.js';
import type { BackendCatalog } from '../../src/shared/messages.js';
import type { JsonObject } from '../../src/shared/json.js';
import { exposeName } from '../../src/supervisor/names.js';

function backend(tools: string[], extra: Partial<BackendCatalog> = {}): BackendCatalog {
  return {
    era: 'legacy',
    cacheHints: {},
    protocolVersion: '2025-11-25',
    serverInfo: { name: 'x', version: '1' },
    capabilities: { tools: {} },
    tools: tools.map((name) => ({
      name,
      inputSchema: { type: 'object' },
      'x-custom': { kept: true },
    })),
    prompts: [],
    resources: [],
    resourceTemplates: [],
    ...extra,
  };
}

function page(catalog: Catalog, cursor?: string): JsonObject {
  const result = catalog.page('tools', cursor);
  assert.ok('json' in result);
  return JSON.parse(result.json) as JsonObject;
}

test('prefixes, custom prefixes and no prefix; unknown fields survive', () => {
  const catalog = new Catalog(
    [
      { id: 'fs', prefix: 'fs' },
      { id: 'gh', prefix: 'git' },
      { id: 'raw', prefix: '' },
    ],
    100,
  );
  catalog.setBackend('fs', backend(['read']));
  catalog.setBackend('gh', backend(['read']));
  catalog.setBackend('raw', backend(['read']));
  const tools = page(catalog)['tools'] as JsonObject[];
  assert.deepEqual(
    tools.map((t) => t['name']),
    ['fs__read', 'git__read', 'read'],
  );
  assert.deepEqual(tools[0]?.['x-custom'], { kept: true });
  assert.deepEqual(catalog.tool('git__read'), { server: 'gh', name: 'read' });
});

test('a collision keeps the first server in config order, whatever order backends arrive in', () => {
  const catalog = new Catalog(
    [
      { id: 'a', prefix: '' },
      { id: 'b', prefix: '' },
    ],
    100,
  );
  catalog.setBackend('b', backend(['same']));
  catalog.setBackend('a', backend(['same']));
  assert.deepEqual(catalog.tool('same'), { server: 'a', name: 'same' });
  assert.deepEqual(catalog.collisions, [{ kind: 'tool', name: 'same', kept: 'a', dropped: 'b' }]);
});

test('pages follow opaque cursors; a forged cursor is -32602', () => {
  const catalog = new Catalog([{ id: 's', prefix: 's' }], 4);
  catalog.setBackend('s', backend(Array.from({ length: 10 }, (_, i) => `t${i}`)));
  const names: unknown[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const result = page(catalog, cursor);
    names.push(...(result['tools'] as JsonObject[]).map((t) => t['name']));
    cursor = result['nextCursor'] as string | undefined;
    pages++;
  } while (cursor !== undefined);
  assert.equal(pages, 3);
  assert.equal(names.length, 10);
  const forged = catalog.page('tools', 'bm9wZQ');
  assert.ok('error' in forged && forged.error.code === -32602);
});

test('setBackend reports which lists changed', () => {
  const catalog = new Catalog([{ id: 's', prefix: 's' }], 100);
  assert.deepEqual([...catalog.setBackend('s', backend(['a']))], ['tools']);
  assert.deepEqual([...catalog.setBackend('s', backend(['a']))], []);
  assert.deepEqual([...catalog.setBackend('s', backend(['a', 'b']))], ['tools']);
  assert.deepEqual([...catalog.removeBackend('s')], ['tools']);
});

test('resources route by URI, templates by match, never renamed', () => {
  const catalog = new Catalog(
    [
      { id: 'a', prefix: 'a' },
      { id: 'b', prefix: 'b' },
    ],
    100,
  );
  catalog.setBackend('a', backend([], { resources: [{ uri: 'file:///x', name: 'x' }] }));
  catalog.setBackend(
    'b',
    backend([], {
      resourceTemplates: [{ uriTemplate: 'db://{table}/rows{?limit}', name: 'rows' }],
    }),
  );
  assert.equal(catalog.resourceServer('file:///x'), 'a');
  assert.equal(catalog.resourceServer('db://users/rows?limit=3'), 'b');
  assert.equal(catalog.resourceServer('db://users/more/rows'), undefined);
  assert.equal(catalog.templateServer('db://{table}/rows{?limit}'), 'b');
});

test('names over 64 characters are shortened deterministically and mapped back', () => {
  const long = 'a_very_long_tool_name_that_goes_on_and_on_and_on_beyond_any_limit';
  const exposed = exposeName('server', long);
  assert.ok(exposed.name.length <= 64);
  assert.equal(exposeName('server', long).name, exposed.name);
  assert.equal(exposed.fullName, `server__${long}`);
  assert.match(exposed.name, /^[a-zA-Z0-9_-]{1,64}$/);
  const catalog = new Catalog([{ id: 'server', prefix: 'server' }], 100);
  catalog.setBackend('server', backend([long]));
  assert.deepEqual(catalog.tool(exposed.name), { server: 'server', name: long });
  const tool = (page(catalog)['tools'] as JsonObject[])[0];
  assert.equal(tool?.['title'], `server__${long}`);
});
