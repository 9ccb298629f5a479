/**
 * A parsed config file checked against the schema (schema.ts), every issue turned into a
 * problem that names the JSON path, what was expected and what was found; and the parts of a
 * malformed file that are fine on their own, so one run reports every problem.
 */
import { z } from 'zod';

import { isJsonObject } from '../json.js';
import { PROFILE_NAME_PATTERN, profileSchema, tokenSchema } from './access-schema.js';
import type { ConfigProblem } from './problems.js';
import { closestKey, describeKind, describeValue, formatPath } from './problems.js';
import { configFileSchema } from './schema.js';
import type { ConfigFile } from './schema.js';
import { SERVER_ID_PATTERN, serverSchema } from './server-schema.js';

/** Validates the parsed file; `value` is set only when the shape is right. */
export function validateConfigFile(raw: unknown): {
  value: ConfigFile | undefined;
  problems: ConfigProblem[];
} {
  const problems: ConfigProblem[] = [];
  const result = configFileSchema.safeParse(withoutRemoteServers(raw, problems), parseOptions);
  if (!result.success) problems.push(...result.error.issues.flatMap(issueToProblems));
  return { value: result.success ? result.data : undefined, problems };
}

/**
 * The parts of a file that failed validation which are fine on their own (server, profile
 * and token entries whose name and shape are right), so their semantic checks can still
 * run and one run reports everything. Remote servers are already reported.
 */
export function wellFormedParts(raw: unknown): ConfigFile {
  if (!isJsonObject(raw)) return {};
  const entries = <T>(
    key: string,
    name: RegExp,
    schema: z.ZodType<T>,
    part?: (entry: Record<string, unknown>) => T | undefined,
  ): Record<string, T> => {
    const kept: Record<string, T> = Object.create(null) as Record<string, T>;
    const block = raw[key];
    if (!isJsonObject(block)) return kept;
    for (const [id, entry] of Object.entries(block)) {
      if (!name.test(id)) continue;
      const parsed = schema.safeParse(entry);
      const value = parsed.success ? parsed.data : isJsonObject(entry) ? part?.(entry) : undefined;
      if (value !== undefined) kept[id] = value;
    }
    return kept;
  };
  // A profile with a bad field still has its server list checked against mcpServers.
  const profileServers = (entry: Record<string, unknown>) => {
    const servers = entry['servers'];
    return Array.isArray(servers) && servers.every((s) => typeof s === 'string')
      ? { servers: servers as string[] }
      : undefined;
  };
  const requireToken = raw['requireToken'];
  return {
    mcpServers: entries('mcpServers', SERVER_ID_PATTERN, serverSchema),
    profiles: entries('profiles', PROFILE_NAME_PATTERN, profileSchema, profileServers),
    tokens: entries('tokens', PROFILE_NAME_PATTERN, tokenSchema),
    ...(typeof requireToken === 'boolean' ? { requireToken } : {}),
  };
}

/** Problems of one value, reported under `label` (e.g. `--port`). */
export function validateValue(schema: z.ZodType, value: unknown, label: string): ConfigProblem[] {
  const result = schema.safeParse(value, parseOptions);
  if (result.success) return [];
  return result.error.issues.flatMap(issueToProblems).map((p) => ({ ...p, path: label }));
}

// Wording for the leaves that carry no message of their own (plain strings, objects, arrays).
const typeNames: ReadonlyMap<string, string> = new Map(
  Object.entries({
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    boolean: 'true or false',
    object: 'an object',
    array: 'an array',
    record: 'an object',
  }),
);

const parseOptions = {
  reportInput: true,
  error: (issue: z.core.$ZodRawIssue) =>
    issue.code === 'invalid_type' ? (typeNames.get(issue.expected) ?? issue.expected) : undefined,
};

/**
 * Remote servers (`url`, or a `type` naming an HTTP transport) are rejected with their own
 * message rather than as a pile of unknown keys, and kept away from the schema so their
 * entry yields exactly one problem.
 */
const REMOTE_TYPES = new Set(['ws']);
const REMOTE_KEYS = ['serverUrl', 'httpUrl'];

function withoutRemoteServers(raw: unknown, problems: ConfigProblem[]): unknown {
  if (!isJsonObject(raw) || !isJsonObject(raw['mcpServers'])) return raw;
  const kept: Record<string, unknown> = {};
  for (const [id, entry] of Object.entries(raw['mcpServers'])) {
    const marker = isJsonObject(entry) ? remoteMarker(entry) : undefined;
    if (marker === undefined) {
      kept[id] = entry;
      continue;
    }
    problems.push({
      path: formatPath(['mcpServers', id]),
      message: `${marker} is not supported: remote servers are given by "url" (Streamable HTTP or, with "type": "sse", HTTP+SSE)`,
    });
  }
  return { ...raw, mcpServers: kept };
}

function remoteMarker(entry: Record<string, unknown>): string | undefined {
  const type = entry['type'];
  if (typeof type === 'string' && REMOTE_TYPES.has(type)) return `"type": ${JSON.stringify(type)}`;
  const key = REMOTE_KEYS.find((name) => name in entry);
  return key === undefined ? undefined : `"${key}"`;
}

function issueToProblems(issue: z.core.$ZodIssue): ConfigProblem[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(issue.path);
    return issue.keys.map((key) => {
      const guess = closestKey(key, known);
      return {
        path: formatPath([...issue.path, key]),
        message:
          guess === undefined
            ? `unknown key; expected one of: ${known.join(', ')}`
            : `unknown key; did you mean "${guess}"?`,
      };
    });
  }
  const expected = issue.code === 'invalid_key' ? issue.issues[0]?.message : issue.message;
  const found = issue.input;
  // Values under `env` are often tokens, and tokens are secrets: name their kind, never echo them.
  const isEnvValue = issue.path.length === 4 && issue.path[2] === 'env';
  const isToken = issue.path[0] === 'tokens' && issue.path[2] === 'token';
  const shown = isEnvValue || isToken ? describeKind(found) : describeValue(found);
  return [
    {
      path: formatPath(issue.path),
      message:
        found === undefined
          ? `expected ${expected}, but it is missing`
          : `expected ${expected}, found ${shown}`,
    },
  ];
}

/** The keys the object at `path` allows, read off the schema itself so they cannot drift. */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType | undefined = configFileSchema;
  for (const segment of path) {
    schema = unwrapOptional(schema);
    if (schema instanceof z.ZodObject) schema = schema.shape[String(segment)];
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else return [];
  }
  schema = unwrapOptional(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unwrapOptional(schema: z.ZodType | undefined): z.ZodType | undefined {
  return schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
}
