/**
 * What one profile sees of the merged catalog
 * (docs/architecture.md#catalog-names-and-profiles): its servers, its allowed tools, prompts
 * and resources under its names, and its list pages, serialized once per change so a `*\/list`
 * costs a lookup. Every lookup a request makes goes through its profile's view, so a denied
 * name and an unknown one are the same thing: absent.
 *
 * A view is rebuilt whenever the catalog changes and reports which of its lists changed, so
 * only the clients of that profile hear `list_changed`.
 */
import type { ProfileConfig } from '../../shared/config/types.js';
import { JsonRpcCode, rpcError } from '../../shared/errors.js';
import type { JsonObject } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import type { CacheHint } from '../../shared/backend-catalog.js';
import type { WireError } from '../../shared/errors.js';
import { logger } from '../../shared/log.js';
import type { Catalog, CatalogEntry, ListKind, Target } from './catalog.js';
import { allowDenyMatcher, type Matcher } from './globs.js';
import { META_TOOLS, type MetaView } from './meta-tools.js';

const log = logger('profiles');

/** Versions are unique across views, so a cache keyed by version never mixes two views. */
let nextVersion = 1;

export const KINDS: readonly ListKind[] = ['tools', 'prompts', 'resources', 'resourceTemplates'];

/** What a view needs to know about servers beyond the catalog (their state). */
export type ServerStateOf = (server: string) => string;

export class ProfileView implements MetaView {
  readonly config: ProfileConfig;
  readonly #catalog: Catalog;
  readonly #pageSize: number;
  readonly #stateOf: ServerStateOf;
  readonly #servers: ReadonlySet<string>;
  readonly #toolAllowed: Matcher;
  readonly #promptAllowed: Matcher;
  readonly #resourceAllowed: Matcher;
  #tools = new Map<string, Target>();
  #prompts = new Map<string, Target>();
  #toolList: { server: string; tool: JsonObject }[] = [];
  #pages: Record<ListKind, string[]> = emptyPages();
  /** The tools pages without task-only tools, when the view has any (else the same pages). */
  #pagesWithoutTaskOnlyTools: string[] = [];
  #version = 0;
  /** Rename clashes already logged, so a rebuild does not repeat them. */
  readonly #reported = new Set<string>();

  /**
   * What its changes are reported under (`ProfileViews`): the profile's name, or for a
   * project's view the profile's name and the project's folder.
   */
  readonly key: string;

  constructor(
    config: ProfileConfig,
    catalog: Catalog,
    pageSize: number,
    stateOf: ServerStateOf,
    key = config.name,
  ) {
    this.config = config;
    this.key = key;
    this.#catalog = catalog;
    this.#pageSize = pageSize;
    this.#stateOf = stateOf;
    this.#servers = new Set(config.servers);
    this.#toolAllowed = allowDenyMatcher(config.tools);
    this.#promptAllowed = allowDenyMatcher(config.prompts);
    this.#resourceAllowed = allowDenyMatcher(config.resources);
    this.rebuild();
  }

  get name(): string {
    return this.config.name;
  }

  get meta(): boolean {
    return this.config.toolSurface === 'meta';
  }

  /** Changes whenever the profile's tools change (search indexes are cached per version). */
  get version(): number {
    return this.#version;
  }

  tool(name: string): Target | undefined {
    return this.#tools.get(name);
  }

  prompt(name: string): Target | undefined {
    return this.#prompts.get(name);
  }

  /** The server of a URI this profile may read, else undefined. */
  resourceServer(uri: string): string | undefined {
    const server = this.#catalog.resourceServer(uri);
    return server !== undefined && this.#servers.has(server) && this.#resourceAllowed(uri)
      ? server
      : undefined;
  }

  /**
   * Servers may serve URIs they do not list (a file under a listed folder, a generated
   * report): the server to try for a URI that no listing or template of any server names —
   * the view's only resource server, or the only one whose listed URIs share its scheme.
   */
  unlistedResourceServer(uri: string): string | undefined {
    if (!this.#resourceAllowed(uri) || this.#catalog.resourceServer(uri) !== undefined)
      return undefined;
    const candidates = this.config.servers.filter(
      (id) => this.#catalog.backend(id)?.capabilities['resources'] !== undefined,
    );
    if (candidates.length === 1) return candidates[0];
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1];
    const byScheme = scheme === undefined ? [] : this.#catalog.serversOfScheme(scheme, candidates);
    return byScheme.length === 1 ? byScheme[0] : undefined;
  }

  /** The server of a template this profile sees (for `completion/complete`). */
  templateServer(uriTemplate: string): string | undefined {
    const server = this.#catalog.templateServer(uriTemplate);
    return server !== undefined && this.#servers.has(server) && this.#resourceAllowed(uriTemplate)
      ? server
      : undefined;
  }

  /** Whether this profile sees a server at all. */
  hasServer(server: string): boolean {
    return this.#servers.has(server);
  }

  /** The shared list hint; a restricted view's lists are its own, so private. */
  cacheHint(kind: ListKind): CacheHint {
    const hint = this.#catalog.cacheHint(kind);
    return this.config.restricted ? { ...hint, cacheScope: 'private' } : hint;
  }

