/**
 * The data folder (`dataDir` in the config, `--data-dir` on the command line) holds the
 * analytics store and the records of backend process groups. It is made and tried once at
 * start, so a path under a file or in a read-only place is one clear line naming the
 * setting, not an error deep inside LMDB (or a daemon that never starts listening).
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function prepareDataDir(dir: string): void {
  const probe = join(dir, `.write-test-${process.pid}`);
  try {
    makeFolders(dir);
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new Error(
      `cannot use the data folder ${dir} (${reason}): set "dataDir" in the config or --data-dir to a folder this user can create and write`,
    );
  }
}

/**
 * `mkdir -p`, one level at a time: Node 20's recursive mkdir never returns when a level
 * cannot be created in a place like /proc (it retries ENOENT for ever).
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let at = dir; !existsSync(at); at = dirname(at)) {
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const folder of missing) mkdirSync(folder);
}
