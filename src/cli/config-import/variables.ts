/**
 * Rewrites a client's variable syntax into the director's `${VAR}` (expand.ts expands it
 * from the daemon's environment). What only the client can resolve (VS Code prompts for
 * `${input:…}`, editors know their workspace) becomes an environment variable or stays as
 * written, and each such case is reported so the user knows what to set or replace.
 */
import path from 'node:path';

import type { SourceServer, VariableSyntax } from './types.js';

export interface VariableContext {
  server: SourceServer;
  platform: NodeJS.Platform;
  /** Called once per distinct remark; the caller turns it into a report line. */
  note(verb: 'variable' | 'note', message: string): void;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const EDITOR_VARIABLE = /\$\{([^}]*)\}/g;
const BARE_VARIABLE = /\$([A-Za-z_][A-Za-z0-9_]*)/g;

export function translateVariables(
  text: string,
  syntax: VariableSyntax,
  context: VariableContext,
): string {
  if (syntax === 'gemini') return text.replace(BARE_VARIABLE, (_m, name: string) => `\${${name}}`);
  if (syntax === 'editor') {
    return text.replace(EDITOR_VARIABLE, (match, inner: string) =>
      editorVariable(match, inner, context),
    );
  }
  // Claude Code writes `${VAR}` and `${VAR:-default}` exactly as the director does.
  return text;
}

/**
 * An environment variable name for a VS Code input id: `github-token` → `GITHUB_TOKEN`, so
 * it reads like the variables people already set (and matches the director's `${NAME}`).
 */
export function inputVariableName(id: string): string {
  const name = id.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

function editorVariable(match: string, inner: string, context: VariableContext): string {
  const { server } = context;
  const colon = inner.indexOf(':');
  const kind = colon === -1 ? inner : inner.slice(0, colon);
  const argument = colon === -1 ? '' : inner.slice(colon + 1);
  if (kind === 'env' && ENV_NAME.test(argument)) return `\${${argument}}`;
  if (kind === 'input' && argument !== '') {
    const name = inputVariableName(argument);
    const asked = server.inputs?.get(argument);
    const prompt = asked === undefined ? '' : ` (the client asked for "${asked}")`;
    context.note(
      'variable',
      `${match} became \${${name}}${prompt}: a daemon cannot prompt, so set ${name} in its environment`,
    );
    return `\${${name}}`;
  }
  if (inner === 'userHome') return context.platform === 'win32' ? '${USERPROFILE}' : '${HOME}';
  if (inner === 'pathSeparator' || inner === '/') return context.platform === 'win32' ? '\\' : '/';
  if (inner === 'workspaceFolder' || inner === 'workspaceFolderBasename') {
    if (server.projectDir !== undefined) {
      return inner === 'workspaceFolder' ? server.projectDir : path.basename(server.projectDir);
    }
    context.note(
      'note',
      `${match} is the editor's open folder, which the daemon does not have: replace it with an absolute path`,
    );
    return match;
  }
  // `${HOME}`-style names already mean an environment variable to the director.
  if (ENV_NAME.test(inner)) return match;
  context.note(
    'note',
    `${match} can only be resolved by the editor: replace it with its value (kept as written)`,
  );
  return match;
}
