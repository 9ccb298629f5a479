/**
 * The config file's shape as one zod schema: it validates files and generates
 * schema/config.schema.json (print-schema.ts), so editors and the loader agree. The schema
 * only describes the file; defaults, `${VAR}` expansion and paths are normalize.ts's job.
 *
 * Messages: each leaf states what it expects ("an integer from 0 to 65535") and the
 * problem adds what was found, so every message reads `expected X, found Y`.
 */
import { z } from 'zod';

import { isJsonObject } from '../json.js';
import { CONFIG_DEFAULTS } from './defaults.js';
import type { ConfigProblem } from './problems.js';
import { closestKey, describeKind, describeValue, formatPath } from './problems.js';

/** Server ids are also default prefixes and analytics keys: short and URL-safe. */
export const SERVER_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/** Like an id but may be empty (no prefix); never `__`, which separates prefix and name. */
export const PREFIX_PATTERN = /^(?!.*__)[A-Za-z0-9_-]{0,32}$/;
/** scheme://host[:port], as browsers send in `Origin`; one trailing slash is tolerated. */
const ORIGIN_PATTERN = /^https?:\/\/[^/?#@\s]+\/?$/;
/** setTimeout fires at once for delays above 2^31-1 ms, so longer timeouts would never wait. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Request bodies are buffered whole before parsing; more than 1 GiB is surely a typo. */
const MAX_BODY_BYTES = 2 ** 30;

function integer(min: number, max?: number) {
  const expected =
    max === undefined ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
  const atLeast = z.int({ error: expected }).min(min, { error: expected });
  return max === undefined ? atLeast : atLeast.max(max, { error: expected });
}

function nonEmptyString() {
  const expected = 'a non-empty string';
  return z.string({ error: expected }).min(1, { error: expected });
}

const serverId = z.string().regex(SERVER_ID_PATTERN, {
  error: 'a server id of 1 to 32 characters from A-Z a-z 0-9 _ -',
});

const prefix = z.string().regex(PREFIX_PATTERN, {
  error: (issue) =>
    typeof issue.input === 'string' && issue.input.includes('__')
      ? 'a prefix without "__" (the namespace separator)'
      : 'a prefix of 0 to 32 characters from A-Z a-z 0-9 _ -',
});

const envName = z.string().regex(/^[^=\0]+$/, {
  error: 'an environment variable name (non-empty, without "=")',
});

/** Checked again after `${VAR}` expansion (normalize.ts), when it must parse as a URL. */
const httpUrl = z.string().regex(/^(https?:\/\/|\$\{)/, {
  error: 'an http:// or https:// URL',
});

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, {
  error: 'an HTTP header name',
});

const origin = z
  .string()
  .regex(ORIGIN_PATTERN, {
    error: 'an origin like "https://app.example.com" (no path)',
    abort: true, // one message per bad origin
  })
  .refine((value) => URL.canParse(value), { error: 'an origin that parses as a URL' });

/** `type` values that mean Streamable HTTP, as the clients whose configs we accept write it. */
const HTTP_TYPES = ['http', 'streamable-http', 'streamableHttp', 'sse'] as const;

const serverSchema = z
  .strictObject({
    type: z
      .enum(['stdio', ...HTTP_TYPES], {
        error: '"stdio", "http" or "sse" (WebSocket servers are not supported)',
      })
      .optional()
      .meta({
        description:
          'Transport: "stdio" (with "command"), "http" (with "url": Streamable HTTP, falling back to HTTP+SSE) or "sse" (the deprecated HTTP+SSE).',
      }),
    command: nonEmptyString()
      .optional()
      .meta({ description: 'The program to run (stdio servers). ${VAR} expands.' }),
    args: z
      .array(z.string())
      .optional()
      .meta({ description: 'Its arguments. ${VAR} and ${VAR:-default} expand.', default: [] }),
    env: z.record(envName, z.string()).optional().meta({
      description: 'Added to an allow-listed copy of the daemon environment. Values expand ${VAR}.',
      default: {},
    }),
    cwd: nonEmptyString().optional().meta({
      description: "Working directory; relative to the config file's folder, which is the default.",
    }),
    url: httpUrl.optional().meta({
      description: 'The MCP endpoint of a remote server (Streamable HTTP). ${VAR} expands.',
    }),
    headers: z.record(headerName, z.string()).optional().meta({
      description:
        'Sent with every request to a remote server, e.g. {"Authorization": "Bearer ${TOKEN}"}. Values expand ${VAR}.',
      default: {},
    }),
    prefix: prefix.optional().meta({
      description:
        'Exposed names are <prefix>__<name>; "" exposes them unchanged. Default: the id.',
    }),
    timeoutMs: integer(1, MAX_TIMER_MS).optional().meta({
      description: 'Per-call timeout toward this server, in milliseconds.',
      default: CONFIG_DEFAULTS.server.timeoutMs,
    }),
    share: z.enum(['global', 'session'], { error: '"global" or "session"' }).optional().meta({
      description:
        'global: one process for every client; session: one process per client session, started on its first call and stopped when the session ends.',
      default: CONFIG_DEFAULTS.server.share,
    }),
    start: z.enum(['eager', 'lazy'], { error: '"eager" or "lazy"' }).optional().meta({
      description:
        'eager: started with the daemon. lazy: started when first needed (a client lists or calls it); callers wait.',
      default: CONFIG_DEFAULTS.server.start,
    }),
    idleStopMs: integer(1, MAX_TIMER_MS).optional().meta({
      description:
        'Stop the server after this many milliseconds without a call; the next call starts it again (its tools stay listed). Default: never.',
    }),
    initializeTimeoutMs: integer(1, MAX_TIMER_MS).optional().meta({
      description: 'How long the server may take to answer initialize at start, in milliseconds.',
      default: CONFIG_DEFAULTS.server.initializeTimeoutMs,
    }),
    disabled: z.boolean().optional().meta({
      description: 'Keep the entry but do not start the server.',
      default: CONFIG_DEFAULTS.server.disabled,
    }),
  })
  .superRefine((entry, ctx) => {
    // One object schema (so unknown keys get suggestions), with the transport rules here.
    const remote = entry.url !== undefined || HTTP_TYPES.some((t) => t === entry.type);
    if (!remote && entry.command === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['command'],
        message: 'a program to run ("command"), or a remote server\'s "url"',
        input: undefined,
      });
    }
    if (remote && entry.url === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'the URL of the remote MCP endpoint',
        input: undefined,
      });
    }
    if (remote && entry.command !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['command'],
        message: 'no "command" next to "url": a server is either run here (stdio) or remote (http)',
        input: entry.command,
      });
    }
    for (const key of ['args', 'env', 'cwd'] as const) {
      if (remote && entry[key] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `no "${key}" on a remote server: it applies to stdio servers only`,
          input: entry[key],
        });
      }
    }
    if (!remote && entry.headers !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['headers'],
        message: 'no "headers" on a stdio server: they apply to remote servers only',
        input: entry.headers,
      });
    }
  })
  .meta({
    description:
      'An MCP server: run here over stdio ("command", as Claude Desktop writes it) or remote over Streamable HTTP ("url").',
  });

