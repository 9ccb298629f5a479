/**
 * The merged catalog: every backend's tools, prompts, resources and resource templates
 * under their exposed names, in config order, with list pages serialized once per
 * rebuild so `*\/list` requests are answered without any work but a lookup.
 *
 * Tools and prompts are renamed (`names.ts`); resource URIs are never rewritten (they
 * appear inside content, links and notifications), so resources are routed by a URI map
 * and templates by matching. On a clash the first server in config order keeps the
 * name, and the clash is reported (`collisions`), never silently resolved.
 */
import type { BackendCatalog, CacheHint, WireError } from '../shared/messages.js';
import type { JsonObject } from '../shared/json.js';
import { JsonRpcCode, rpcError } from '../shared/errors.js';
import { exposeName } from './names.js';
import { paramHeadersOf, type ParamHeader } from '../shared/header-values.js';
import { compileUriTemplate } from './uri-templates.js';

export type ListKind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';

/** List method → catalog kind. */
export const LIST_METHODS: Readonly<Record<string, ListKind>> = {
  'tools/list': 'tools',
  'prompts/list': 'prompts',
  'resources/list': 'resources',
  'resources/templates/list': 'resourceTemplates',
};

export interface Target {
  server: string;
  /** The name the backend knows. */
  name: string;
  /** A tool's `x-mcp-header` parameters, which a 2026-07-28 client must send as headers. */
  paramHeaders?: ParamHeader[];
}

export interface Collision {
  kind: 'tool' | 'prompt' | 'resource' | 'resource template';
  name: string;
  kept: string;
  dropped: string;
}

interface CompiledTemplate {
  server: string;
  uriTemplate: string;
  pattern: RegExp;
}

export interface ServerNaming {
  id: string;
  prefix: string;
}

