/**
 * The router's own tools for a profile whose tool surface is `meta`: tools/list shows only
 * these five, and an agent reaches the profile's real tools through them (search_tools →
 * describe → call) instead of reading hundreds of definitions up front.
 *
 * This module is pure: it answers search_tools, describe, list_tools and list_servers from a
 * read-only `MetaView` and validates `call`'s arguments; forwarding the call is the caller's.
 * Answers are MCP CallToolResults with frugal text (lines, not pretty JSON) plus
 * structuredContent matching each tool's outputSchema. A bad argument or unknown name is a tool
 * error (isError) saying what was wrong and what to do instead, never a protocol error, so the
 * model can correct itself.
 */
import { isJsonObject } from '../../shared/json.js';
import type { JsonObject, JsonValue } from '../../shared/json.js';
import { DEFAULT_LIMIT, firstLine, MAX_LIMIT, toolIndexFor } from './tool-search.js';

export interface MetaServer {
  id: string;
  state: string;
  tools: number;
  title?: string;
  instructions?: string;
}

/**
 * What the meta tools see of a profile. Keep one view object per profile: the search index is
 * cached per view object and rebuilt only when `version` changes.
 */
export interface MetaView {
  /** Servers visible in the profile, config order. */
  servers(): readonly MetaServer[];
  /** The profile's tools under their exposed names (as tools/list shows them), with their server. */
  tools(): readonly { server: string; tool: JsonObject }[];
  /** Changes whenever tools() changes (so a search index can be cached per version). */
  readonly version: number;
}

export const META_TOOL_NAMES = [
  'search_tools',
  'describe',
  'call',
  'list_tools',
  'list_servers',
] as const;
export type MetaToolName = (typeof META_TOOL_NAMES)[number];

export function isMetaToolName(name: string): name is MetaToolName {
  return (META_TOOL_NAMES as readonly string[]).includes(name);
}

const str = (description: string): JsonObject => ({ type: 'string', description });
const arrayOf = (items: JsonObject): JsonObject => ({ type: 'array', items });
const READ_ONLY: JsonObject = { readOnlyHint: true, openWorldHint: false };

/**
 * An object schema: each property a schema or a bare type name; all required unless listed.
 * Input schemas are closed (`additionalProperties: false`), so a misspelt argument is reported.
 */
function object(
  properties: Record<string, string | JsonObject>,
  required = Object.keys(properties),
  closed = false,
): JsonObject {
  const schema: JsonObject = { type: 'object', properties: {} };
  for (const [key, p] of Object.entries(properties)) {
    (schema['properties'] as JsonObject)[key] = typeof p === 'string' ? { type: p } : p;
  }
  if (required.length > 0) schema['required'] = required;
  if (closed) schema['additionalProperties'] = false;
  return schema;
}

const TOOL_NAME = str('The tool name, as search_tools or list_tools gives it.');
const HIT = { name: 'string', server: 'string', description: 'string' };

/** The five tools as tools/list shows them, in the order an agent uses them. */
export const META_TOOLS: readonly JsonObject[] = [
  {
    name: 'search_tools',
    title: 'Search tools',
    description:
      "Find tools of this router's servers by what they do: ranked search over tool names, " +
      'titles and descriptions (word prefixes and small typos are tolerated). Returns the best ' +
      'matches with their server and one-line description. Start here, then use describe to see ' +
      "a tool's arguments and call to run it.",
    inputSchema: object(
      {
        query: str('What the tool should do, in a few words, e.g. "open a pull request".'),
        limit: {
          type: 'integer',
          minimum: 1,
          maximum: MAX_LIMIT,
          default: DEFAULT_LIMIT,
          description: `How many matches at most (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT}).`,
        },
        server: str('Only search the tools of this server (an id from list_servers).'),
      },
      ['query'],
      true,
    ),
    outputSchema: object({ hits: arrayOf(object({ ...HIT, score: 'number' })) }),
    annotations: READ_ONLY,
  },
  {
    name: 'describe',
    title: 'Describe a tool',
    description:
      "Show a tool's full definition: description, inputSchema (its arguments), outputSchema, " +
      'annotations and title. Use it before call to get the arguments right.',
    inputSchema: object({ name: TOOL_NAME }, ['name'], true),
    outputSchema: object({ server: 'string', tool: 'object' }),
    annotations: READ_ONLY,
  },
  {
    name: 'call',
    title: 'Call a tool',
    description:
      "Run one of the servers' tools and return its result. name is the tool name from " +
      'search_tools or list_tools; arguments must match its inputSchema (see describe).',
    inputSchema: object(
      {
        name: TOOL_NAME,
        arguments: {
          type: 'object',
          description: "The tool's arguments, as its inputSchema says.",
        },
      },
      ['name'],
      true,
    ),
  },
  {
    name: 'list_tools',
    title: 'List tools',
    description:
      'List tool names with the first line of their descriptions, for one server or all. With ' +
      'many tools, search_tools finds one faster.',
    inputSchema: object({ server: str('Only this server (an id from list_servers).') }, [], true),
    outputSchema: object({ tools: arrayOf(object(HIT)) }),
    annotations: READ_ONLY,
  },
  {
    name: 'list_servers',
    title: 'List servers',
    description:
      "List this router's MCP servers: id, state (e.g. ready, starting, failed), number of tools, " +
      'title and the instructions the server gives for using it.',
    inputSchema: object({}, [], true),
    outputSchema: object({
      servers: arrayOf(
        object(
          {
            id: 'string',
            state: 'string',
            tools: 'integer',
            title: 'string',
            instructions: 'string',
          },
          ['id', 'state', 'tools'],
        ),
      ),
    }),
    annotations: READ_ONLY,
  },
];

