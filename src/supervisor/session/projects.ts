/**
 * Which project a caller works in (README: Projects): the folder whose own instance of each
 * `share: "project"` server carries its calls. A client names it in the `X-Project-Dir`
 * header (or `?project=` on the URL), which `mcp-director connect --project DIR` sends;
 * `connect` without `--project` sends the folder it was started in, marked
 * `X-Project-Source: cwd`, which is only a hint; a session without either takes the first
 * of its client's MCP roots (`roots/list`) that is allowed, when it declared roots.
 *
 * A folder is hostile input that will become a server's working directory: it must be
 * absolute and lie inside one of `projectRoots` as written, before the file system is
 * touched (so no client learns what exists elsewhere, nor waits on a slow mount); then it
 * must exist, be a directory, and still lie inside a root once every link in it is resolved
 * (so a link inside a root cannot point out of it). A root itself is no project, nor is a
 * folder that holds the data folder (its stored sign-ins) or lies in it. The real path is
 * the project's identity: two spellings of one folder are one project, one instance.
 */
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProjectConfig } from '../../shared/config/types.js';
import type { Project } from '../../shared/config/project-refs.js';

export type { Project } from '../../shared/config/project-refs.js';

/** Longer than any real path; a longer one is refused before the file system sees it. */
const MAX_DIR_LENGTH = 4096;
/** Allowed folders remembered, so a stateless client's every request costs no stat. */
const MAX_REMEMBERED = 512;
/** How long an allowed folder is taken as such before it is checked again. */
const REMEMBER_MS = 10_000;

/** What the config says of projects. */
export interface ProjectsConfig {
  projectRoots: readonly string[];
  projects: readonly ProjectConfig[];
  /** Never a project, nor inside one: it holds the stored sign-ins. */
  dataDir: string;
}

export type ProjectDecision =
  { ok: true; project: Project; profile?: string | undefined } | { ok: false; reason: string };

/** Where a request says its project is: `explicit` (a header or URL), `cwd` (a hint). */
export interface ProjectHint {
  dir: string;
  source: 'explicit' | 'cwd';
}

export class Projects {
  /** The roots as configured (absolute) and as real paths: a folder is checked against both. */
  #written: string[] = [];
  #roots: string[] = [];
  #rootsText = '';
  #dataDirs: string[] = [];
  /** Named projects by real folder. */
  #named = new Map<string, ProjectConfig>();
  /** Allowed folders as given, with when they were checked. */
  #remembered = new Map<string, { decision: ProjectDecision; at: number }>();

  constructor(config: ProjectsConfig) {
    this.configure(config);
  }

