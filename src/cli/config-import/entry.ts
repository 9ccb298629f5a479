/**
 * One client server entry → one director server entry (schema.ts `mcpServers.<id>`). What
 * maps is kept; every key without an equivalent is dropped with a line saying what to do
 * instead, and entries the director cannot run are skipped with the reason. Nothing is read
 * from disk here: an `envFile` is named, never opened, so its secrets stay where they are.
 */
import path from 'node:path';

import { describeKind } from '../../shared/config/problems.js';
import type { JsonObject, JsonValue } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import type { Dialect, Note, SourceServer } from './types.js';
import { translateVariables } from './variables.js';

export type MapResult =
  { ok: true; entry: JsonObject; notes: Note[] } | { ok: false; reason: string; notes: Note[] };

type Transport = 'stdio' | 'http' | 'sse';

/** `type` values clients write, by what they mean to the director. */
const TYPES: ReadonlyMap<string, Transport | { skip: string }> = new Map(
  Object.entries({
    stdio: 'stdio',
    http: 'http',
    'streamable-http': 'http',
    streamablehttp: 'http',
    streamable_http: 'http',
    sse: 'sse',
    ws: { skip: 'WebSocket servers are not supported by the director' },
    websocket: { skip: 'WebSocket servers are not supported by the director' },
    'ws-ide': { skip: "it is Claude Code's connection to an IDE, not a server" },
    'sse-ide': { skip: "it is Claude Code's connection to an IDE, not a server" },
  }),
);

const STDIO_KEYS = ['command', 'args', 'env', 'cwd'];
const REMOTE_KEYS = ['url', 'headers'];

const NO_APPROVAL =
  'the director does not ask before tool calls; each client keeps its own approval';
const NO_OAUTH =
  'the director does not sign in with OAuth: put a token in "headers", e.g. "Authorization": "Bearer ${TOKEN}"';

/** Advice for the keys that have no equivalent, by key. */
const DROP_ADVICE: ReadonlyMap<string, string> = new Map(
  Object.entries({
    envFile:
      'the director does not read env files (their secrets would be copied into its config): set these variables in the daemon\'s environment or copy them into "env"',
    autoApprove: NO_APPROVAL,
    alwaysAllow: NO_APPROVAL,
    trust: NO_APPROVAL,
    includeTools:
      'the director exposes all of a server\'s tools: restrict them with a profile ("profiles": {"<name>": {"tools": {"allow": [...]}}}, names as <prefix>__<tool>)',
    excludeTools:
      'the director exposes all of a server\'s tools: hide some with a profile ("profiles": {"<name>": {"tools": {"deny": [...]}}}, names as <prefix>__<tool>)',
    headersHelper:
      'the director sends fixed headers only: run the helper yourself and put its header in "headers" with a ${VAR}',
    oauth: NO_OAUTH,
    authProviderType: NO_OAUTH,
    dev: "VS Code's watch/debug mode has no equivalent: restart the daemon after changing the server",
    sandboxEnabled: 'the director does not sandbox servers (they get a minimal environment only)',
    sandbox: 'the director does not sandbox servers (they get a minimal environment only)',
    timeout:
      'the director\'s per-call limit is "timeoutMs" (milliseconds): set it by hand if needed',
  }),
);

export function mapEntry(
  server: SourceServer,
  dialect: Dialect,
  platform: NodeJS.Platform,
): MapResult {
  const notes: Note[] = [];
  const note = (verb: Note['verb'], message: string): void => {
    if (!notes.some((n) => n.message === message)) notes.push({ verb, message });
  };
  const raw = server.raw;
  if (!isJsonObject(raw)) {
    return { ok: false, reason: `expected an object, found ${describeKind(raw)}`, notes };
  }
  const transport = transportOf(raw, dialect);
  if (typeof transport !== 'string') return { ok: false, reason: transport.skip, notes };

  const context = { server, platform, note };
  const translate = (value: JsonValue | undefined): JsonValue | undefined =>
    mapStrings(value, (text) => translateVariables(text, dialect.variables, context));
  const entry: JsonObject = {};
  const handled = new Set(['type', 'disabled']);
  if (transport === 'stdio') {
    copy(entry, 'command', translate(raw['command']));
    copy(entry, 'args', translate(raw['args']));
    copy(entry, 'env', translate(raw['env']));
    copy(entry, 'cwd', workingDirectory(translate(raw['cwd']), entry, server, note));
    STDIO_KEYS.forEach((key) => handled.add(key));
  } else {
    entry['type'] = transport; // "url" alone would mean Streamable HTTP, not SSE
    const urlKey = dialect.geminiKeys && raw['httpUrl'] !== undefined ? 'httpUrl' : 'url';
    copy(entry, 'url', translate(raw[urlKey]));
    copy(entry, 'headers', translate(raw['headers']));
    handled.add(urlKey).add('headers');
    if (urlKey === 'httpUrl' && raw['url'] !== undefined) {
      note(
        'dropped',
        '"url": Gemini CLI connects to "httpUrl" when both are given, and so does this entry',
      );
      handled.add('url');
    }
  }
  if (dialect.geminiKeys && raw['timeout'] !== undefined) {
    const timeout = raw['timeout'];
    if (typeof timeout === 'number' && Number.isInteger(timeout) && timeout > 0) {
      entry['timeoutMs'] = timeout;
      handled.add('timeout');
    }
  }
  if (typeof raw['disabled'] === 'boolean') entry['disabled'] = raw['disabled'];
  else if (raw['disabled'] !== undefined) handled.delete('disabled');

  for (const [key, value] of Object.entries(raw)) {
    if (!handled.has(key)) note('dropped', dropMessage(key, value, transport));
  }
  return { ok: true, entry, notes };
}

