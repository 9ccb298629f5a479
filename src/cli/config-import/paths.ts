/**
 * The folders clients keep their user config in, per platform. Paths are built with the
 * target platform's separator, so a test on Linux can check the Windows ones.
 */
import os from 'node:os';
import path from 'node:path';

import { homeDir } from '../../shared/config/defaults.js';
import type { Host } from './types.js';

export function pathsOf(host: Host): path.PlatformPath {
  return host.platform === 'win32' ? path.win32 : path.posix;
}

/** ~ : %USERPROFILE% on Windows, $HOME elsewhere. */
export function userHome(host: Host): string {
  if (host.platform === 'win32') return host.env['USERPROFILE'] || os.homedir();
  return homeDir(host.env);
}

/**
 * Where Electron apps (Claude Desktop, VS Code) keep their settings: %APPDATA% on Windows,
 * ~/Library/Application Support on macOS, $XDG_CONFIG_HOME (else ~/.config) on Linux.
 */
export function appDataDir(host: Host): string {
  const p = pathsOf(host);
  const home = userHome(host);
  if (host.platform === 'win32') return host.env['APPDATA'] || p.join(home, 'AppData', 'Roaming');
  if (host.platform === 'darwin') return p.join(home, 'Library', 'Application Support');
  const xdg = host.env['XDG_CONFIG_HOME'];
  return xdg && p.isAbsolute(xdg) ? xdg : p.join(home, '.config');
}
