/**
 * Claude Desktop's `claude_desktop_config.json`: `mcpServers` of {command, args, env}, used
 * as written (no variables). Its folder is the app's settings folder (paths.ts).
 */
import { entriesAt } from './source-entries.js';
import { appDataDir, pathsOf } from './paths.js';
import type { ClientFormat } from './types.js';

export const claudeDesktop: ClientFormat = {
  name: 'claude-desktop',
  label: 'Claude Desktop',
  serversAt: '"mcpServers"',
  dialect: { variables: 'literal', plainUrl: 'http' },
  defaultPaths: (host) => [
    pathsOf(host).join(appDataDir(host), 'Claude', 'claude_desktop_config.json'),
  ],
  read: (document) => entriesAt(document, ['mcpServers']),
};