function transportOf(raw: JsonObject, dialect: Dialect): Transport | { skip: string } {
  const type = raw['type'];
  let transport: Transport | undefined;
  if (type !== undefined) {
    const known = typeof type === 'string' ? TYPES.get(type.toLowerCase()) : undefined;
    if (known === undefined) {
      return {
        skip: `unknown transport "type": ${JSON.stringify(type)} (expected stdio, http or sse)`,
      };
    }
    if (typeof known !== 'string') return known;
    transport = known;
  } else if (dialect.geminiKeys && raw['httpUrl'] !== undefined) {
    transport = 'http';
  } else if (raw['url'] !== undefined) {
    transport = dialect.plainUrl;
  } else if (raw['command'] !== undefined) {
    transport = 'stdio';
  } else {
    return { skip: 'it has neither "command" (a program to run) nor "url" (a remote server)' };
  }
  const url = dialect.geminiKeys ? (raw['httpUrl'] ?? raw['url']) : raw['url'];
  if (transport !== 'stdio' && typeof url === 'string' && /^wss?:\/\//i.test(url)) {
    return { skip: 'WebSocket servers are not supported by the director' };
  }
  return transport;
}

/**
 * A project's servers run in its folder, as their client starts them there; the director's
 * default would be its own config folder. The folder is set only when the entry names files
 * relative to it, so the same `npx` server added to many Claude Code projects stays one entry.
 */
function workingDirectory(
  cwd: JsonValue | undefined,
  entry: JsonObject,
  server: SourceServer,
  note: (verb: Note['verb'], message: string) => void,
): JsonValue | undefined {
  const relative = typeof cwd === 'string' && !path.isAbsolute(cwd) && !/^[~$]/.test(cwd);
  if (server.projectDir === undefined) {
    if (relative) {
      note(
        'note',
        `cwd ${JSON.stringify(cwd)} is relative: the director resolves it against its config file's folder; make it absolute if that is not what you mean`,
      );
    }
    return cwd;
  }
  if (relative) return path.resolve(server.projectDir, cwd);
  if (cwd !== undefined) return cwd;
  const words = [entry['command'], ...(Array.isArray(entry['args']) ? entry['args'] : [])];
  return words.some((word) => typeof word === 'string' && namesRelativeFile(word))
    ? server.projectDir
    : undefined;
}

/** `./server.js`, `../x`, `build/index.js`, `server.py`: a file relative to the working folder. */
export function namesRelativeFile(word: string): boolean {
  if (/^\.\.?[\\/]/.test(word)) return true;
  if (/^[-@$~]/.test(word) || word.includes('://') || path.isAbsolute(word)) return false;
  if (/[\\/]/.test(word)) return /\.[A-Za-z0-9]+$/.test(word);
  return /^[\w.-]+\.(js|mjs|cjs|ts|py|sh|rb|jar|exe)$/.test(word);
}

function dropMessage(key: string, value: JsonValue, transport: Transport): string {
  if (STDIO_KEYS.includes(key) && transport !== 'stdio') {
    return `"${key}": it applies to stdio servers only and this one is remote`;
  }
  if (REMOTE_KEYS.includes(key) || key === 'httpUrl') {
    return `"${key}": it applies to remote servers only and this one runs a command`;
  }
  if (key === 'disabled') return `"disabled": expected true or false, found ${describeKind(value)}`;
  const shown = key === 'envFile' && typeof value === 'string' ? ` (${JSON.stringify(value)})` : '';
  return `"${key}"${shown}: ${DROP_ADVICE.get(key) ?? "it has no equivalent in the director's config"}`;
}

/** Empty `args`, `env` and `headers` mean the default, so they are left out. */
function copy(entry: JsonObject, key: string, value: JsonValue | undefined): void {
  if (value === undefined) return;
  const empty = Array.isArray(value)
    ? value.length === 0
    : isJsonObject(value) && Object.keys(value).length === 0;
  if (!empty || key === 'command' || key === 'cwd' || key === 'url') entry[key] = value;
}

/** `value` with `map` applied to every string in it (keys are left alone). */
function mapStrings(
  value: JsonValue | undefined,
  map: (text: string) => string,
): JsonValue | undefined {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map) ?? null);
  if (isJsonObject(value)) {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) out[key] = mapStrings(item, map) ?? null;
    return out;
  }
  return value;
}
