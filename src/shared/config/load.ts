/**
 * Config in one direction (docs/architecture.md#config-flows-one-way): locate the file →
 * parse JSONC → validate the shape (schema.ts) → fill defaults and expand (normalize.ts) →
 * apply CLI overrides → deep-freeze. Every problem of a file is collected and thrown as one
 * `ConfigError`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { JsoncNode, JsoncSyntaxError } from '../jsonc.js';
import { findNode, readJsonc } from '../jsonc.js';
import { deepFreeze } from './deep-freeze.js';
import { CONFIG_PATH_ENV, defaultConfigPath, embeddedDefaultConfig } from './defaults.js';
import { resolvePath } from './expand.js';
import { normalizeConfig } from './normalize.js';
import { withProjectFiles } from './project-files.js';
import { logger } from '../log.js';
import type { ConfigProblem } from './problems.js';
import { ConfigError, formatPath } from './problems.js';
import { overrideSchemas } from './schema.js';
import { validateConfigFile, validateValue, wellFormedParts } from './validate.js';
import type { DirectorConfig } from './types.js';

export { ConfigError, formatProblem } from './problems.js';
export type { ConfigProblem } from './problems.js';

/** Command-line flags; they win over the file. Undefined means "not given". */
export interface ConfigOverrides {
  port?: number | undefined;
  host?: string | undefined;
  dataDir?: string | undefined;
  workers?: number | undefined;
}

export interface LoadConfigOptions {
  /** An explicit file (`--config`); it must exist. */
  configPath?: string | undefined;
  /** Where `${VAR}`, MCP_DIRECTOR_CONFIG, XDG_* and HOME are read; process.env by default. */
  env?: NodeJS.ProcessEnv | undefined;
  overrides?: ConfigOverrides | undefined;
}

const log = logger('config');

/** Label of the problems found in `overrides`. */
const COMMAND_LINE = '<command line>';

/**
 * The config to run with: `configPath`, else $MCP_DIRECTOR_CONFIG, else the default path if
 * that file exists, else the embedded defaults (a demo server). Throws `ConfigError`.
 */
export function loadConfig(options: LoadConfigOptions = {}): DirectorConfig {
  return loadConfigFile(options).config;
}

/**
 * `loadConfig`, plus the file and text it came from (both undefined for the embedded
 * defaults), which `serve` watches for changes.
 */
export function loadConfigFile(options: LoadConfigOptions = {}): {
  config: DirectorConfig;
  file: string | undefined;
  text: string | undefined;
} {
  const env = options.env ?? process.env;
  const overrides = options.overrides ?? {};
  checkOverrides(overrides);
  const location = locateConfigFile(options.configPath, env);
  const text = readConfigFile(location);
  const config =
    text === undefined ? embeddedDefaultConfig(env) : parseConfigText(text, location.path, env);
  return {
    config: deepFreeze(applyOverrides(config, overrides, env)),
    file: text === undefined ? undefined : location.path,
    text,
  };
}

/**
 * The config file's new text (hot reload), read as `loadConfig` read the file: the same
 * environment and command-line overrides. Throws `ConfigError`.
 */
export function reloadConfigText(
  text: string,
  file: string,
  options: LoadConfigOptions = {},
): DirectorConfig {
  const env = options.env ?? process.env;
  return deepFreeze(applyOverrides(parseConfigText(text, file, env), options.overrides ?? {}, env));
}

/**
 * Parses and normalizes config text as if read from `file`, which names it in messages and
 * anchors relative paths. Throws `ConfigError` listing every problem.
 */
export function parseConfigText(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): DirectorConfig {
  const parsed = readConfigJsonc(text);
  // A file that does not parse has no reliable shape: report only its syntax errors.
  if (parsed.syntaxProblems.length > 0) throw new ConfigError(file, parsed.syntaxProblems);
  const validated = validateConfigFile(parsed.value);
  const problems = [...parsed.keyProblems, ...validated.problems];
  // When the shape is wrong somewhere, the servers that are fine still get their semantic
  // checks (unset variables, prefixes), so one run reports everything.
  const normalized = normalizeConfig(validated.value ?? wellFormedParts(parsed.value), {
    source: file,
    baseDir: path.dirname(path.resolve(file)),
    env,
    serverOrder: parsed.serverOrder,
  });
  problems.push(...normalized.problems);
  if (problems.length > 0) throw new ConfigError(file, problems);
  // A project's own file costs only its own servers when it is wrong (project-files.ts).
  return deepFreeze(withProjectFiles(normalized.config, env, (message) => log.warn(message)));
}

interface ConfigLocation {
  path: string;
  /** A missing explicit file is an error; a missing default file means "use the defaults". */
  namedBy: 'option' | 'env' | 'default';
}

function locateConfigFile(configPath: string | undefined, env: NodeJS.ProcessEnv): ConfigLocation {
  if (configPath) return { path: path.resolve(configPath), namedBy: 'option' };
  const fromEnv = env[CONFIG_PATH_ENV];
  if (fromEnv) return { path: path.resolve(fromEnv), namedBy: 'env' };
  return { path: defaultConfigPath(env), namedBy: 'default' };
}

