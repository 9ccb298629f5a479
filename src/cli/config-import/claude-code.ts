/**
 * Claude Code: `~/.claude.json` holds user-scope servers in `mcpServers` and local-scope ones
 * per project in `projects["<path>"].mcpServers`; a project's shared ones are in its
 * `.mcp.json`. Entries have `type` stdio|http|sse, command/args/env or url/headers, and use
 * `${VAR}` and `${VAR:-default}` as the director does.
 */
import path from 'node:path';

import { isJsonObject } from '../../shared/json.js';
import { entriesAt } from './source-entries.js';
import { pathsOf, userHome } from './paths.js';
import type { ClientFormat, SourceServer } from './types.js';

export const claudeCode: ClientFormat = {
  name: 'claude-code',
  label: 'Claude Code',
  serversAt: '"mcpServers" or "projects[<path>].mcpServers"',
  dialect: { variables: 'shell', plainUrl: 'http' },
  defaultPaths: (host) => [pathsOf(host).join(userHome(host), '.claude.json')],
  read: (document, file) => {
    // A project's .mcp.json: its servers start in the project folder.
    const projectDir = path.basename(file) === '.mcp.json' ? path.dirname(file) : undefined;
    const servers: SourceServer[] = entriesAt(document, ['mcpServers'], { projectDir });
    const projects = document['projects'];
    if (isJsonObject(projects)) {
      for (const projectPath of Object.keys(projects)) {
        servers.push(
          ...entriesAt(document, ['projects', projectPath, 'mcpServers'], {
            projectDir: projectPath,
          }),
        );
      }
    }
    return servers;
  },
};
