/**
 * VS Code: `.vscode/mcp.json` or the user profile's `mcp.json` list servers under `servers`
 * (not `mcpServers`), with `inputs` the editor prompts for; older setups keep the same under
 * `"mcp"` in settings.json. Entries have `type` stdio|http|sse and the editor's variables.
 */
import path from 'node:path';

import type { JsonObject } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import { entriesAt } from './source-entries.js';
import { appDataDir, pathsOf } from './paths.js';
import type { ClientFormat } from './types.js';

export const vscode: ClientFormat = {
  name: 'vscode',
  label: 'VS Code',
  serversAt: '"servers" (or "mcp": {"servers": …} in settings.json)',
  dialect: { variables: 'editor', plainUrl: 'http' },
  defaultPaths: (host) => {
    const p = pathsOf(host);
    const user = p.join(appDataDir(host), 'Code', 'User');
    return [p.join(user, 'mcp.json'), p.join(user, 'settings.json')];
  },
  read: (document, file) => {
    const inSettings = isJsonObject(document['mcp']) && document['servers'] === undefined;
    const root = inSettings ? ['mcp'] : [];
    const folder = path.dirname(file);
    const projectDir = path.basename(folder) === '.vscode' ? path.dirname(folder) : undefined;
    const inputs = inputsOf(inSettings ? document['mcp'] : document);
    return entriesAt(document, [...root, 'servers'], { projectDir, inputs });
  },
};

/** `inputs: [{id, description, …}]` as id → description. */
function inputsOf(section: unknown): Map<string, string> {
  const inputs = new Map<string, string>();
  const list = isJsonObject(section) ? section['inputs'] : undefined;
  if (!Array.isArray(list)) return inputs;
  for (const input of list.filter(isJsonObject) as JsonObject[]) {
    const { id, description } = input;
    if (typeof id === 'string') inputs.set(id, typeof description === 'string' ? description : id);
  }
  return inputs;
}