/** Profile names appear in URLs (`/mcp/<profile>`): short and URL-safe, like server ids. */
export const PROFILE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/**
 * What claude.ai and most model APIs accept as a tool name
 * (docs/architecture.md#catalog-names-and-profiles).
 */
const EXPOSED_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Tokens are secrets people generate; shorter ones are guessable over a loopback socket. */
export const MIN_TOKEN_LENGTH = 16;

const profileName = z.string().regex(PROFILE_NAME_PATTERN, {
  error: 'a profile name of 1 to 32 characters from A-Z a-z 0-9 _ -',
});

const tokenName = z.string().regex(PROFILE_NAME_PATTERN, {
  error: 'a token name of 1 to 32 characters from A-Z a-z 0-9 _ -',
});

const globList = (what: string) =>
  z
    .array(nonEmptyString())
    .optional()
    .meta({
      description: `Globs over ${what}; "*" matches any run of characters (also "/"), "?" one character.`,
    });

const exposedName = z.string().regex(EXPOSED_NAME_PATTERN, {
  error: 'a name of 1 to 64 characters from A-Z a-z 0-9 _ -',
});

/** allow/deny/rename for tools and prompts, matched against their default exposed names. */
const nameRules = (kind: string) =>
  z
    .strictObject({
      allow: globList(`${kind} names (default: all)`),
      deny: globList(`${kind} names; deny wins over allow`),
      rename: z
        .record(nonEmptyString(), exposedName)
        .optional()
        .meta({
          description: `Default exposed ${kind} name → the name this profile shows instead.`,
        }),
    })
    .optional();

