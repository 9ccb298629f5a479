/**
 * `${VAR}` expansion and path resolution, as the config file's values get them: shell-like
 * defaults for variables, `~` for the home folder, relative paths against the config's folder.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';

import { homeDir } from './defaults.js';

const NO_NAMES: ReadonlySet<string> = new Set();
const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Expands `${VAR}` and `${VAR:-default}` as POSIX shells do: the default also replaces a
 * variable set to "". Anything else containing `$` is left as written. `onUnset` is told once
 * of each variable that is unset and has no default; it expands to "".
 */
export function expandVariables(
  text: string,
  env: NodeJS.ProcessEnv,
  onUnset: (name: string) => void,
  /** Names left as written (a session's, filled in later: project-refs.ts). */
  keep: ReadonlySet<string> = NO_NAMES,
): string {
  const reported = new Set<string>();
  return text.replace(VARIABLE, (match, name: string, fallback: string | undefined) => {
    if (keep.has(name)) return match;
    const value = env[name];
    if (fallback !== undefined) return value === undefined || value === '' ? fallback : value;
    if (value === undefined && !reported.has(name)) {
      reported.add(name);
      onUnset(name);
    }
    return value ?? '';
  });
}

/** `~` and `~/x` mean the home folder (no shell expands them in JSON); relative → `baseDir`. */
export function resolvePath(value: string, baseDir: string, env: NodeJS.ProcessEnv): string {
  if (value === '~') return homeDir(env);
  if (value.startsWith('~/')) return path.join(homeDir(env), value.slice(2));
  return path.resolve(baseDir, value);
}

/** The folder with every link resolved; as given when it does not exist (yet). */
export function realOrSame(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}
