/**
 * One backend's catalog, kept current: every list the server declared is read (all pages,
 * `catalog-fetch.ts`) at each start and sent as `catalog`; a `list_changed` marks its lists
 * changed, and a burst of them becomes one re-read and one new catalog. A stateless HTTP
 * server's tools have their `x-mcp-header` parameters noted here for its channel.
 */
import { RequestFailed, type BackendPeer } from './backend-peer.js';
import type { Sink } from './wires.js';
import {
  LIST_KINDS,
  declares,
  emptyCatalog,
  listAll,
  type ListKind,
  type ListOutcome,
} from './catalog-fetch.js';
import { paramHeadersOf, type ParamHeader } from '../../shared/header-values.js';
import type { JsonObject } from '../../shared/json.js';
import type { Logger } from '../../shared/log.js';
import type { BackendCatalog } from '../../shared/backend-catalog.js';

/** Coalesces bursts of list_changed into one re-list (and one catalog message). */
const LIST_CHANGED_DEBOUNCE_MS = 20;

export interface CatalogKeeperOptions {
  server: string;
  peer: BackendPeer;
  out: Sink;
  log: Logger;
  /** Each list request's timeout (the server's `timeoutMs`). */
  timeoutMs: number;
  /** Whether the backend is `ready`: a re-read waits for the next start otherwise. */
  ready: () => boolean;
  /** The backend's spawn count: lists read for an older process are dropped. */
  generation: () => number;
  /** Whether the process lives (a failed re-read of a dead one is not worth a warning). */
  live: () => boolean;
  /** Whether the server is a stateless HTTP one, whose tools' `x-mcp-header`s are checked. */
  statelessHttp: () => boolean;
}

export class CatalogKeeper {
  readonly #options: CatalogKeeperOptions;
  #catalog: BackendCatalog = emptyCatalog();
  /** Tools' `x-mcp-header` parameters (stateless HTTP backends only), read per call. */
  paramHeaders = new Map<string, ParamHeader[]>();
  readonly #dirty = new Set<ListKind>();
  #refreshTimer: NodeJS.Timeout | null = null;
  #refreshing = false;

  constructor(options: CatalogKeeperOptions) {
    this.#options = options;
  }

  /** The catalog last sent. */
  get catalog(): BackendCatalog {
    return this.#catalog;
  }

  /**
   * A start: reads every list the handshake's `catalog` declares into it and sends it; false
   * (nothing sent) when the start stopped being `current` meanwhile.
   */
  async load(catalog: BackendCatalog, current: () => boolean): Promise<boolean> {
    const kinds = LIST_KINDS.filter((kind) => declares(catalog.capabilities, kind));
    const lists = await Promise.all(kinds.map((kind) => this.#list(kind)));
    if (!current()) return false;
    this.#fill(catalog, kinds, lists);
    this.#catalog = catalog;
    this.#options.out({ type: 'catalog', server: this.#options.server, catalog, signalled: [] });
    return true;
  }

  /** The server said these lists changed; `scheduleRefresh` re-reads them. */
  markChanged(kinds: readonly ListKind[]): void {
    for (const kind of kinds) this.#dirty.add(kind);
  }

  /** Changes noted before a start are read by the start itself. */
  forgetChanges(): void {
    this.#dirty.clear();
  }

  /** Lists marked changed while a start was reading them are re-read. */
  refreshIfChanged(): void {
    if (this.#dirty.size > 0) this.scheduleRefresh();
  }

  scheduleRefresh(): void {
    if (this.#refreshTimer !== null || this.#refreshing) return;
    this.#refreshTimer = setTimeout(CatalogKeeper.#onRefreshDue, LIST_CHANGED_DEBOUNCE_MS, this);
  }

  /** The process is gone or stopping: the next start lists everything anyway. */
  cancelRefresh(): void {
    if (this.#refreshTimer !== null) clearTimeout(this.#refreshTimer);
    this.#refreshTimer = null;
  }

  static #onRefreshDue(keeper: CatalogKeeper): void {
    keeper.#refreshTimer = null;
    void keeper.#refresh();
  }

  /** Re-reads the lists that changed (all pages) and sends a new full catalog. */
  async #refresh(): Promise<void> {
    const { ready, generation: generationNow } = this.#options;
    if (!ready()) return; // the next start lists everything anyway
    const kinds = [...this.#dirty].filter((kind) => declares(this.#catalog.capabilities, kind));
    this.#dirty.clear();
    if (kinds.length === 0) return;
    const generation = generationNow();
    this.#refreshing = true;
    try {
      const lists = await Promise.all(kinds.map((kind) => this.#list(kind)));
      if (generation !== generationNow() || !ready()) return;
      const catalog = { ...this.#catalog, cacheHints: { ...this.#catalog.cacheHints } };
      this.#fill(catalog, kinds, lists);
      this.#catalog = catalog;
      this.#options.out({
        type: 'catalog',
        server: this.#options.server,
        catalog,
        signalled: kinds,
      });
    } catch (error) {
      // After an exit the next start lists everything; only a live server's failure matters.
      if (generation === generationNow() && this.#options.live()) {
        this.#options.log.warn(`could not re-read lists: ${String(error)}`);
      }
    } finally {
      this.#refreshing = false;
      if (this.#dirty.size > 0 && ready()) this.scheduleRefresh();
    }
  }

  #list(kind: ListKind): Promise<ListOutcome> {
    const { peer, timeoutMs, log } = this.#options;
    return listAll(
      (method, params) => peer.request(method, params, timeoutMs),
      kind,
      (problem) => log.warn(problem.message),
    ).catch((error: unknown) => {
      // A list the server declared but cannot serve is reported and left empty; an exit
      // or timeout fails the whole start.
      if (error instanceof RequestFailed && error.kind === 'error') {
        log.warn(`${error.message}; its ${kind} are left out of the catalog`);
        return { items: [] };
      }
      throw error;
    });
  }

  /** Puts freshly read lists (and their caching hints) into a catalog being built. */
  #fill(catalog: BackendCatalog, kinds: ListKind[], lists: ListOutcome[]): void {
    kinds.forEach((kind, i) => {
      const list = lists[i];
      catalog[kind] = list?.items ?? [];
      if (list?.hint !== undefined) catalog.cacheHints[kind] = list.hint;
    });
    if (kinds.includes('tools') && this.#options.statelessHttp()) {
      catalog.tools = this.#headerChecked(catalog.tools);
    }
  }

  /**
   * A stateless HTTP server's tools with their `x-mcp-header` parameters noted; a tool whose
   * annotations are invalid is left out (the spec's MUST for HTTP clients), with a warning.
   */
  #headerChecked(tools: JsonObject[]): JsonObject[] {
    const headers = new Map<string, ParamHeader[]>();
    const valid = tools.filter((tool) => {
      const checked = paramHeadersOf(tool['inputSchema']);
      const name = String(tool['name']);
      if (!checked.ok) {
        this.#options.log.warn(
          `tool '${name}' is left out: invalid x-mcp-header (${checked.reason})`,
        );
        return false;
      }
      if (checked.headers.length > 0) headers.set(name, checked.headers);
      return true;
    });
    this.paramHeaders = headers;
    return valid;
  }
}