/** A token bucket; `burst` defaults to one second's worth. */
const rateLimitSchema = z
  .strictObject({
    perSecond: z
      .number({ error: 'a number of calls per second above 0' })
      .positive({ error: 'a number of calls per second above 0' })
      .max(1_000_000, { error: 'a number of calls per second above 0' })
      .meta({ description: 'Calls per second, on average.' }),
    burst: integer(1, 1_000_000).optional().meta({
      description: 'Calls allowed at once before the rate applies. Default: perSecond, at least 1.',
    }),
  })
  .optional()
  .meta({
    description:
      'Calls per second with a burst; past it HTTP 429 with Retry-After (a JSON-RPC error inside a stream).',
  });

const profileSchema = z
  .strictObject({
    description: z.string().optional().meta({ description: 'For people; shown in /api.' }),
    servers: z.array(serverId).optional().meta({
      description: 'Server ids this profile sees (default: every server).',
    }),
    tools: nameRules('tool'),
    prompts: nameRules('prompt'),
    resources: z
      .strictObject({
        allow: globList('resource URIs and URI templates (default: all)'),
        deny: globList('resource URIs and URI templates; deny wins over allow'),
      })
      .optional(),
    toolSurface: z.enum(['full', 'meta'], { error: '"full" or "meta"' }).optional().meta({
      description:
        'full: every tool is listed. meta: only the router tools list_servers, list_tools, describe, call and search_tools (for clients that pay per token of tool schema).',
      default: 'full',
    }),
    rateLimit: rateLimitSchema,
  })
  .meta({ description: 'A named view of the servers, selected by /mcp/<name> or by a token.' });

const tokenSchema = z
  .strictObject({
    token: z
      .string({ error: 'a string' })
      .meta({ description: 'The secret; write "${VAR}" to keep it out of the file.' }),
    profile: profileName.optional().meta({
      description: 'The profile a request with this token gets.',
      default: 'default',
    }),
    admin: z.boolean().optional().meta({
      description:
        'The admin token: /api shows it every profile, server commands and all statistics (other tokens see their own profile only).',
      default: false,
    }),
    rateLimit: rateLimitSchema,
  })
  .meta({ description: 'A bearer token (Authorization: Bearer or X-Workspace-Token).' });