export class Catalog {
  readonly #servers: readonly ServerNaming[];
  readonly #pageSize: number;
  readonly #backends = new Map<string, BackendCatalog>();
  #tools = new Map<string, Target>();
  #prompts = new Map<string, Target>();
  #resources = new Map<string, string>();
  #templates: CompiledTemplate[] = [];
  #pages: Record<ListKind, string[]> = {
    tools: [],
    prompts: [],
    resources: [],
    resourceTemplates: [],
  };
  #collisions: Collision[] = [];
  #hints: Record<ListKind, CacheHint> = {
    tools: NO_CACHING,
    prompts: NO_CACHING,
    resources: NO_CACHING,
    resourceTemplates: NO_CACHING,
  };

  constructor(servers: readonly ServerNaming[], pageSize: number) {
    this.#servers = servers;
    this.#pageSize = pageSize;
    this.#rebuild();
  }

  /** Replaces one backend's catalog; returns the list kinds whose pages changed. */
  setBackend(server: string, catalog: BackendCatalog): Set<ListKind> {
    this.#backends.set(server, catalog);
    return this.#rebuild();
  }

  removeBackend(server: string): Set<ListKind> {
    if (!this.#backends.delete(server)) return new Set();
    return this.#rebuild();
  }

  backend(server: string): BackendCatalog | undefined {
    return this.#backends.get(server);
  }

  tool(exposed: string): Target | undefined {
    return this.#tools.get(exposed);
  }

  prompt(exposed: string): Target | undefined {
    return this.#prompts.get(exposed);
  }

  /** The backend serving a URI: a listed resource first, then the first matching template. */
  resourceServer(uri: string): string | undefined {
    const listed = this.#resources.get(uri);
    if (listed !== undefined) return listed;
    return this.#templates.find((t) => t.pattern.test(uri))?.server;
  }

  /** The backend that declared a template, for `completion/complete` with `ref/resource`. */
  templateServer(uriTemplate: string): string | undefined {
    return (
      this.#templates.find((t) => t.uriTemplate === uriTemplate)?.server ??
      this.resourceServer(uriTemplate)
    );
  }

  get collisions(): readonly Collision[] {
    return this.#collisions;
  }

  /** Exposed tool name → target, in list order (for /api). */
  toolTargets(): ReadonlyMap<string, Target> {
    return this.#tools;
  }

  /** The servers whose backend declared a capability, e.g. 'logging'. */
  serversWith(capability: string): string[] {
    const servers: string[] = [];
    for (const [server, catalog] of this.#backends) {
      if (catalog.capabilities[capability] !== undefined) servers.push(server);
    }
    return servers;
  }

  /**
   * The caching hint of a merged list (protocol.md §2.12): the shortest `ttlMs` of the
   * backends that serve such a list (a legacy one gives none, so 0), private if any is.
   */
  cacheHint(kind: ListKind): CacheHint {
    return this.#hints[kind];
  }

  /** The serialized result of a list request, or the error for a bad cursor. */
  page(kind: ListKind, cursor: unknown): { json: string } | { error: WireError } {
    const pages = this.#pages[kind];
    if (cursor === undefined) return { json: pages[0] as string };
    const index = typeof cursor === 'string' ? decodeCursor(cursor) : undefined;
    if (index === undefined || index >= pages.length) {
      return {
        error: rpcError(
          JsonRpcCode.InvalidParams,
          `Invalid cursor: ${JSON.stringify(cursor)} is not a cursor this server issued; list again without a cursor`,
        ),
      };
    }
    return { json: pages[index] as string };
  }

  #rebuild(): Set<ListKind> {
    const tools = new Map<string, Target>();
    const prompts = new Map<string, Target>();
    const resources = new Map<string, string>();
    const templates: CompiledTemplate[] = [];
    const items: Record<ListKind, JsonObject[]> = {
      tools: [],
      prompts: [],
      resources: [],
      resourceTemplates: [],
    };
    const collisions: Collision[] = [];

    for (const { id: server, prefix } of this.#servers) {
      const catalog = this.#backends.get(server);
      if (catalog === undefined) continue;
      for (const tool of catalog.tools) {
        const item = renamed(tool, prefix, tools, server, 'tool', collisions);
        if (item !== undefined) items.tools.push(item);
      }
      for (const prompt of catalog.prompts) {
        const item = renamed(prompt, prefix, prompts, server, 'prompt', collisions);
        if (item !== undefined) items.prompts.push(item);
      }
      for (const resource of catalog.resources) {
        const uri = String(resource['uri']);
        const owner = resources.get(uri);
        if (owner !== undefined) {
          collisions.push({ kind: 'resource', name: uri, kept: owner, dropped: server });
          continue;
        }
        resources.set(uri, server);
        items.resources.push(resource);
      }
      for (const template of catalog.resourceTemplates) {
        const uriTemplate = String(template['uriTemplate']);
        const owner = templates.find((t) => t.uriTemplate === uriTemplate);
        if (owner !== undefined) {
          collisions.push({
            kind: 'resource template',
            name: uriTemplate,
            kept: owner.server,
            dropped: server,
          });
          continue;
        }
        templates.push({ server, uriTemplate, pattern: compileUriTemplate(uriTemplate) });
        items.resourceTemplates.push(template);
      }
    }

    const changed = new Set<ListKind>();
    const pages = {} as Record<ListKind, string[]>;
    for (const kind of Object.keys(items) as ListKind[]) {
      pages[kind] = paginate(kind, items[kind], this.#pageSize);
      if (pages[kind].join('\n') !== this.#pages[kind].join('\n')) changed.add(kind);
    }
    this.#tools = tools;
    this.#prompts = prompts;
    this.#resources = resources;
    this.#templates = templates;
    this.#pages = pages;
    this.#collisions = collisions;
    this.#hints = mergedHints(this.#backends);
    return changed;
  }
}

/** The item under its exposed name, registered in `names`; undefined on a clash. */
function renamed(
  item: JsonObject,
  prefix: string,
  names: Map<string, Target>,
  server: string,
  kind: 'tool' | 'prompt',
  collisions: Collision[],
): JsonObject | undefined {
  const name = String(item['name']);
  const exposed = exposeName(prefix, name);
  const owner = names.get(exposed.name);
  if (owner !== undefined) {
    collisions.push({ kind, name: exposed.name, kept: owner.server, dropped: server });
    return undefined;
  }
  const target: Target = { server, name };
  if (kind === 'tool') {
    const checked = paramHeadersOf(item['inputSchema']);
    if (checked.ok && checked.headers.length > 0) target.paramHeaders = checked.headers;
  }
  names.set(exposed.name, target);
  if (exposed.name === name) return item;
  const copy: JsonObject = { ...item, name: exposed.name };
  if (exposed.fullName !== undefined && copy['title'] === undefined)
    copy['title'] = exposed.fullName;
  return copy;
}

function paginate(kind: ListKind, items: JsonObject[], pageSize: number): string[] {
  const pages: string[] = [];
  for (let start = 0; start === 0 || start < items.length; start += pageSize) {
    const next = start + pageSize < items.length ? encodeCursor(pages.length + 1) : undefined;
    const result: JsonObject = { [kind]: items.slice(start, start + pageSize) };
    if (next !== undefined) result['nextCursor'] = next;
    pages.push(JSON.stringify(result));
  }
  return pages;
}

// Cursors are opaque to clients: a page index behind a tag, base64url-encoded.
function encodeCursor(pageIndex: number): string {
  return Buffer.from(`mcpd:${pageIndex}`).toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  const match = /^mcpd:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString());
  return match ? Number(match[1]) : undefined;
}

const NO_CACHING: CacheHint = { ttlMs: 0, cacheScope: 'public' };

const LIST_CAPABILITY: Record<ListKind, string> = {
  tools: 'tools',
  prompts: 'prompts',
  resources: 'resources',
  resourceTemplates: 'resources',
};

function mergedHints(backends: ReadonlyMap<string, BackendCatalog>): Record<ListKind, CacheHint> {
  const merged = {} as Record<ListKind, CacheHint>;
  for (const kind of Object.keys(LIST_CAPABILITY) as ListKind[]) {
    let ttlMs: number | undefined;
    let cacheScope: CacheHint['cacheScope'] = 'public';
    for (const catalog of backends.values()) {
      if (catalog.capabilities[LIST_CAPABILITY[kind]] === undefined) continue;
      const hint = catalog.cacheHints[kind];
      ttlMs = Math.min(ttlMs ?? Infinity, hint?.ttlMs ?? 0);
      if (hint?.cacheScope === 'private') cacheScope = 'private';
    }
    merged[kind] = { ttlMs: ttlMs ?? 0, cacheScope };
  }
  return merged;
}