  /**
   * The serialized result of a list request, or the error for a bad cursor. A client that
   * cannot call tools as tasks is not shown the tools that only run as one.
   */
  page(
    kind: ListKind,
    cursor: unknown,
    callsToolsAsTasks = true,
  ): { json: string } | { error: WireError } {
    const pages =
      kind === 'tools' && !callsToolsAsTasks ? this.#pagesWithoutTaskOnlyTools : this.#pages[kind];
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

  // MetaView: what the router's own tools report.
  servers(): { id: string; state: string; tools: number; title?: string; instructions?: string }[] {
    return this.config.servers.map((id) => {
      const backend = this.#catalog.backend(id);
      const info = backend?.serverInfo;
      const title = info?.['title'] ?? info?.['name'];
      return {
        id,
        state: this.#stateOf(id),
        tools: this.#toolList.filter((t) => t.server === id).length,
        ...(typeof title === 'string' ? { title } : {}),
        ...(backend?.instructions ? { instructions: backend.instructions } : {}),
      };
    });
  }

  tools(): readonly { server: string; tool: JsonObject }[] {
    return this.#toolList;
  }

  /** Every page of a list, for comparing two views of the same profile. */
  pageText(kind: ListKind): string {
    return this.#pages[kind].join('\n');
  }

  /** Recomputes the view from the catalog; returns the list kinds whose pages changed. */
  rebuild(): Set<ListKind> {
    const tools = this.#named('tool', this.#catalog.entries('tools'), this.#toolAllowed);
    const prompts = this.#named('prompt', this.#catalog.entries('prompts'), this.#promptAllowed);
    const visible = (entries: readonly CatalogEntry[], key: string): JsonObject[] =>
      entries
        .filter((e) => this.#servers.has(e.server) && this.#resourceAllowed(String(e.item[key])))
        .map((e) => e.item);
    const items: Record<ListKind, readonly JsonObject[]> = {
      tools: this.meta ? META_TOOLS : tools.list.map((t) => t.item),
      prompts: prompts.list.map((p) => p.item),
      resources: visible(this.#catalog.entries('resources'), 'uri'),
      resourceTemplates: visible(this.#catalog.entries('resourceTemplates'), 'uriTemplate'),
    };
    const changed = new Set<ListKind>();
    const pages = emptyPages();
    for (const kind of KINDS) {
      pages[kind] = paginate(kind, items[kind], this.#pageSize);
      if (pages[kind].join('\n') !== this.#pages[kind].join('\n')) changed.add(kind);
    }
    const runnable = items.tools.filter((tool) => !taskOnly(tool));
    const withoutTaskOnly =
      runnable.length === items.tools.length
        ? pages.tools
        : paginate('tools', runnable, this.#pageSize);
    const toolList = tools.list.map(({ server, item }) => ({ server, tool: item }));
    const toolsChanged = JSON.stringify(toolList) !== JSON.stringify(this.#toolList);
    this.#tools = tools.targets;
    this.#prompts = prompts.targets;
    this.#toolList = toolList;
    this.#pages = pages;
    this.#pagesWithoutTaskOnlyTools = withoutTaskOnly;
    if (toolsChanged) {
      this.#version = nextVersion++;
      // A meta view's list never changes, but what list_tools and search_tools say does.
      if (this.meta) changed.add('tools');
    }
    return changed;
  }

  /** Tools or prompts of the view's servers that its rules allow, under its names. */
  #named(
    kind: 'tool' | 'prompt',
    entries: readonly CatalogEntry[],
    allowed: Matcher,
  ): { targets: Map<string, Target>; list: { server: string; item: JsonObject }[] } {
    const rename = kind === 'tool' ? this.config.tools.rename : this.config.prompts.rename;
    const targets = new Map<string, Target>();
    const list: { server: string; item: JsonObject }[] = [];
    for (const { server, item, target } of entries) {
      const exposed = String(item['name']);
      if (!this.#servers.has(server) || target === undefined || !allowed(exposed)) continue;
      const name = (Object.hasOwn(rename, exposed) ? rename[exposed] : undefined) ?? exposed;
      if (targets.has(name)) {
        const key = `${kind}:${name}`;
        if (!this.#reported.has(key)) {
          this.#reported.add(key);
          log.warn(
            `profile '${this.name}': the ${kind} '${exposed}' is renamed to '${name}', which another ${kind} already has; the first one keeps the name`,
          );
        }
        continue;
      }
      targets.set(name, target);
      list.push({ server, item: name === exposed ? item : { ...item, name } });
    }
    return { targets, list };
  }
}

function emptyPages(): Record<ListKind, string[]> {
  return { tools: [], prompts: [], resources: [], resourceTemplates: [] };
}

function paginate(kind: ListKind, items: readonly JsonObject[], pageSize: number): string[] {
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

/** A tool that can only be called as a task (2025-11-25 `execution.taskSupport: "required"`). */
function taskOnly(tool: JsonObject): boolean {
  const execution = tool['execution'];
  return isJsonObject(execution) && execution['taskSupport'] === 'required';
}
