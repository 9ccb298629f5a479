/**
 * The `profiles` and `tokens` entries: a profile is a named view of the servers (which
 * servers, tools, prompts and resources, under which names), a token selects one. Their
 * names are also the keys `oauth` rules map claims to.
 */
import { z } from 'zod';

import { integer, nonEmptyString } from './fields.js';
import { serverId } from './server-schema.js';

/** Profile names appear in URLs (`/mcp/<profile>`): short and URL-safe, like server ids. */
export const PROFILE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/**
 * What claude.ai and most model APIs accept as a tool name
 * (docs/architecture.md#catalog-names-and-profiles).
 */
const EXPOSED_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Tokens are secrets people generate; shorter ones are guessable over a loopback socket. */
export const MIN_TOKEN_LENGTH = 16;

export const profileName = z.string().regex(PROFILE_NAME_PATTERN, {
  error: 'a profile name of 1 to 32 characters from A-Z a-z 0-9 _ -',
});

export const tokenName = z.string().regex(PROFILE_NAME_PATTERN, {
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

export const profileSchema = z
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

export const tokenSchema = z
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
    secrets: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'a name of letters, digits and _' }),
        z.string({ error: 'a string' }),
      )
      .optional()
      .meta({
        description:
          'Values a "share": "identity" server\'s headers or env take for this token as ${token.NAME} (e.g. the user\'s own API key); write "${VAR}" to keep them out of the file.',
        default: {},
      }),
  })
  .meta({ description: 'A bearer token (Authorization: Bearer or X-Workspace-Token).' });
