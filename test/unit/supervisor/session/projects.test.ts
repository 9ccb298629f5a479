/**
 * Which folders may be projects (session/projects.ts), on a real scratch tree: inside a root
 * and real (links resolved), never the root itself, never the data folder or what holds it;
 * hostile spellings refused with a reason; only allowed folders remembered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Projects, placeOf } from '../../../../src/supervisor/session/projects.js';

const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'mcpd-projects-unit-')));
const root = join(scratch, 'code');
const site = join(root, 'site');
const data = join(root, 'state', 'data');
const outside = join(scratch, 'elsewhere');
for (const dir of [site, data, outside]) mkdirSync(dir, { recursive: true });
writeFileSync(join(root, 'notes.txt'), 'x');
symlinkSync(outside, join(root, 'escape'));
symlinkSync(site, join(root, 'site-link'));

const projects = new Projects({
  projectRoots: [root],
  projects: [{ name: 'the-site', dir: site, profile: 'web', mcpJson: false }],
  dataDir: data,
});

function reason(dir: unknown): string {
  const decision = projects.decide(dir);
  assert.ok(!decision.ok, `${String(dir)} was allowed`);
  return decision.reason;
}

test('a folder inside a root is a project, by its real path, named by the config or itself', () => {
  for (const spelling of [site, `${root}/./x/../site`, join(root, 'site-link'), `${site}/`]) {
    const decision = projects.decide(spelling);
    assert.ok(decision.ok, spelling);
    assert.deepEqual(decision.project, { dir: site, name: 'the-site' });
    assert.equal(decision.profile, 'web');
  }
  mkdirSync(join(root, 'other'));
  const other = projects.decide(join(root, 'other'));
  assert.ok(other.ok);
  assert.deepEqual([other.project.name, other.profile], ['other', undefined]);
});

test('outside the roots, the root itself, a link out of a root: refused', () => {
  assert.match(reason(outside), /is outside the folders projects may be in \("projectRoots": /);
  assert.match(reason(root), /is outside/);
  assert.match(reason(join(root, 'escape')), /is outside/);
  assert.match(reason(`${root}/../elsewhere`), /is outside/);
  assert.match(reason('/'), /is outside/);
});

test('the data folder, what holds it and what lies in it: refused (stored sign-ins)', () => {
  for (const dir of [data, join(root, 'state')]) {
    assert.match(reason(dir), /holds or is in the daemon's data folder/);
  }
  mkdirSync(join(data, 'inner'));
  assert.match(reason(join(data, 'inner')), /holds or is in the daemon's data folder/);
});

test('hostile spellings get a reason, not an exception', () => {
  assert.match(reason('relative/dir'), /is not absolute/);
  assert.match(reason('//host/share/code'), /is not absolute/);
  assert.match(reason(`${site}\u0000x`), /is no usable path/);
  assert.match(reason('/'.repeat(5000)), /is no usable path/);
  assert.match(reason(''), /is no usable path/);
  assert.match(reason(42), /is no string/);
  assert.match(reason(join(root, 'missing')), /does not exist/);
  assert.match(reason(join(root, 'notes.txt')), /is not a directory/);
  const root_ = projects.decideRoot(pathToFileURL(site).href);
  assert.ok(root_.ok);
  assert.ok(!projects.decideRoot('https://example.com/x').ok);
  assert.ok(!projects.decideRoot({ uri: 'file:///x' }).ok);
});

test('a refusal is not remembered: a folder made afterwards works at once', () => {
  const later = join(root, 'later');
  assert.match(reason(later), /does not exist/);
  mkdirSync(later);
  assert.ok(projects.decide(later).ok);
});

test('placeOf: a header names a project (percent-encoded), a refused one refuses, a hint only goes unused', () => {
  const named = placeOf(projects, { 'x-project-dir': encodeURIComponent(site) }, '');
  assert.ok(named.ok && named.project?.dir === site && named.hint === 'explicit');
  const query = placeOf(projects, {}, `project=${encodeURIComponent(site)}`);
  assert.ok(query.ok && query.project?.dir === site);
  const refused = placeOf(projects, { 'x-project-dir': encodeURIComponent(outside) }, '');
  assert.ok(!refused.ok && /is outside/.test(refused.reason));
  const hint = placeOf(
    projects,
    { 'x-project-dir': encodeURIComponent(outside), 'x-project-source': 'cwd' },
    '',
  );
  assert.ok(
    hint.ok && hint.project === null && /^the folder connect runs in: /.test(hint.refused ?? ''),
  );
  const undecodable = placeOf(projects, { 'x-project-dir': '%E0%A4%A' }, '');
  assert.ok(!undecodable.ok && /no usable path/.test(undecodable.reason));
  assert.deepEqual(placeOf(projects, {}, ''), { ok: true, project: null });
});
