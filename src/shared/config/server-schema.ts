/**
 * One `mcpServers` entry, as Claude Desktop, Cursor and Claude Code write it: a stdio server
 * (`command`) or a remote one (`url`), with the director's own per-server settings.
 */
import { z } from 'zod';

import { CONFIG_DEFAULTS } from './defaults.js';
import { MAX_TIMER_MS, integer, nonEmptyString } from './fields.js';

/** Server ids are also default prefixes and analytics keys: short and URL-safe. */
export const SERVER_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/** Like an id but may be empty (no prefix); never `__`, which separates prefix and name. */
export const PREFIX_PATTERN = /^(?!.*__)[A-Za-z0-9_-]{0,32}$/;
export const serverId = z.string().regex(SERVER_ID_PATTERN, {
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

/** Checked again after `${VAR}` expansion (normalize-servers.ts), when it must parse as a URL. */
const httpUrl = z.string().regex(/^(https?:\/\/|\$\{)/, {
  error: 'an http:// or https:// URL',
});

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, {
  error: 'an HTTP header name',
});

/** `type` values that mean Streamable HTTP, as the clients whose configs we accept write it. */
const HTTP_TYPES = ['http', 'streamable-http', 'streamableHttp', 'sse'] as const;

export const serverSchema = z
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
    auth: z
      .union(
        [
          z.enum(['oauth', 'none']),
          z.strictObject({
            type: z.literal('oauth'),
            scopes: z.array(nonEmptyString()).optional().meta({
              description: "Scopes to ask for when the server's challenge and metadata name none.",
            }),
            clientId: nonEmptyString().optional().meta({
              description:
                'A client registered ahead of time with the authorization server, instead of dynamic registration.',
            }),
            clientSecret: z.string().optional().meta({
              description: 'Its secret, if it has one; write "${VAR}" to keep it out of the file.',
            }),
            clientMetadataUrl: z
              .string()
              .regex(/^https:\/\/[^/\s]+\/\S+$/, { error: 'an https:// URL with a path' })
              .optional()
              .meta({
                description:
                  'A client ID metadata document, used where the authorization server accepts one.',
              }),
          }),
        ],
        { error: '"oauth", "none" or {"type": "oauth", …}' },
      )
      .optional()
      .meta({
        description:
          'How the director signs in to a remote server. Default: with OAuth (the MCP authorization flow, `mcp-director auth login <id>`) once it answers 401 with a Bearer challenge, unless "headers" set Authorization. "oauth": from the start; "none": never.',
      }),
    prefix: prefix.optional().meta({
      description:
        'Exposed names are <prefix>__<name>; "" exposes them unchanged. Default: the id.',
    }),
    timeoutMs: integer(1, MAX_TIMER_MS).optional().meta({
      description: 'Per-call timeout toward this server, in milliseconds.',
      default: CONFIG_DEFAULTS.server.timeoutMs,
    }),
    share: z
      .enum(['global', 'session', 'identity', 'project'], {
        error: '"global", "session", "identity" or "project"',
      })
      .optional()
      .meta({
        description:
          "global: one process for every client; session: one process per client session, started on its first call and stopped when the session ends; identity: one process (or remote connection, with its own sign-in) per caller's token or OAuth user, so one user's credentials never carry another's call; project: one process per project folder a session works in, shared by that project's sessions, with ${projectDir} and ${projectName} expanded in command, args, env and cwd (README: Projects).",
        default: CONFIG_DEFAULTS.server.share,
      }),
    start: z.enum(['eager', 'lazy'], { error: '"eager" or "lazy"' }).optional().meta({
      description:
        'eager: started with the daemon. lazy: started when first needed (a client lists or calls it); callers wait.',
      default: CONFIG_DEFAULTS.server.start,
    }),
    idleStopMs: integer(1, MAX_TIMER_MS).optional().meta({
      description:
        'Stop the server after this many milliseconds without a call; the next call starts it again (its tools stay listed). Default: never; for a "share": "project" server, 600000 (each project\'s instance).',
    }),
    recordPayloads: z.boolean().optional().meta({
      description:
        "Keep each call's params and result (each up to 16 KiB) in the call records, shown to the admin in /api/calls and the dashboard. They can hold what the tools see: off unless set.",
      default: false,
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