  /** Applies a (re)loaded config; remembered decisions are made again. */
  configure(config: ProjectsConfig): void {
    this.#written = config.projectRoots.map((root) => path.resolve(root));
    // A root that does not exist holds no project; one that is a link counts as its target.
    this.#roots = config.projectRoots.flatMap((root) => realOrNone(root) ?? []);
    this.#rootsText = config.projectRoots.join(', ') || 'none';
    this.#dataDirs = [path.resolve(config.dataDir), realOrNone(config.dataDir) ?? []].flat();
    this.#named = new Map(
      config.projects.flatMap((p) => {
        const real = realOrNone(p.dir);
        return real === undefined ? [] : [[real, p] as [string, ProjectConfig]];
      }),
    );
    this.#remembered.clear();
  }

  /** The project of a folder a client named, or why it cannot be one. */
  decide(dir: unknown, now = Date.now()): ProjectDecision {
    if (typeof dir !== 'string') return { ok: false, reason: 'the project folder is no string' };
    const known = this.#remembered.get(dir);
    if (known !== undefined && now - known.at < REMEMBER_MS) return known.decision;
    const decision = this.#decide(dir);
    // Only what is allowed is remembered: a folder made after a refusal works at once.
    if (!decision.ok) {
      this.#remembered.delete(dir);
      return decision;
    }
    if (this.#remembered.size >= MAX_REMEMBERED) this.#remembered.clear();
    this.#remembered.set(dir, { decision, at: now });
    return decision;
  }

  /** The project of a client's root (`file://` URI), or why it cannot be one. */
  decideRoot(uri: unknown): ProjectDecision {
    if (typeof uri !== 'string' || !uri.startsWith('file://'))
      return { ok: false, reason: `root ${JSON.stringify(uri)} is no file:// URI` };
    let dir: string;
    try {
      dir = fileURLToPath(uri);
    } catch {
      return { ok: false, reason: `root ${JSON.stringify(uri)} is no local file URI` };
    }
    return this.decide(dir);
  }

  #decide(dir: string): ProjectDecision {
    const shown = JSON.stringify(dir.length > 200 ? `${dir.slice(0, 200)}…` : dir);
    if (dir.length === 0 || dir.length > MAX_DIR_LENGTH || dir.includes('\u0000'))
      return { ok: false, reason: `project folder ${shown} is no usable path` };
    // `//host/share` is absolute too, and names another machine.
    if (!path.isAbsolute(dir) || /^[\\/]{2}/.test(dir))
      return { ok: false, reason: `project folder ${shown} is not absolute` };
    const outside = {
      ok: false as const,
      reason: `project folder ${shown} is outside the folders projects may be in ("projectRoots": ${this.#rootsText})`,
    };
    // As written first: nothing outside the roots reaches the file system.
    const written = path.resolve(dir);
    if (![...this.#written, ...this.#roots].some((root) => isWithin(written, root))) return outside;
    const real = realOrNone(written);
    if (real === undefined) return { ok: false, reason: `project folder ${shown} does not exist` };
    if (!isDirectory(real))
      return { ok: false, reason: `project folder ${shown} is not a directory` };
    if (!this.#roots.some((root) => isWithin(real, root))) return outside;
    if (
      this.#dataDirs.some((data) => data === real || isWithin(data, real) || isWithin(real, data))
    )
      return {
        ok: false,
        reason: `project folder ${shown} holds or is in the daemon's data folder`,
      };
    const named = this.#named.get(real);
    return {
      ok: true,
      project: { dir: real, name: named?.name ?? nameOf(real) },
      profile: named?.profile ?? undefined,
    };
  }
}

/**
 * Where a request names its project: the `X-Project-Dir` header, else `?project=` on the
 * URL; `X-Project-Source: cwd` marks a mere hint (the folder `connect` was started in).
 */
export function projectHintOf(
  headers: Readonly<Record<string, string>>,
  query: string,
): ProjectHint | undefined {
  const header = headers['x-project-dir'];
  // Every request asks: most name no project, and cost no parsing then.
  if (header === undefined && !query.includes('project=')) return undefined;
  // The header is percent-encoded (a header carries ASCII only); the query is decoded already.
  const dir = header === undefined ? new URLSearchParams(query).get('project') : decoded(header);
  if (dir === null) return undefined;
  return { dir, source: headers['x-project-source'] === 'cwd' ? 'cwd' : 'explicit' };
}

/** A percent-encoded header value; one that does not decode is passed on to be refused. */
function decoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return '\u0000';
  }
}

/** Where a request works: its project, or none (and why its hint was none), or a refusal. */
export type Place =
  | {
      ok: true;
      project: Project | null;
      refused?: string | undefined;
      /** The profile the config gives the project (`projects.<name>.profile`), if any. */
      profile?: string | undefined;
      /** Where the folder came from: named by the client, or the folder `connect` runs in. */
      hint?: ProjectHint['source'];
    }
  | { ok: false; reason: string };

/**
 * The place a request names (`projectHintOf`): a folder named explicitly that cannot be a
 * project refuses the request, so the client learns at once; a mere hint only goes unused.
 */
export function placeOf(
  projects: Projects,
  headers: Readonly<Record<string, string>>,
  query: string,
): Place {
  const hint = projectHintOf(headers, query);
  if (hint === undefined) return { ok: true, project: null };
  const decision = projects.decide(hint.dir);
  if (decision.ok)
    return { ok: true, project: decision.project, profile: decision.profile, hint: hint.source };
  if (hint.source === 'cwd') {
    const refused = `the folder connect runs in: ${decision.reason}`;
    return { ok: true, project: null, refused, hint: hint.source };
  }
  return { ok: false, reason: decision.reason };
}

function realOrNone(dir: string): string | undefined {
  try {
    return realpathSync.native(dir);
  } catch {
    return undefined;
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Whether `dir` lies strictly inside `root` (the root itself does not count). */
function isWithin(dir: string, root: string): boolean {
  const relative = path.relative(root, dir);
  const up = relative === '..' || relative.startsWith(`..${path.sep}`);
  return relative !== '' && !up && !path.isAbsolute(relative);
}

/** A folder's own name; `/` is named `/`. */
function nameOf(dir: string): string {
  return path.basename(dir) || dir;
}
