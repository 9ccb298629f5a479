import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { Catalog, type ListKind } from '../../../../src/supervisor/catalog/catalog.js';
import { ProfileView } from '../../../../src/supervisor/catalog/profile-view.js';
import { unrestrictedProfile } from '../../../../src/shared/config/defaults.js';
import type { ProfileConfig } from '../../../../src/shared/config/types.js';
import { META_TOOLS } from '../../../../src/supervisor/catalog/meta-tools.js';
import type { BackendCatalog } from '../../../../src/shared/backend-catalog.js';
import type { JsonObject } from '../../../../src/shared/json.js';
import { exposeName } from '../../../../src/supervisor/catalog/names.js';

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

/** What a profile sees (every server when `profile` is not given). */
function viewOf(
  catalog: Catalog,
  profile: Partial<ProfileConfig> = {},
  pageSize = 100,
): ProfileView {
  const servers = ['fs', 'gh', 'raw', 'a', 'b', 's', 'server'];
  const config = { ...unrestrictedProfile('p', servers), ...profile };
  return new ProfileView(config, catalog, pageSize, () => 'ready');
}

function page(view: ProfileView, cursor?: string, kind: ListKind = 'tools'): JsonObject {
  const result = view.page(kind, cursor);
  assert.ok('json' in result);
  return JSON.parse(result.json) as JsonObject;
}

function names(view: ProfileView, kind: ListKind = 'tools'): unknown[] {
  const key = kind === 'resourceTemplates' ? 'resourceTemplates' : kind;
  return (page(view, undefined, kind)[key] as JsonObject[]).map(
    (item) => item['uri'] ?? item['uriTemplate'] ?? item['name'],
  );
}

test('prefixes, custom prefixes and no prefix; unknown fields survive', () => {
  const catalog = new Catalog([
    { id: 'fs', prefix: 'fs' },
    { id: 'gh', prefix: 'git' },
    { id: 'raw', prefix: '' },
  ]);
  catalog.setBackend('fs', backend(['read']));
  catalog.setBackend('gh', backend(['read']));
  catalog.setBackend('raw', backend(['read']));
  const tools = page(viewOf(catalog))['tools'] as JsonObject[];
  assert.deepEqual(
    tools.map((t) => t['name']),
    ['fs__read', 'git__read', 'read'],
  );
  assert.deepEqual(tools[0]?.['x-custom'], { kept: true });
  assert.deepEqual(catalog.tool('git__read'), { server: 'gh', name: 'read' });
});

test('a collision keeps the first server in config order, whatever order backends arrive in', () => {
  const catalog = new Catalog([
    { id: 'a', prefix: '' },
    { id: 'b', prefix: '' },
  ]);
  catalog.setBackend('b', backend(['same']));
  catalog.setBackend('a', backend(['same']));
  assert.deepEqual(catalog.tool('same'), { server: 'a', name: 'same' });
  assert.deepEqual(catalog.collisions, [{ kind: 'tool', name: 'same', kept: 'a', dropped: 'b' }]);
});

test('pages follow opaque cursors; a forged cursor is -32602', () => {
  const catalog = new Catalog([{ id: 's', prefix: 's' }]);
  catalog.setBackend('s', backend(Array.from({ length: 10 }, (_, i) => `t${i}`)));
  const view = viewOf(catalog, {}, 4);
  const names: unknown[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const result = page(view, cursor);
    names.push(...(result['tools'] as JsonObject[]).map((t) => t['name']));
    cursor = result['nextCursor'] as string | undefined;
    pages++;
  } while (cursor !== undefined);
  assert.equal(pages, 3);
  assert.equal(names.length, 10);
  const forged = view.page('tools', 'bm9wZQ');
  assert.ok('error' in forged && forged.error.code === -32602);
});

test('a view rebuild reports which of its lists changed', () => {
  const catalog = new Catalog([{ id: 's', prefix: 's' }]);
  const view = viewOf(catalog);
  catalog.setBackend('s', backend(['a']));
  assert.deepEqual([...view.rebuild()], ['tools']);
  catalog.setBackend('s', backend(['a']));
  assert.deepEqual([...view.rebuild()], []);
  catalog.setBackend('s', backend(['a', 'b']));
  assert.deepEqual([...view.rebuild()], ['tools']);
  assert.equal(catalog.removeBackend('s'), true);
  assert.deepEqual([...view.rebuild()], ['tools']);
});

