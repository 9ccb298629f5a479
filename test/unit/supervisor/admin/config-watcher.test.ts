/**
 * watchConfigFile (config hot reload) on a real temporary file: plain writes, editors that
 * save by rename, delete and re-create, bursts, invalid text, and close.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  watchConfigFile,
  type ConfigWatcher,
} from '../../../../src/supervisor/admin/config-watcher.js';
import { ConfigError } from '../../../../src/shared/config/problems.js';
import type { DirectorConfig } from '../../../../src/shared/config/types.js';
import { currentLogLevel, setLogLevel } from '../../../../src/shared/log.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Stands in for parseConfigText: JSON whose `version` becomes the config's pageSize. */
function load(text: string): DirectorConfig {
  let value: { version?: unknown };
  try {
    value = JSON.parse(text) as { version?: unknown };
  } catch (error) {
    throw new ConfigError('config.json', [{ path: '', message: (error as Error).message }]);
  }
  if (typeof value.version !== 'number') {
    throw new ConfigError('config.json', [{ path: 'version', message: 'expected a number' }]);
  }
  return { pageSize: value.version } as unknown as DirectorConfig;
}

const text = (version: number | string): string => JSON.stringify({ version });

interface Seen {
  configs: number[];
  invalid: Error[];
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

describe('watchConfigFile', () => {
  let watcher: ConfigWatcher | undefined;
  let dir = '';

  afterEach(() => {
    watcher?.close();
    watcher = undefined;
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  function start(
    initial: string | undefined,
    options: { debounceMs?: number; pollMs?: number; file?: string } = {},
  ): { file: string; seen: Seen } {
    if (options.file === undefined) dir = mkdtempSync(join(tmpdir(), 'mcpd-watch-'));
    const file = options.file ?? join(dir, 'config.json');
    if (initial !== undefined) writeFileSync(file, initial);
    const seen: Seen = { configs: [], invalid: [] };
    watcher = watchConfigFile(file, {
      load,
      onConfig: (config) => void seen.configs.push(config.pageSize),
      onInvalid: (error) => void seen.invalid.push(error),
      ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }),
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
    });
    return { file, seen };
  }

  test('a write is loaded and applied once', async () => {
    const { file, seen } = start(text(1), { pollMs: 100 });
    writeFileSync(file, text(2));
    await until(() => seen.configs.length > 0, 3000, 'the change');
    await sleep(400); // the poll sees the same change: it must not apply it again
    assert.deepEqual(seen.configs, [2]);
    assert.deepEqual(seen.invalid, []);
  });

  test('rewriting the text in force changes nothing', async () => {
    const { file, seen } = start(text(1), { pollMs: 100 });
    writeFileSync(file, text(1));
    await sleep(500);
    assert.deepEqual(seen.configs, []);
  });

  test('an editor saving by rename (atomic save) is seen, repeatedly', async () => {
    const { file, seen } = start(text(1));
    for (const version of [2, 3]) {
      const temp = join(dir, `.config.json.${version}.tmp`);
      writeFileSync(temp, text(version));
      renameSync(temp, file);
      await until(() => seen.configs.length === version - 1, 3000, `save ${version}`);
    }
    assert.deepEqual(seen.configs, [2, 3]);
  });

  test('a deleted file is waited for, not reported; its re-creation is applied', async () => {
    const { file, seen } = start(text(1));
    unlinkSync(file);
    await sleep(400);
    assert.deepEqual(seen, { configs: [], invalid: [] });
    writeFileSync(file, text(2));
    await until(() => seen.configs.length > 0, 3000, 'the re-created file');
    assert.deepEqual(seen.configs, [2]);
    // And it is still watched afterwards.
    writeFileSync(file, text(3));
    await until(() => seen.configs.length > 1, 3000, 'a later change');
    assert.deepEqual(seen.configs, [2, 3]);
  });

  test('a burst of writes gives one callback with the final text', async () => {
    const { file, seen } = start(text(0), { debounceMs: 150 });
    for (let version = 1; version <= 10; version++) {
      writeFileSync(file, text(version));
      await sleep(30);
    }
    await until(() => seen.configs.length > 0, 3000, 'the burst to settle');
    await sleep(400);
    assert.deepEqual(seen.configs, [10]);
  });

  test('invalid text is reported once and the next valid text is applied', async () => {
    const { file, seen } = start(text(1), { pollMs: 100 });
    writeFileSync(file, '{ "version": ');
    await until(() => seen.invalid.length > 0, 3000, 'the syntax error');
    writeFileSync(file, '{ "version": '); // the same bad text again: nothing new to say
    await sleep(400);
    assert.equal(seen.invalid.length, 1);
    assert.ok(seen.invalid[0] instanceof ConfigError);
    writeFileSync(file, text('two'));
    await until(() => seen.invalid.length > 1, 3000, 'the schema error');
    assert.match(seen.invalid[1]?.message ?? '', /version: expected a number/);
    writeFileSync(file, text(2));
    await until(() => seen.configs.length > 0, 3000, 'the fix');
    assert.deepEqual(seen.configs, [2]);
  });

  test('reverting a bad edit to the running text applies nothing; the bad edit again is news', async () => {
    const { file, seen } = start(text(1));
    writeFileSync(file, 'nope');
    await until(() => seen.invalid.length === 1, 3000, 'the bad edit');
    writeFileSync(file, text(1));
    await sleep(400);
    writeFileSync(file, 'nope');
    await until(() => seen.invalid.length === 2, 3000, 'the bad edit again');
    assert.deepEqual(seen.configs, []);
  });

  test('after close nothing is called', async () => {
    const { file, seen } = start(text(1), { pollMs: 100 });
    writeFileSync(file, text(2));
    watcher?.close(); // before the debounce fired
    watcher?.close(); // twice is fine
    writeFileSync(file, 'bad');
    await sleep(500);
    assert.deepEqual(seen, { configs: [], invalid: [] });
  });

  test('callbacks that throw or take time do not break the watch', async (t) => {
    dir = mkdtempSync(join(tmpdir(), 'mcpd-watch-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, text(1));
    const level = currentLogLevel();
    setLogLevel('silent'); // the watcher logs what the callbacks throw
    t.after(() => setLogLevel(level));
    const applied: number[] = [];
    let running = 0;
    let overlapped = false;
    watcher = watchConfigFile(file, {
      load,
      debounceMs: 30,
      onConfig: async (config) => {
        running++;
        overlapped ||= running > 1;
        await sleep(300);
        applied.push(config.pageSize);
        running--;
        if (config.pageSize === 2) throw new Error('apply failed');
      },
      onInvalid: () => {
        throw new Error('reporting failed');
      },
    });
    writeFileSync(file, 'bad');
    await sleep(150);
    writeFileSync(file, text(2));
    await sleep(150); // onConfig(2) is running now
    writeFileSync(file, text(3));
    await until(() => applied.length === 2, 3000, 'both changes');
    assert.deepEqual(applied, [2, 3]);
    assert.equal(overlapped, false, 'onConfig ran twice at once');
  });

  test('a file that differs from initialText (changed since it was loaded) is applied', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcpd-watch-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, text(2));
    const configs: number[] = [];
    watcher = watchConfigFile(file, {
      load,
      initialText: text(1),
      onConfig: (config) => void configs.push(config.pageSize),
      onInvalid: () => assert.fail('not invalid'),
    });
    await until(() => configs.length > 0, 3000, 'the initial check');
    await sleep(300);
    assert.deepEqual(configs, [2]);
  });

  test('a file in a folder that does not exist yet is found', async () => {
    const base = mkdtempSync(join(tmpdir(), 'mcpd-watch-'));
    dir = base;
    const { seen } = start(undefined, { file: join(base, 'later', 'config.json'), pollMs: 100 });
    mkdirSync(join(base, 'later'));
    writeFileSync(join(base, 'later', 'config.json'), text(5));
    await until(() => seen.configs.length > 0, 3000, 'the new file');
    // Once found, the folder is watched as well: a rename save is still seen.
    writeFileSync(join(base, 'later', 'tmp'), text(6));
    renameSync(join(base, 'later', 'tmp'), join(base, 'later', 'config.json'));
    await until(() => seen.configs.length > 1, 3000, 'the rename save');
    assert.deepEqual(seen.configs, [5, 6]);
  });
});