const SCHEMAS = new Map(META_TOOLS.map((t) => [String(t['name']), t['inputSchema'] as JsonObject]));

/** A tool error the model can act on. */
export function toolError(message: string): JsonObject {
  return { content: [{ type: 'text', text: message }], isError: true };
}

function answer(text: string, structuredContent: JsonObject): JsonObject {
  return { content: [{ type: 'text', text }], structuredContent };
}

/**
 * The answer to a meta tool, or undefined for `call` (which the caller forwards after
 * `parseCallArguments`). `args` is the request's `arguments`, possibly absent.
 */
export function answerMetaTool(
  name: string,
  args: unknown,
  view: MetaView,
): JsonObject | undefined {
  if (!isMetaToolName(name)) return unknownMetaTool(name, view);
  if (name === 'call') return undefined;
  const checked = checkArguments(name, args);
  if (typeof checked === 'string') return toolError(checked);
  switch (name) {
    case 'search_tools':
      return searchTools(checked, view);
    case 'describe':
      return describe(String(checked['name']), view);
    case 'list_tools':
      return listTools(checked['server'], view);
    case 'list_servers':
      return listServers(view);
  }
}

export interface CallRequest {
  /** The exposed tool name. */
  name: string;
  server: string;
  arguments: JsonObject;
}

/** `call`'s arguments checked against the view: the call to forward, or the error to answer. */
export function parseCallArguments(
  args: unknown,
  view: MetaView,
): { ok: true; call: CallRequest } | { ok: false; result: JsonObject } {
  const checked = checkArguments('call', args);
  if (typeof checked === 'string') return { ok: false, result: toolError(checked) };
  const name = String(checked['name']);
  if (isMetaToolName(name)) {
    return { ok: false, result: toolError(`'${name}' is a router tool: call it directly.`) };
  }
  const entry = toolIndexFor(view).get(name);
  if (entry === undefined) return { ok: false, result: unknownTool(name, view) };
  const toolArgs = checked['arguments'];
  return {
    ok: true,
    call: { name, server: entry.server, arguments: isJsonObject(toolArgs) ? toolArgs : {} },
  };
}

function searchTools(args: JsonObject, view: MetaView): JsonObject {
  const query = String(args['query']);
  const options: { limit?: number; server?: string } = {};
  if (typeof args['limit'] === 'number') options.limit = args['limit'];
  if (typeof args['server'] === 'string') {
    const error = checkServer(args['server'], view);
    if (error !== undefined) return error;
    options.server = args['server'];
  }
  const hits = toolIndexFor(view).search(query, options);
  const text =
    hits.length === 0
      ? `No tool matches '${query}'. Try other or fewer words, or list_tools to browse.`
      : hits.map((h) => `${h.name} (${h.server}): ${h.description}`).join('\n');
  return answer(text, { hits: hits.map((h) => ({ ...h })) });
}

function describe(name: string, view: MetaView): JsonObject {
  const meta = META_TOOLS.find((t) => t['name'] === name);
  const entry =
    meta !== undefined ? { server: 'router', tool: meta } : toolIndexFor(view).get(name);
  if (entry === undefined) return unknownTool(name, view);
  const structured: JsonObject = { server: entry.server, tool: entry.tool };
  return answer(JSON.stringify(structured), structured);
}

