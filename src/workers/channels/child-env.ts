/**
 * The environment a stdio backend starts with: an allow-list of the daemon's own
 * variables plus the server's configured `env` (docs/architecture.md#processes-and-failure).
 * The daemon's environment may hold tokens for other servers; a backend sees only what the list
 * names and what its own config adds. The list follows the SDK's `getDefaultEnvironment`
 * (itself inspired by sudo's defaults), plus locale, time zone and temp-dir variables that
 * tools commonly need.
 */

const POSIX_INHERITED = [
  'HOME',
  'LOGNAME',
  'PATH',
  'SHELL',
  'TERM',
  'USER',
  'LANG',
  'TMPDIR',
  'TZ',
];

const WINDOWS_INHERITED = [
  'APPDATA',
  'HOMEDRIVE',
  'HOMEPATH',
  'LOCALAPPDATA',
  'PATH',
  'PROCESSOR_ARCHITECTURE',
  'SYSTEMDRIVE',
  'SYSTEMROOT',
  'TEMP',
  'TMP',
  'USERNAME',
  'USERPROFILE',
  'PROGRAMFILES',
];

/** `LC_ALL`, `LC_CTYPE`, …: the locale decides how a child decodes and prints text. */
const LOCALE_PREFIX = 'LC_';

export function childEnvironment(
  configured: Record<string, string>,
  parent: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  const names = process.platform === 'win32' ? WINDOWS_INHERITED : POSIX_INHERITED;
  const inherit = (key: string): void => {
    const value = parent[key];
    // Bash exports functions as `() { …`; passing them on is a known injection vector.
    if (value === undefined || value.startsWith('()')) return;
    env[key] = value;
  };
  for (const key of names) inherit(key);
  if (process.platform !== 'win32') {
    for (const key of Object.keys(parent)) if (key.startsWith(LOCALE_PREFIX)) inherit(key);
  }
  return { ...env, ...configured };
}
