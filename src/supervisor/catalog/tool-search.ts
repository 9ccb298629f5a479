/**
 * Ranked search over a profile's tools for the `search_tools` meta tool, so an agent facing
 * hundreds of tools finds the right one in one step. Ranking is minisearch's BM25+ over four
 * fields (name, title, server, description), boosted in that order; this module only decides
 * what a term is:
 *
 * - names split on `__`, `_`, `-`, `.`, `/` and camelCase (`s3__listBuckets` → s3, list,
 *   buckets), so the words of a name match the words of a query;
 * - lower-cased, English stop words dropped ("delete a pod" searches delete, pod), and a light
 *   suffix stemmer folds plurals and verb forms ("Creates", "created" and "create" → creat) on
 *   both the indexed and the query side;
 * - a query term also matches as a prefix (3+ characters: "presign" finds getPresignedUrl) and
 *   with one typo (5+ characters: "kubernets"), each worth less than an exact match;
 * - a few words agents use ("open", "PR", "ticket", "send") also search what descriptions say
 *   ("create", "pull request", "issue", "post"), at half weight (`SYNONYMS`).
 *
 * Noise is cut three ways, so a query sharing no meaningful word with the catalog returns []:
 * a score floor scaled to the catalog size (`MIN_SCORE_FACTOR`), a floor relative to the best
 * hit (`RELATIVE_FLOOR`), and a hit finding under half the query's words must find one in the
 * tool's name or title (`relevant`). test/unit/supervisor/catalog/tool-search.test.ts holds the
 * calibration.
 * `toolIndexFor` builds an index once per tool-set version.
 */
import MiniSearch from 'minisearch';
import type { Query, SearchOptions, SearchResult } from 'minisearch';

import type { JsonObject } from '../../shared/json.js';

export interface IndexedTool {
  server: string;
  /** The tool as tools/list shows it, under its exposed name. */
  tool: JsonObject;
}

export interface ToolHit {
  /** The exposed name, to pass to `describe` or `call`. */
  name: string;
  server: string;
  /** BM25+ score rounded to two decimals; only comparable within one query. */
  score: number;
  /** The first line of the description (see `firstLine`). */
  description: string;
}

export interface ToolSearchOptions {
  /** How many hits at most: default `DEFAULT_LIMIT`, clamped to 1..`MAX_LIMIT`. */
  limit?: number;
  /** Only this server's tools. */
  server?: string;
}

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 50;
/**
 * The floor a hit's score must reach, as a multiple of the inverse document frequency of a word
 * found in a single tool (BM25 scores grow with the catalog, so a fixed floor would not do).
 * With 250 tools that unit is 5.1 (floor 3.1): a word found in one or two descriptions only
 * scores 6.5 to 8.3 there, a typo matching names ("bucketz") about 4, a lone prefix near-miss on
 * a description word ("sec" → secondary) 2.4 to 2.7.
 */
export const MIN_SCORE_FACTOR = 0.6;
/** Hits scoring under this fraction of the best hit are tail noise and left out. */
export const RELATIVE_FLOOR = 0.1;

const FIELDS = ['name', 'title', 'server', 'description'] as const;
const BOOST: Record<(typeof FIELDS)[number], number> = {
  name: 3,
  title: 2,
  server: 1.5,
  description: 1,
};
const MAX_FIRST_LINE = 200;
/** Distinct words searched at most: a few words find a tool, a pasted document only costs time. */
const MAX_QUERY_WORDS = 24;

// prettier-ignore
const STOP_WORDS = new Set([
  'a', 'an', 'and', 'any', 'are', 'as', 'at', 'be', 'by', 'can', 'do', 'does', 'for', 'from',
  'how', 'i', 'if', 'in', 'into', 'is', 'it', 'its', 'me', 'my', 'need', 'of', 'on', 'or',
  'our', 'please', 'should', 'so', 'some', 'that', 'the', 'their', 'them', 'then', 'there',
  'these', 'this', 'those', 'to', 'tool', 'tools', 'use', 'using', 'via', 'want', 'we', 'what',
  'when', 'where', 'which', 'who', 'why', 'will', 'with', 'would', 'you', 'your',
]);

/**
 * Words agents use for what tool descriptions tend to say otherwise. A query word also searches
 * its synonyms, at half weight, so "open a PR" finds create_pull_request and "send a message to a
 * channel" finds post_message, while a tool using the agent's own word still ranks first.
 */
