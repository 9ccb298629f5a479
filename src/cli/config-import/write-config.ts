/**
 * Writes the merged config: a timestamped backup of the old file first, then the new text
 * through a temporary file and a rename, so a crash leaves the old file or the new one,
 * never half of one. Writes go through a symlink to its target (dotfile managers link
 * configs), and keep the file's mode; a new file is private, since it may hold tokens.
 */
import {
  chmodSync,
  constants,
  copyFileSync,
  mkdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

/** `20261121T101500Z`: sortable, and without the colons Windows forbids in names. */
export function backupStamp(now: Date): string {
  return now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** Copies `file` to `<file>.bak-<UTC timestamp>` (a numbered one if that exists); its path. */
export function backUp(file: string, now: Date): string {
  const base = `${file}.bak-${backupStamp(now)}`;
  for (let n = 1; ; n++) {
    const target = n === 1 ? base : `${base}-${n}`;
    try {
      copyFileSync(file, target, constants.COPYFILE_EXCL);
      return target;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

export function writeConfig(file: string, text: string): void {
  let target = file;
  let mode = 0o600;
  try {
    target = realpathSync(file);
    mode = statSync(target).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(path.dirname(file), { recursive: true });
  }
  const temporary = `${target}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, text, { mode, flag: 'wx' });
    chmodSync(temporary, mode); // the umask narrowed `mode` at creation
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
