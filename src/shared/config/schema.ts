/**
 * The config file's shape as one zod schema: it validates files and generates
 * schema/config.schema.json (print-schema.ts), so editors and the loader agree. The schema
 * only describes the file (validate.ts turns its issues into problems); defaults, `${VAR}`
 * expansion and paths are normalize.ts's job. Server entries are in server-schema.ts,
 * profiles and tokens in access-schema.ts.
 *
 * Messages: each leaf states what it expects ("an integer from 0 to 65535") and the
 * problem adds what was found, so every message reads `expected X, found Y`.
 */
import { z } from 'zod';

import { profileName, profileSchema, tokenName, tokenSchema } from './access-schema.js';
import { CONFIG_DEFAULTS } from './defaults.js';
import { MAX_BODY_BYTES, MAX_TIMER_MS, integer, nonEmptyString } from './fields.js';
import { serverId, serverSchema } from './server-schema.js';

/** scheme://host[:port], as browsers send in `Origin`; one trailing slash is tolerated. */
const ORIGIN_PATTERN = /^https?:\/\/[^/?#@\s]+\/?$/;

const httpUrl = z
  .string({ error: 'an http:// or https:// URL' })
  .regex(/^https?:\/\/[^\s]+$/, { error: 'an http:// or https:// URL', abort: true })
  .refine((value) => URL.canParse(value), { error: 'an http:// or https:// URL that parses' });

const origin = z
  .string()
  .regex(ORIGIN_PATTERN, {
    error: 'an origin like "https://app.example.com" (no path)',
    abort: true, // one message per bad origin
  })
  .refine((value) => URL.canParse(value), { error: 'an origin that parses as a URL' });

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
    oauth: z
      .strictObject({
        issuer: httpUrl.meta({
          description:
            'The authorization server whose access tokens (JWTs) are accepted, as their `iss` claim names it, e.g. https://login.example.com/realms/team.',
        }),
        jwksUri: httpUrl.optional().meta({
          description:
            "Where the issuer's signing keys are. Default: the jwks_uri of its metadata (/.well-known/oauth-authorization-server, then openid-configuration).",
        }),
        resource: httpUrl.optional().meta({
          description:
            'The public base URL clients reach this daemon at (behind a proxy: its public address). The protected resource metadata names <resource>/mcp. Default: http://<listen.host>:<listen.port> (localhost for a wildcard host).',
        }),
        audience: nonEmptyString().optional().meta({
          description:
            "The `aud` tokens must carry. Default: one of this daemon's resource URLs (<resource>/mcp, <resource>/mcp/<profile>), as RFC 8707 resource indicators give.",
        }),
        scopes: z.array(nonEmptyString()).optional().meta({
          description:
            'Scopes every token must hold (its `scope` claim); a token without them gets 403 insufficient_scope. Also advertised as scopes_supported.',
          default: [],
        }),
        profiles: z
          .array(
            z.strictObject({
              claim: nonEmptyString().meta({
                description: 'A claim of the token, e.g. "sub", "groups", "scope", "email".',
              }),
              value: z.string({ error: 'a string' }).meta({
                description:
                  'Matches when the claim equals it, is an array holding it, or (for "scope") a space-separated list holding it.',
              }),
              profile: profileName,
              admin: z.boolean().optional().meta({
                description: 'Such a token is an admin token for /api.',
                default: false,
              }),
            }),
          )
          .optional()
          .meta({
            description:
              'Which profile a token gets, by its claims: the first rule that matches wins.',
            default: [],
          }),
        defaultProfile: profileName.optional().meta({
          description:
            'The profile of a valid token no rule matches. Absent: such a token is refused (403).',
        }),
      })
      .optional()
      .meta({
        description:
          'Protect the daemon with OAuth: bearer JWTs of this issuer are accepted beside the static tokens, and a token (either kind) is then required. Serves /.well-known/oauth-protected-resource so clients can sign in.',
      }),
    cluster: z
      .strictObject({
        node: nonEmptyString().meta({
          description:
            'This node\'s id, unique in the cluster: 1-16 of a-z 0-9 - (e.g. "${MCP_DIRECTOR_NODE}", so every node can share one file). Session ids start with it, so a balancer can keep a session on its node.',
        }),
        key: nonEmptyString().meta({
          description:
            'The key every node shares (at least 32 characters; write "${VAR}"): it signs session ids and seals requestState, so any node can check what another minted.',
        }),
        drainNoticeMs: integer(0, MAX_TIMER_MS).optional().meta({
          description:
            'On SIGTERM, how long /readyz answers 503 while the node still serves everything, before its socket closes: longer than the balancer needs to see it (its check interval × fall).',
          default: 2000,
        }),
        url: httpUrl.optional().meta({
          description:
            'This node\'s base URL as the other nodes reach it (e.g. "http://${MCP_DIRECTOR_NODE_ADDRESS}:8765"). With "redis", the node announces it there and the others find it without "nodes".',
        }),
        redis: nonEmptyString().optional().meta({
          description:
            'A Redis (or Valkey) every node reaches, as redis://[user:password@]host:port[/db] or rediss://… ("${VAR}" expands): the per-token and per-profile rate limits are then counted for the fleet, and the nodes find each other there (see "url"). Absent: each node counts its own, and "nodes" lists them.',
        }),
        nodes: z.record(z.string(), httpUrl).optional().meta({
          description:
            'Where each node is reached by the others (its base URL, e.g. http://10.0.0.2:8765): a retry of an input-required call that lands on another node is passed to the node that holds the call.',
          default: {},
        }),
      })
      .optional()
      .meta({
        description:
          'Several daemons behind one load balancer (README: Running several daemons). Absent: a single daemon.',
      }),
    projectRoots: z
      .array(nonEmptyString())
      .optional()
      .meta({
        description:
          'The folders a session\'s project must be inside ("~/" and ${VAR} work), so a client cannot start "share": "project" servers in arbitrary places. Default: the home folder.',
        default: ['~'],
      }),
    projects: z
      .record(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
          error: 'a project name of 1-64 of A-Z a-z 0-9 . _ - (not starting with . _ -)',
        }),
        z.strictObject({
          dir: nonEmptyString().meta({
            description: 'The project\'s folder ("~/" and paths relative to this file work).',
          }),
          profile: nonEmptyString().optional().meta({
            description:
              'The profile of a client that names this folder (X-Project-Dir, ?project=, connect) and no profile of its own (no token, plain /mcp).',
          }),
          servers: z.record(serverId, serverSchema).optional().meta({
            description:
              'Servers of this project only, as under "mcpServers": only sessions working in the folder see them, each under its own name as tool prefix. README: Projects.',
          }),
          mcpJson: z.boolean().optional().meta({
            description:
              "Add the servers of the folder's own .mcp.json (Claude Code's project file) for this project only; re-read when it changes. It runs the commands the file names, so allow it only for folders you trust.",
            default: false,
          }),
        }),
      )
      .optional()
      .meta({
        description:
          "Projects by name: a session working in the folder gets this name as ${projectName} (else the folder's own name). README: Projects.",
      }),
    listen: z
      .strictObject({
        host: nonEmptyString().optional().meta({ default: CONFIG_DEFAULTS.listen.host }),
        port: integer(0, 65535).optional().meta({ default: CONFIG_DEFAULTS.listen.port }),
      })
      .optional()
      .meta({ description: 'Where the HTTP endpoint listens.' }),
    workers: integer(1).optional().meta({
      description:
        'Shard worker threads. Default: one per enabled server, at most one per core but one (the supervisor thread has that one).',
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
        retentionDays: z.number().min(0).optional().meta({
          description:
            'Call records older than this many days are deleted in the background (hourly); 0 keeps them forever.',
          default: CONFIG_DEFAULTS.analytics.retentionDays,
        }),
        maxSizeMB: z.number().min(0).optional().meta({
          description:
            'When the call records take more than this many MiB, the oldest are deleted (hourly, in the background); 0: no limit. Rollups and the session log are kept by age only.',
          default: CONFIG_DEFAULTS.analytics.maxSizeMB,
        }),
      })
      .optional()
      .meta({ description: 'Per-call statistics kept in dataDir.' }),
    telemetry: z
      .strictObject({
        otlp: z
          .strictObject({
            endpoint: z
              .string()
              .regex(/^https?:\/\/\S+$/, { error: 'an http:// or https:// URL' })
              .meta({
                description:
                  'The OTLP/HTTP collector base URL, e.g. http://127.0.0.1:4318; spans go to <endpoint>/v1/traces as OTLP JSON.',
              }),
            headers: z
              .record(
                z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'an HTTP header name' }),
                z.string(),
              )
              .optional()
              .meta({ description: 'Sent with every export, e.g. an API key of the collector.' }),
            serviceName: nonEmptyString().optional().meta({ default: 'mcp-director' }),
          })
          .optional()
          .meta({
            description:
              'Export a span per forwarded call (MCP semantic conventions) over OTLP; off when absent. Changes apply on restart.',
          }),
      })
      .optional()
      .meta({ description: 'OpenTelemetry export.' }),
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
        maxOwnInstancesPerServer: integer(1).optional().meta({
          description:
            'Instances of their own one "share": "session" or "identity" server runs at once (one per session or identity); a new caller past it is refused until one ends.',
          default: CONFIG_DEFAULTS.limits.maxOwnInstancesPerServer,
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