// prettier-ignore
const SYNONYMS: ReadonlyMap<string, string> = new Map(Object.entries({
  open: 'create', new: 'create', make: 'create', add: 'create',
  remove: 'delete', erase: 'delete', destroy: 'delete', delete: 'remove',
  send: 'post', post: 'send', dm: 'direct message',
  show: 'get list', view: 'get', display: 'get', fetch: 'get', download: 'get', retrieve: 'get',
  find: 'search', lookup: 'search get', look: 'search',
  edit: 'update', change: 'update', modify: 'update', rename: 'move',
  ticket: 'issue', bug: 'issue', pr: 'pull request', prs: 'pull requests', repo: 'repository',
  db: 'database', k8s: 'kubernetes', kill: 'stop cancel', terminate: 'stop cancel',
  rollback: 'roll back undo', revert: 'undo roll back', upload: 'put', meeting: 'event',
  appointment: 'event', chargeback: 'dispute', folder: 'directory', dir: 'directory',
  doc: 'page', document: 'page', mail: 'email', permission: 'grant',
}));
const SYNONYM_WEIGHT = 0.5;

/** Words of a name or a text: split on non-alphanumerics and camelCase, lower-cased. */
export function tokenize(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '');
}

/** A word's index term: null for a stop word, else a light stem (same on both sides). */
export function normalizeTerm(word: string): string | null {
  if (STOP_WORDS.has(word)) return null;
  let term = word;
  if (term.length > 4 && term.endsWith('ies')) term = `${term.slice(0, -3)}y`;
  else if (term.length > 4 && term.endsWith('sses')) term = term.slice(0, -2);
  else if (term.length > 3 && /[^su]s$/.test(term) && !term.endsWith('is'))
    term = term.slice(0, -1);
  const suffix = /(?:ing|ed)$/.exec(term)?.[0] ?? '';
  const stem = term.slice(0, term.length - suffix.length);
  // As in Porter's stemmer, only when a vowel is left ("string" stays); "running" → "run".
  if (suffix !== '' && stem.length >= 3 && /[aeiouy]/.test(stem)) {
    const doubled = /([b-df-hj-np-rtv-z])\1$/.test(stem) && !/(ll|ss|zz)$/.test(stem);
    term = doubled ? stem.slice(0, -1) : stem;
  }
  if (term.length > 3 && term.endsWith('e')) term = term.slice(0, -1);
  return term;
}

/**
 * The first non-empty line of a description, cut at a sentence end (or hard, with "…") when
 * longer than 200 characters; '' when there is none.
 */
export function firstLine(description: unknown): string {
  if (typeof description !== 'string') return '';
  const line = description
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '');
  if (line === undefined || line.length <= MAX_FIRST_LINE) return line ?? '';
  const sentence = line.slice(0, MAX_FIRST_LINE).lastIndexOf('. ');
  return sentence > 40 ? line.slice(0, sentence + 1) : `${line.slice(0, MAX_FIRST_LINE - 1)}…`;
}

interface Doc {
  id: number;
  name: string;
  title: string;
  server: string;
  description: string;
}

export class ToolIndex {
  readonly #tools: readonly IndexedTool[];
  readonly #byName = new Map<string, IndexedTool>();
  readonly #search: MiniSearch<Doc>;
  readonly #minScore: number;

