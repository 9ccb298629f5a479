/**
 * The merged catalog: every backend's tools, prompts, resources and resource templates
 * under their exposed names, in config order. What one client sees of it, and the
 * serialized list pages, are its profile's view (`profile-view.ts`).
 *
 * Tools and prompts are renamed (`names.ts`); resource URIs are never rewritten (they
 * appear inside content, links and notifications), so resources are routed by a URI map
 * and templates by matching. On a clash the first server in config order keeps the
 * name, and the clash is reported (`collisions`), never silently resolved.
 *
 * A project's own server (`projects.<name>.servers`, or the project's `.mcp.json`:
 * config/project-files.ts) is named among the config's servers and its own project's only:
 * two projects may both have a `github`, each seen by its own project's sessions
 * (`ProfileViews.viewOf`); a name a config server has already is kept by the config's.
 */
import type { BackendCatalog, CacheHint } from '../../shared/backend-catalog.js';
import type { JsonObject } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import { logger } from '../../shared/log.js';
import { exposeName } from './names.js';
import { paramHeadersOf, type ParamHeader } from '../../shared/header-values.js';
import { compileUriTemplate } from './uri-templates.js';

const log = logger('catalog');

export type ListKind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';

/** List method → catalog kind. */
export const LIST_METHODS: ReadonlyMap<string, ListKind> = new Map([
  ['tools/list', 'tools'],
  ['prompts/list', 'prompts'],
  ['resources/list', 'resources'],
  ['resources/templates/list', 'resourceTemplates'],
]);

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

/** One listed item under its exposed name, with the server that offers it. */
export interface CatalogEntry {
  server: string;
  item: JsonObject;
  /** Tools and prompts: where a call goes. */
  target?: Target;
}

export interface ServerNaming {
  id: string;
  prefix: string;
  /** Set for a project's own server: the project's real folder. */
  ownedBy?: { dir: string } | undefined;
}

export class Catalog {
  #servers: readonly ServerNaming[];
  /** Whether some server is a project's own: asked by every list request (dispatch.ts). */
  #hasProjectServers = false;
  readonly #backends = new Map<string, BackendCatalog>();
  #tools = new Map<string, Target>();
  #prompts = new Map<string, Target>();
  #resources = new Map<string, string>();
  #templates: CompiledTemplate[] = [];
  #entries: Record<ListKind, CatalogEntry[]> = {
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

  constructor(servers: readonly ServerNaming[]) {
    this.#servers = servers;
    this.#hasProjectServers = servers.some((s) => s.ownedBy !== undefined);
    this.#rebuild();
  }

  /** Replaces one backend's catalog. */
  setBackend(server: string, catalog: BackendCatalog): void {
    this.#backends.set(server, wellFormed(server, catalog));
    this.#rebuild();
  }

