#!/usr/bin/env node
/**
 * `npm run build`'s second step: builds the web dashboard (dashboard/, Svelte + Vite) into
 * dist/dashboard/, which the daemon serves at / (docs/architecture.md#dashboard). Skipped when
 * the build is newer than every file under dashboard/ and the lock file, so `npm test`'s build
 * check stays quick; `--force` builds anyway.
 *
 * Plain JavaScript because it runs before anything is compiled.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const source = path.join(root, 'dashboard');
const stamp = path.join(root, 'dist', '.dashboard-built');

function newest(folder) {
  let latest = statSync(folder).mtimeMs;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}

/** When the last build finished; undefined when there is none (or its output is gone). */
function builtAt() {
  try {
    statSync(path.join(root, 'dist', 'dashboard', 'index.html'));
    return statSync(stamp).mtimeMs;
  } catch {
    return undefined;
  }
}

const built = builtAt();
const inputs = Math.max(newest(source), statSync(path.join(root, 'package-lock.json')).mtimeMs);
if (!process.argv.includes('--force') && built !== undefined && built >= inputs) process.exit(0);

const { build } = await import('vite');
await build({
  configFile: path.join(source, 'vite.config.ts'),
  logLevel: process.env.npm_config_loglevel === 'silent' ? 'silent' : 'warn',
});
writeFileSync(stamp, `${new Date().toISOString()}\n`);