function listTools(server: JsonValue | undefined, view: MetaView): JsonObject {
  if (typeof server === 'string') {
    const error = checkServer(server, view);
    if (error !== undefined) return error;
  }
  const tools = view
    .tools()
    .filter((t) => server === undefined || t.server === server)
    .map((t) => ({
      name: String(t.tool['name']),
      server: t.server,
      description: firstLine(t.tool['description']),
    }));
  const lines = tools.map((t) => (t.description === '' ? t.name : `${t.name}: ${t.description}`));
  const text = tools.length === 0 ? 'No tools.' : lines.join('\n');
  return answer(text, { tools });
}

function listServers(view: MetaView): JsonObject {
  const servers = view.servers().map((s) => {
    const item: JsonObject = { id: s.id, state: s.state, tools: s.tools };
    if (s.title !== undefined) item['title'] = s.title;
    if (s.instructions !== undefined) item['instructions'] = s.instructions;
    return item;
  });
  const text = view
    .servers()
    .map((s) => {
      const head = `${s.id}${s.title === undefined ? '' : ` (${s.title})`}: ${s.state}, ${s.tools} tools`;
      const instructions = s.instructions?.trim().replace(/\r?\n/g, '\n  ');
      return instructions ? `${head}\n  ${instructions}` : head;
    })
    .join('\n');
  return answer(text === '' ? 'No servers.' : text, { servers });
}

function checkServer(server: string, view: MetaView): JsonObject | undefined {
  const ids = view.servers().map((s) => s.id);
  if (ids.includes(server)) return undefined;
  return toolError(`Unknown server '${server}'; servers: ${ids.join(', ') || 'none'}.`);
}

function unknownTool(name: string, view: MetaView): JsonObject {
  const similar = toolIndexFor(view)
    .search(name, { limit: 3 })
    .map((h) => h.name);
  const hint = similar.length > 0 ? ` Similar: ${similar.join(', ')}.` : '';
  return toolError(
    `Unknown tool '${name}'; use search_tools or list_tools to find its name.${hint}`,
  );
}

function unknownMetaTool(name: string, view: MetaView): JsonObject {
  if (toolIndexFor(view).get(name) !== undefined) {
    return toolError(
      `'${name}' is reached through call: call {"name": "${name}", "arguments": {...}}.`,
    );
  }
  return toolError(
    `Unknown tool '${name}'; this router's tools are ${META_TOOL_NAMES.join(', ')}. ` +
      'Use search_tools to find a server tool, then call it through call.',
  );
}

/**
 * The arguments checked against the tool's input schema (types, required, no unknown keys),
 * or a message saying what is wrong and what the tool expects. Absent arguments are {}.
 */
function checkArguments(name: MetaToolName, args: unknown): JsonObject | string {
  const schema = SCHEMAS.get(name) as JsonObject;
  const properties = schema['properties'] as Record<string, JsonObject>;
  const required = (schema['required'] as string[] | undefined) ?? [];
  const expected = `${name} takes ${signature(properties, required)}.`;
  if (args === undefined || args === null) args = {};
  if (!isJsonObject(args)) return `${name}: arguments must be an object. ${expected}`;
  for (const key of Object.keys(args)) {
    if (!Object.hasOwn(properties, key)) return `${name}: unknown argument '${key}'. ${expected}`;
  }
  for (const key of required) {
    if (args[key] === undefined) return `${name}: missing argument '${key}'. ${expected}`;
  }
  for (const [key, value] of Object.entries(args)) {
    const problem = typeProblem(value, properties[key] ?? {});
    if (problem !== undefined) return `${name}: '${key}' ${problem}. ${expected}`;
  }
  return args;
}

function typeProblem(value: JsonValue, schema: JsonObject): string | undefined {
  switch (schema['type']) {
    case 'string':
      return typeof value === 'string' && value.trim() !== ''
        ? undefined
        : 'must be a non-empty string';
    case 'object':
      return isJsonObject(value) ? undefined : 'must be an object';
    case 'integer': {
      const min = Number(schema['minimum']);
      if (typeof value === 'number' && Number.isInteger(value) && value >= min) return undefined;
      return `must be an integer from ${min} to ${String(schema['maximum'])}`;
    }
    default:
      return undefined;
  }
}

function signature(properties: Record<string, JsonObject>, required: string[]): string {
  const parts = Object.entries(properties).map(
    ([key, p]) => `${key}${required.includes(key) ? '' : '?'}: ${String(p['type'])}`,
  );
  return parts.length === 0 ? 'no arguments' : `{${parts.join(', ')}}`;
}
