/** The client formats `config import` knows, by their `<client>` argument. */
import { claudeCode } from './claude-code.js';
import { claudeDesktop } from './claude-desktop.js';
import { cursor } from './cursor.js';
import { gemini } from './gemini.js';
import type { ClientFormat, ClientName } from './types.js';
import { vscode } from './vscode.js';

export const CLIENTS: Record<ClientName, ClientFormat> = {
  'claude-desktop': claudeDesktop,
  'claude-code': claudeCode,
  cursor,
  vscode,
  gemini,
};