export const configFileSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'Ignored; lets editors find this schema.' }),
    mcpServers: z.record(serverId, serverSchema).optional().meta({
      description: 'The backends, by id, in priority order: on a name clash the first one wins.',
      default: {},
    }),
    profiles: z.record(profileName, profileSchema).optional().meta({
      description:
        'Named views, reached at /mcp/<name> or by a token. "default" (every server, every tool) serves /mcp unless defined here.',
      default: {},
    }),
    tokens: z.record(tokenName, tokenSchema).optional().meta({
      description:
        'Bearer tokens by name (the name, never the token, appears in logs). A profile some token maps to can only be used with one of its tokens.',
      default: {},
    }),
    requireToken: z.boolean().optional().meta({
      description: 'Every request to /mcp, /sse and /api needs a valid token (else 401).',
      default: false,
    }),
    listen: z
      .strictObject({
        host: nonEmptyString().optional().meta({ default: CONFIG_DEFAULTS.listen.host }),
        port: integer(0, 65535).optional().meta({ default: CONFIG_DEFAULTS.listen.port }),
      })
      .optional()
      .meta({ description: 'Where the HTTP endpoint listens.' }),
    workers: integer(1).optional().meta({
      description: 'Shard worker threads. Default: one per enabled server, at most one per core.',
    }),
    dataDir: nonEmptyString()
      .optional()
      .meta({
        description:
          'Folder for analytics and state; "~/" and paths relative to this file work. ' +
          'Default: $XDG_DATA_HOME/mcp-director or ~/.local/share/mcp-director.',
      }),
    analytics: z
      .strictObject({
        enabled: z.boolean().optional().meta({ default: CONFIG_DEFAULTS.analytics.enabled }),
      })
      .optional()
      .meta({ description: 'Per-call statistics kept in dataDir.' }),
    maxBodyBytes: integer(1, MAX_BODY_BYTES).optional().meta({
      description: 'Larger request bodies get HTTP 413.',
      default: CONFIG_DEFAULTS.maxBodyBytes,
    }),
    pageSize: integer(1, 1000).optional().meta({
      description: 'Items per page of the list methods.',
      default: CONFIG_DEFAULTS.pageSize,
    }),
    allowedOrigins: z.array(origin).optional().meta({
      description: 'Browser origins allowed besides localhost ones (DNS-rebinding protection).',
      default: [],
    }),
    sessionIdleMs: integer(1, MAX_TIMER_MS).optional().meta({
      description: 'Idle legacy sessions are dropped after this many milliseconds.',
      default: CONFIG_DEFAULTS.sessionIdleMs,
    }),
    limits: z
      .strictObject({
        maxJsonDepth: integer(8, 1000).optional().meta({
          description: 'Deepest JSON nesting accepted from a client or a backend.',
          default: CONFIG_DEFAULTS.limits.maxJsonDepth,
        }),
        maxSessions: integer(1).optional().meta({
          description:
            'Live sessions; past it the longest-idle one is evicted, or new ones get 503 with Retry-After.',
          default: CONFIG_DEFAULTS.limits.maxSessions,
        }),
        maxBackendMessageBytes: integer(1024, 2 ** 30)
          .optional()
          .meta({
            description:
              'Largest message a backend may send; past it the backend is restarted and its calls fail.',
            default: CONFIG_DEFAULTS.limits.maxBackendMessageBytes,
          }),
        maxStderrBytes: integer(0, 2 ** 24)
          .optional()
          .meta({
            description: "Bytes of each backend's stderr kept (the most recent).",
            default: CONFIG_DEFAULTS.limits.maxStderrBytes,
          }),
        maxConcurrentCallsPerServer: integer(1).optional().meta({
          description: 'Calls in flight at one backend; more wait in its queue.',
          default: CONFIG_DEFAULTS.limits.maxConcurrentCallsPerServer,
        }),
        maxQueuedCallsPerServer: integer(0).optional().meta({
          description: 'Calls waiting for one backend; more get an overload error at once.',
          default: CONFIG_DEFAULTS.limits.maxQueuedCallsPerServer,
        }),
        replayBufferBytes: integer(0, 2 ** 30)
          .optional()
          .meta({
            description: 'SSE events kept per stream for Last-Event-ID replay, in bytes.',
            default: CONFIG_DEFAULTS.limits.replayBufferBytes,
          }),
        streamQueueBytes: integer(1024, 2 ** 30)
          .optional()
          .meta({
            description:
              'Bytes queued for a client that does not read its stream before it is cut off.',
            default: CONFIG_DEFAULTS.limits.streamQueueBytes,
          }),
        shutdownDrainMs: integer(0, MAX_TIMER_MS).optional().meta({
          description:
            'On SIGTERM/SIGINT, how long calls in flight may finish before they get SHUTTING_DOWN.',
          default: CONFIG_DEFAULTS.limits.shutdownDrainMs,
        }),
        startWaitMs: integer(0, MAX_TIMER_MS).optional().meta({
          description: 'How long a call to a server that is still starting waits for it.',
          default: CONFIG_DEFAULTS.limits.startWaitMs,
        }),
      })
      .optional()
      .meta({
        description: 'What one client or backend can cost the daemon (README: Limits and safety).',
      }),
  })
  .meta({ title: 'MCP Director configuration' });

/** A config file that passed validation, before defaults and expansion. */
export type ConfigFile = z.output<typeof configFileSchema>;
export type ServerEntry = z.output<typeof serverSchema>;

/** The JSON Schema checked in as schema/config.schema.json. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configFileSchema, { io: 'input', target: 'draft-7' });
}

/** Single values validated like the file's (the CLI's `--port` and friends). */
export const overrideSchemas = {
  port: integer(0, 65535),
  host: nonEmptyString(),
  workers: integer(1),
  dataDir: nonEmptyString(),
};

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
  const entries = <T>(key: string, name: RegExp, schema: z.ZodType<T>): Record<string, T> => {
    const kept: Record<string, T> = {};
    const block = raw[key];
    if (!isJsonObject(block)) return kept;
    for (const [id, entry] of Object.entries(block)) {
      const parsed = schema.safeParse(entry);
      if (name.test(id) && parsed.success) kept[id] = parsed.data;
    }
    return kept;
  };
  const requireToken = raw['requireToken'];
  return {
    mcpServers: entries('mcpServers', SERVER_ID_PATTERN, serverSchema),
    profiles: entries('profiles', PROFILE_NAME_PATTERN, profileSchema),
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