test('resources route by URI, templates by match, never renamed', () => {
  const catalog = new Catalog([
    { id: 'a', prefix: 'a' },
    { id: 'b', prefix: 'b' },
  ]);
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
  const catalog = new Catalog([{ id: 'server', prefix: 'server' }]);
  catalog.setBackend('server', backend([long]));
  assert.deepEqual(catalog.tool(exposed.name), { server: 'server', name: long });
  const tool = (page(viewOf(catalog))['tools'] as JsonObject[])[0];
  assert.equal(tool?.['title'], `server__${long}`);
});

describe('profile views', () => {
  const catalog = new Catalog([
    { id: 'fs', prefix: 'fs' },
    { id: 'gh', prefix: 'gh' },
  ]);
  catalog.setBackend(
    'fs',
    backend(['read_file', 'write_file', 'delete_file'], {
      prompts: [{ name: 'summarize' }],
      resources: [
        { uri: 'file:///home/a.txt', name: 'a' },
        { uri: 'file:///home/.env', name: 'env' },
        { uri: 'file:///etc/passwd', name: 'passwd' },
      ],
      resourceTemplates: [{ uriTemplate: 'file:///home/{name}', name: 'home' }],
    }),
  );
  catalog.setBackend('gh', backend(['create_issue', 'close_issue'], { prompts: [{ name: 'pr' }] }));
  const rules = { allow: null, deny: [], rename: {} };

  it('a server list hides every item of the other servers, on every path', () => {
    const view = viewOf(catalog, { servers: ['gh'], restricted: true });
    assert.deepEqual(names(view), ['gh__create_issue', 'gh__close_issue']);
    assert.deepEqual(names(view, 'prompts'), ['gh__pr']);
    assert.deepEqual(names(view, 'resources'), []);
    assert.equal(view.tool('fs__read_file'), undefined);
    assert.equal(view.prompt('fs__summarize'), undefined);
    assert.equal(view.resourceServer('file:///home/a.txt'), undefined);
    assert.equal(view.templateServer('file:///home/{name}'), undefined);
    assert.equal(view.cacheHint('tools').cacheScope, 'private');
    assert.equal(viewOf(catalog).cacheHint('tools').cacheScope, 'public');
  });

  it('allow and deny globs, deny winning; renames apply after matching', () => {
    const view = viewOf(catalog, {
      tools: {
        allow: ['fs__*', 'gh__create_*'],
        deny: ['*delete*'],
        rename: { gh__create_issue: 'new_issue' },
      },
      prompts: { ...rules, deny: ['*'] },
      resources: { allow: ['file:///home/*'], deny: ['*.env'] },
      restricted: true,
    });
    assert.deepEqual(names(view), ['fs__read_file', 'fs__write_file', 'new_issue']);
    assert.deepEqual(view.tool('new_issue'), { server: 'gh', name: 'create_issue' });
    assert.equal(view.tool('gh__create_issue'), undefined);
    assert.equal(view.tool('fs__delete_file'), undefined);
    assert.deepEqual(names(view, 'prompts'), []);
    assert.deepEqual(names(view, 'resources'), ['file:///home/a.txt']);
    assert.equal(view.resourceServer('file:///home/.env'), undefined);
    assert.equal(view.resourceServer('file:///etc/passwd'), undefined);
    assert.equal(view.resourceServer('file:///home/a.txt'), 'fs');
    assert.equal(view.templateServer('file:///home/{name}'), 'fs');
  });

  it('meta surface lists the router tools and keeps the real ones for lookups', () => {
    const view = viewOf(catalog, { toolSurface: 'meta', restricted: true });
    assert.deepEqual(
      names(view),
      META_TOOLS.map((t) => t['name']),
    );
    assert.equal(view.tools().length, 5);
    assert.deepEqual(view.tool('fs__read_file'), { server: 'fs', name: 'read_file' });
  });
});
