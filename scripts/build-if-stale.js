#!/usr/bin/env node
/**
 * `npm start`'s first step: compile dist/ only when a source changed since the last build.
 *
 * `npm install` already builds (the `prepare` script), so on a fresh clone `npm start` finds a
 * current build and starts the daemon at once. A build is current when `tsc -b`'s record of it
 * (dist/tsconfig.tsbuildinfo) is newer than every TypeScript file and folder the tsconfig
 * includes and the tsconfig itself: comparing those times is a walk of a few hundred entries,
 * far cheaper than loading the compiler to ask it. When a build is needed, one line says so
 * (a full build takes about 30 s on 2 cores) and `tsc -b` recompiles only what changed.
 *
 * Plain JavaScript because it runs before anything is compiled.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const buildInfo = path.join(root, 'dist', 'tsconfig.tsbuildinfo');
const inputFolders = ['src', 'test', 'bench'];

/** The latest modification time of a folder, its subfolders and the .ts files in them. */
function newest(folder) {
  let latest = statSync(folder).mtimeMs;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(full));
    else if (entry.name.endsWith('.ts')) latest = Math.max(latest, statSync(full).mtimeMs);
  }
  return latest;
}

function builtAt() {
  try {
    return statSync(buildInfo).mtimeMs;
  } catch {
    return undefined;
  }
}

const built = builtAt();
const sources = Math.max(
  statSync(path.join(root, 'tsconfig.json')).mtimeMs,
  ...inputFolders.map((f) => newest(path.join(root, f))),
);
if (built !== undefined && built >= sources) process.exit(0);

process.stderr.write(
  built === undefined
    ? 'mcp-director: building dist/ (first run: about 30 s)…\n'
    : 'mcp-director: sources changed since the last build: rebuilding dist/ (a few seconds, up to 30 s)…\n',
);
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  process.stderr.write(
    'mcp-director: cannot build: TypeScript is not installed (run `npm install`, with dev dependencies)\n',
  );
  process.exit(1);
}
const result = spawnSync(process.execPath, [tsc, '-b', 'tsconfig.json'], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
