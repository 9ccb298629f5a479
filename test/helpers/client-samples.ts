/**
 * The sample config files of each MCP client under test/fixtures/client-configs, with the
 * golden (`expected/<name>.json`) each imports to. Shared by the import tests of the module
 * and of the CLI.
 */
import path from 'node:path';
import type { ClientName } from '../../src/cli/config-import/types.js';
import { REPO_ROOT } from './daemon.js';

export const CLIENT_CONFIGS = path.join(REPO_ROOT, 'test/fixtures/client-configs');

/** [golden name, client, sample path under CLIENT_CONFIGS]. */
export const CLIENT_SAMPLES: readonly (readonly [string, ClientName, string])[] = [
  ['claude-desktop', 'claude-desktop', 'claude-desktop/claude_desktop_config.json'],
  ['claude-code', 'claude-code', 'claude-code/.claude.json'],
  ['claude-code-project', 'claude-code', 'claude-code/shop/.mcp.json'],
  ['cursor', 'cursor', 'cursor/mcp.json'],
  ['vscode', 'vscode', 'vscode/shop/.vscode/mcp.json'],
  ['vscode-settings', 'vscode', 'vscode/settings.json'],
  ['gemini', 'gemini', 'gemini/settings.json'],
];
