/**
 * Gemini CLI's `~/.gemini/settings.json`: `mcpServers` with command/args/env/cwd, `url`
 * (HTTP+SSE) or `httpUrl` (Streamable HTTP) with headers, `timeout` in milliseconds, and
 * `$VAR`/`${VAR}` in values; `trust`, `includeTools` and `excludeTools` have no equivalent.
 */
import { entriesAt } from './source-entries.js';
import { pathsOf, userHome } from './paths.js';
import type { ClientFormat } from './types.js';

export const gemini: ClientFormat = {
  name: 'gemini',
  label: 'Gemini CLI',
  serversAt: '"mcpServers"',
  dialect: { variables: 'gemini', plainUrl: 'sse', geminiKeys: true },
  defaultPaths: (host) => [pathsOf(host).join(userHome(host), '.gemini', 'settings.json')],
  read: (document) => entriesAt(document, ['mcpServers']),
};
