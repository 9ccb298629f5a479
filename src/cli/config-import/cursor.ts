/**
 * Cursor: `~/.cursor/mcp.json` (user) or `<project>/.cursor/mcp.json`, in `mcpServers`:
 * command/args/env/envFile or url/headers, with the editor's `${env:VAR}`, `${userHome}` and
 * `${workspaceFolder}` variables.
 */
import path from 'node:path';

import { entriesAt } from './source-entries.js';
import { pathsOf, userHome } from './paths.js';
import type { ClientFormat } from './types.js';

export const cursor: ClientFormat = {
  name: 'cursor',
  label: 'Cursor',
  serversAt: '"mcpServers"',
  dialect: { variables: 'editor', plainUrl: 'http' },
  defaultPaths: (host) => [pathsOf(host).join(userHome(host), '.cursor', 'mcp.json')],
  read: (document, file, host) => {
    const folder = path.dirname(file);
    const project = path.dirname(folder);
    // ~/.cursor/mcp.json has the same shape as a project's, but belongs to no project.
    const isProject = path.basename(folder) === '.cursor' && project !== userHome(host);
    return entriesAt(document, ['mcpServers'], isProject ? { projectDir: project } : {});
  },
};