  /** Whether the server had a catalog. */
  removeBackend(server: string): boolean {
    if (!this.#backends.delete(server)) return false;
    this.#rebuild();
    return true;
  }

  /** A reloaded config: new order or prefixes; servers no longer configured are dropped. */
  setServers(servers: readonly ServerNaming[]): void {
    this.#servers = servers;
    this.#hasProjectServers = servers.some((s) => s.ownedBy !== undefined);
    for (const id of this.#backends.keys()) {
      if (!servers.some((s) => s.id === id)) this.#backends.delete(id);
    }
    this.#rebuild();
  }

  /** Every item of a kind under its exposed name, in config order. */
  entries(kind: ListKind): readonly CatalogEntry[] {
    return this.#entries[kind];
  }

  /** A configured server's name prefix ('' exposes names unchanged); undefined if unknown. */
  /**
   * The instructions of the servers `includes` selects, in config order, each under a heading
   * naming the server (and its tool prefix); undefined when none has any.
   */
  instructions(includes: (server: string) => boolean): string | undefined {
    const parts: string[] = [];
    for (const { id, prefix } of this.#servers) {
      if (!includes(id)) continue;
      const text = this.#backends.get(id)?.instructions;
      if (text) parts.push(`## ${id}${prefix ? ` (tools prefixed ${prefix}__)` : ''}\n${text}`);
    }
    return parts.length === 0 ? undefined : parts.join('\n\n');
  }

  /** Whether some project has servers of its own. */
  get hasProjectServers(): boolean {
    return this.#hasProjectServers;
  }

  /** The real folders of the projects that have servers of their own. */
  projectDirs(): Set<string> {
    return new Set(this.#servers.flatMap((s) => (s.ownedBy === undefined ? [] : [s.ownedBy.dir])));
  }

  /** The project's own servers of the project at `dir`, in config order. */
  projectServers(dir: string): string[] {
    return this.#servers.filter((s) => s.ownedBy?.dir === dir).map((s) => s.id);
  }

  prefixOf(server: string): string | undefined {
    return this.#servers.find((s) => s.id === server)?.prefix;
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

  /**
   * Servers whose listed resources or templates use `scheme` (as in `file:`), for a URI no
   * listing names. Only asked on that miss, so it scans rather than keeps an index.
   */
  serversOfScheme(scheme: string, among: readonly string[]): string[] {
    const prefix = `${scheme.toLowerCase()}:`;
    return among.filter((server) => {
      const catalog = this.#backends.get(server);
      if (catalog === undefined) return false;
      const uses = (value: unknown): boolean =>
        typeof value === 'string' && value.toLowerCase().startsWith(prefix);
      return (
        catalog.resources.some((r) => uses(r['uri'])) ||
        catalog.resourceTemplates.some((t) => uses(t['uriTemplate']))
      );
    });
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
   * The caching hint of a merged list (docs/architecture.md#results-and-errors-by-era): the
   * shortest `ttlMs` of the backends that serve such a list (a legacy one gives none, so 0),
   * private if any is.
   */
  cacheHint(kind: ListKind): CacheHint {
    return this.#hints[kind];
  }

  #rebuild(): void {
    const tools = new Map<string, Target>();
    const prompts = new Map<string, Target>();
    const resources = new Map<string, string>();
    const templates: CompiledTemplate[] = [];
    const items: Record<ListKind, CatalogEntry[]> = {
      tools: [],
      prompts: [],
      resources: [],
      resourceTemplates: [],
    };
    const collisions: Collision[] = [];
    // Per project with a file of its own: its names, over a copy of the config servers'.
    const projectNames = new Map<string, { tools: Map<string, Target>; prompts: typeof prompts }>();
    const namesOf = (
      dir: string | undefined,
    ): { tools: Map<string, Target>; prompts: Map<string, Target> } => {
      if (dir === undefined) return { tools, prompts };
      let names = projectNames.get(dir);
      if (names === undefined)
        projectNames.set(dir, (names = { tools: new Map(tools), prompts: new Map(prompts) }));
      return names;
    };
    // The config's servers first, so that they keep their names whatever the order.
    const ordered = [
      ...this.#servers.filter((s) => s.ownedBy === undefined),
      ...this.#servers.filter((s) => s.ownedBy !== undefined),
    ];

    for (const { id: server, prefix, ownedBy } of ordered) {
      const catalog = this.#backends.get(server);
      if (catalog === undefined) continue;
      const names = namesOf(ownedBy?.dir);
      for (const tool of catalog.tools) {
        const entry = renamed(tool, prefix, names.tools, server, 'tool', collisions);
        if (entry !== undefined) items.tools.push(entry);
      }
      for (const prompt of catalog.prompts) {
        const entry = renamed(prompt, prefix, names.prompts, server, 'prompt', collisions);
        if (entry !== undefined) items.prompts.push(entry);
      }
      for (const resource of catalog.resources) {
        const uri = String(resource['uri']);
        const owner = resources.get(uri);
        if (owner !== undefined) {
          collisions.push({ kind: 'resource', name: uri, kept: owner, dropped: server });
          continue;
        }
        resources.set(uri, server);
        items.resources.push({ server, item: resource });
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
        items.resourceTemplates.push({ server, item: template });
      }
    }

    this.#tools = tools;
    this.#prompts = prompts;
    this.#resources = resources;
    this.#templates = templates;
    this.#entries = items;
    this.#collisions = collisions;
    this.#hints = mergedHints(this.#backends);
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
): CatalogEntry | undefined {
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
  if (exposed.name === name) return { server, item, target };
  const copy: JsonObject = { ...item, name: exposed.name };
  if (exposed.fullName !== undefined && copy['title'] === undefined)
    copy['title'] = exposed.fullName;
  return { server, item: copy, target };
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

/**
 * The catalog without items the router cannot key: a backend is as untrusted as a client, so
 * a tool whose `name` (a resource whose `uri`, a template whose `uriTemplate`) is not a
 * string is left out and logged, never turned into a name by `String()`.
 */
function wellFormed(server: string, catalog: BackendCatalog): BackendCatalog {
  const keep = (items: readonly unknown[], key: string, what: string): JsonObject[] => {
    const kept = items.filter(
      (item): item is JsonObject => isJsonObject(item) && typeof item[key] === 'string',
    );
    if (kept.length < items.length)
      log.warn(
        `server '${server}' listed ${items.length - kept.length} ${what} without a string "${key}": left out`,
      );
    return kept;
  };
  return {
    ...catalog,
    tools: keep(catalog.tools, 'name', 'tool(s)'),
    prompts: keep(catalog.prompts, 'name', 'prompt(s)'),
    resources: keep(catalog.resources, 'uri', 'resource(s)'),
    resourceTemplates: keep(catalog.resourceTemplates, 'uriTemplate', 'resource template(s)'),
  };
}