/** The file's text, or undefined when the default file does not exist. */
function readConfigFile(location: ConfigLocation): string | undefined {
  try {
    return readFileSync(location.path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && location.namedBy === 'default') return undefined;
    let message = `cannot read the config file: ${(error as Error).message}`;
    if (code === 'ENOENT') {
      message = 'the config file does not exist';
      if (location.namedBy === 'env') message += ` (named by ${CONFIG_PATH_ENV})`;
    } else if (code === 'EISDIR') {
      message = 'expected a config file, found a folder';
    }
    throw new ConfigError(location.path, [{ path: '', message }]);
  }
}

function checkOverrides(overrides: ConfigOverrides): void {
  const checks: [keyof ConfigOverrides, string][] = [
    ['port', '--port'],
    ['host', '--host'],
    ['workers', '--workers'],
    ['dataDir', '--data-dir'],
  ];
  const problems = checks.flatMap(([key, flag]) =>
    overrides[key] === undefined ? [] : validateValue(overrideSchemas[key], overrides[key], flag),
  );
  if (problems.length > 0) throw new ConfigError(COMMAND_LINE, problems);
}

function applyOverrides(
  config: DirectorConfig,
  overrides: ConfigOverrides,
  env: NodeJS.ProcessEnv,
): DirectorConfig {
  return {
    ...config,
    listen: {
      host: overrides.host ?? config.listen.host,
      port: overrides.port ?? config.listen.port,
    },
    workers: overrides.workers ?? config.workers,
    // A flag is relative to where the command runs, not to the config file.
    dataDir:
      overrides.dataDir === undefined
        ? config.dataDir
        : resolvePath(overrides.dataDir, process.cwd(), env),
  };
}

// ─────────────────────────────────── JSONC ───────────────────────────────────

interface ParsedJsonc {
  value: unknown;
  syntaxProblems: ConfigProblem[];
  /** Duplicate keys and `__proto__`: valid JSON whose meaning would silently change. */
  keyProblems: ConfigProblem[];
  serverOrder: string[] | undefined;
}

function readConfigJsonc(rawText: string): ParsedJsonc {
  const { text, tree, value, errors } = readJsonc(rawText);
  // One error per line: after the first, the parser's recovery mostly reports echoes of it.
  const seenLines = new Set<number>();
  const syntaxProblems: ConfigProblem[] = [];
  for (const error of errors) {
    if (seenLines.has(error.line)) continue;
    seenLines.add(error.line);
    syntaxProblems.push(syntaxProblem(text, error));
  }
  const keyProblems: ConfigProblem[] = [];
  checkKeys(tree, [], keyProblems);
  const servers = findNode(tree, ['mcpServers']);
  const serverOrder =
    servers?.type === 'object'
      ? (servers.children ?? []).map((property) => String(property.children?.[0]?.value))
      : undefined;
  return { value, syntaxProblems, keyProblems, serverOrder };
}

const syntaxExpectations: ReadonlyMap<string, string> = new Map(
  Object.entries({
    InvalidSymbol: 'expected a JSON value',
    InvalidNumberFormat: 'expected a number',
    PropertyNameExpected: 'expected a key in double quotes',
    ValueExpected: 'expected a value',
    ColonExpected: 'expected a colon',
    CommaExpected: 'expected a comma',
    CloseBraceExpected: 'expected } to close the object',
    CloseBracketExpected: 'expected ] to close the array',
    EndOfFileExpected: 'expected the end of the file',
    InvalidCommentToken: 'expected a comment',
    UnexpectedEndOfComment: 'expected */ to close the comment',
    UnexpectedEndOfString: 'expected " to close the string',
    UnexpectedEndOfNumber: 'expected a digit',
    InvalidUnicode: 'expected four hex digits after \\u',
    InvalidEscapeCharacter: 'expected a valid escape after \\',
    InvalidCharacter: 'expected no control characters in a string',
  }),
);

function syntaxProblem(text: string, error: JsoncSyntaxError): ConfigProblem {
  const { code, offset, length, line, column } = error;
  const token = text.slice(offset, offset + Math.max(length, 1));
  const shown = token.split(/\r?\n/)[0]!.slice(0, 20);
  let found = `\`${shown}\``;
  if (token === '') found = 'the end of the file';
  else if (shown === '') found = 'the end of the line';
  const expected = syntaxExpectations.get(code) ?? code;
  return { path: '', message: `syntax error: ${expected}, found ${found}`, line, column };
}

function checkKeys(
  node: JsoncNode | undefined,
  at: (string | number)[],
  problems: ConfigProblem[],
) {
  if (node?.type === 'array') {
    node.children?.forEach((child, index) => checkKeys(child, [...at, index], problems));
  }
  if (node?.type !== 'object') return;
  const seen = new Set<string>();
  for (const property of node.children ?? []) {
    const key = String(property.children?.[0]?.value);
    const where = [...at, key];
    if (key === '__proto__') {
      problems.push({ path: formatPath(where), message: 'the key "__proto__" is not allowed' });
    } else if (seen.has(key)) {
      problems.push({
        path: formatPath(where),
        message: 'duplicate key; expected each key once (JSON keeps only the last)',
      });
    }
    seen.add(key);
    checkKeys(property.children?.[1], where, problems);
  }
}