  /** `serverTitles` (server id → title) makes a server findable by its title too. */
  constructor(tools: readonly IndexedTool[], serverTitles?: ReadonlyMap<string, string>) {
    this.#tools = tools;
    this.#minScore = MIN_SCORE_FACTOR * Math.log(1 + (tools.length - 0.5) / 1.5);
    for (const entry of tools) this.#byName.set(String(entry.tool['name']), entry);
    this.#search = new MiniSearch<Doc>({
      fields: [...FIELDS],
      tokenize,
      processTerm: normalizeTerm,
      searchOptions: {
        boost: BOOST,
        prefix: (term) => term.length >= 3,
        fuzzy: (term) => (term.length >= 5 ? 1 : false),
        weights: { prefix: 0.4, fuzzy: 0.25 },
      },
    });
    this.#search.addAll(
      tools.map(({ server, tool }, id) => ({
        id,
        name: String(tool['name']),
        title: titleOf(tool),
        server: [...new Set(tokenize(`${server} ${serverTitles?.get(server) ?? ''}`))].join(' '),
        description: typeof tool['description'] === 'string' ? tool['description'] : '',
      })),
    );
  }

  get size(): number {
    return this.#tools.length;
  }

  /** The tool exposed under `name`. */
  get(name: string): IndexedTool | undefined {
    return this.#byName.get(name);
  }

  /** Hits best first; [] for a query with no searchable words or no hit above the floor. */
  search(query: string, options: ToolSearchOptions = {}): ToolHit[] {
    const wanted = Math.trunc(options.limit ?? DEFAULT_LIMIT);
    const limit = Number.isFinite(wanted)
      ? Math.min(Math.max(wanted, 1), MAX_LIMIT)
      : DEFAULT_LIMIT;
    const server = options.server;
    const searchOptions: SearchOptions = {};
    if (server !== undefined) {
      searchOptions.filter = (result) => this.#tools[result['id'] as number]?.server === server;
    }
    const parsed = parseQuery(query);
    const results = this.#search.search(parsed.query, searchOptions);
    const floor = Math.max(this.#minScore, (results[0]?.score ?? 0) * RELATIVE_FLOOR);
    const hits: ToolHit[] = [];
    for (const result of results) {
      if (hits.length >= limit || result.score < floor) break;
      const entry = this.#tools[result['id'] as number];
      if (entry === undefined || !relevant(result, parsed.words)) continue;
      hits.push({
        name: String(entry.tool['name']),
        server: entry.server,
        score: Math.round(result.score * 100) / 100,
        description: firstLine(entry.tool['description']),
      });
    }
    return hits;
  }
}

interface ParsedQuery {
  query: Query;
  /** Each searchable word of the query, with the terms that count as finding it (synonyms). */
  words: ReadonlySet<string>[];
}

/** The query's distinct searchable words, or-ed with their synonyms at `SYNONYM_WEIGHT`. */
function parseQuery(query: string): ParsedQuery {
  const words = new Map<string, Set<string>>();
  const own: string[] = [];
  const extra: string[] = [];
  for (const word of tokenize(query)) {
    const term = normalizeTerm(word);
    if (term === null || words.has(term)) continue;
    if (own.length === MAX_QUERY_WORDS) break;
    own.push(word);
    const aliases = new Set([term]);
    for (const synonym of SYNONYMS.get(word)?.split(' ') ?? []) {
      const alias = normalizeTerm(synonym);
      if (alias !== null) aliases.add(alias);
      extra.push(synonym);
    }
    words.set(term, aliases);
  }
  const text = own.join(' ');
  return {
    query:
      extra.length === 0
        ? text
        : {
            combineWith: 'OR',
            queries: [text, { queries: [extra.join(' ')], boostTerm: () => SYNONYM_WEIGHT }],
          },
    words: [...words.values()],
  };
}

/**
 * Whether a result is an answer rather than noise: it finds at least half the query's words, or
 * one of them in its name or title. ("translate text to french" finding "text" in a description
 * is noise; "who is free tomorrow" finding get-freebusy by name is not.)
 */
function relevant(result: SearchResult, words: readonly ReadonlySet<string>[]): boolean {
  const found = words.filter((aliases) => result.queryTerms.some((t) => aliases.has(t))).length;
  if (2 * found >= words.length) return true;
  return Object.values(result.match).some(
    (fields) => fields.includes('name') || fields.includes('title'),
  );
}

function titleOf(tool: JsonObject): string {
  if (typeof tool['title'] === 'string') return tool['title'];
  const annotations = tool['annotations'];
  if (typeof annotations === 'object' && annotations !== null && !Array.isArray(annotations)) {
    const title = annotations['title'];
    if (typeof title === 'string') return title;
  }
  return '';
}

/** Where an index's tools come from: `version` changes whenever `tools()` does. */
export interface ToolSource {
  tools(): readonly IndexedTool[];
  readonly version: number;
  servers?(): readonly { id: string; title?: string }[];
}

const cache = new WeakMap<ToolSource, { version: number; index: ToolIndex }>();

/** The source's index, built on first use and again only after its version changes. */
export function toolIndexFor(source: ToolSource): ToolIndex {
  // Read the version first: tools changing meanwhile leave a stale version, so a rebuild.
  const version = source.version;
  const cached = cache.get(source);
  if (cached !== undefined && cached.version === version) return cached.index;
  const titles = new Map<string, string>();
  for (const s of source.servers?.() ?? []) if (s.title !== undefined) titles.set(s.id, s.title);
  const index = new ToolIndex(source.tools(), titles);
  cache.set(source, { version, index });
  return index;
}
