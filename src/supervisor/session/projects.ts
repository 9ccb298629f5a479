/**
 * Which project a caller works in (README: Projects): the folder whose own instance of each
 * `share: "project"` server carries its calls. A client names it in the `X-Project-Dir`
 * header (or `?project=` on the URL), which `mcp-director connect --project DIR` sends;
 * `connect` without `--project` sends the folder it was started in, marked
 * `X-Project-Source: cwd`, which is only a hint; a session without either takes the first
 * of its client's MCP roots (`roots/list`) that is allowed, when it declared roots.
 *
 * A folder is hostile input that will become a server's working directory: it must be
 * absolute, exist, be a directory, and lie inside one of `projectRoots` once every link in
 * it is resolved (so a link inside a root cannot point out of it). The real path is the
 * project's identity: two spellings of one folder are one project, one instance.
 */
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProjectConfig } from '../../shared/config/types.js';
import type { Project } from '../../shared/config/project-refs.js';

export type { Project } from '../../shared/config/project-refs.js';

/** Longer than any real path; a longer one is refused before the file system sees it. */
const MAX_DIR_LENGTH = 4096;
/** Resolved folders remembered, so a stateless client's every request costs no stat. */
const MAX_REMEMBERED = 512;

export type ProjectDecision = { ok: true; project: Project } | { ok: false; reason: string };

/** Where a request says its project is: `explicit` (a header or URL), `cwd` (a hint). */
export interface ProjectHint {
  dir: string;
  source: 'explicit' | 'cwd';
}

export class Projects {
  #roots: string[] = [];
  #rootsText = '';
  /** Named projects by real folder. */
  #names = new Map<string, string>();
  /** Decisions by the folder as given. */
  #remembered = new Map<string, ProjectDecision>();

  constructor(config: { projectRoots: readonly string[]; projects: readonly ProjectConfig[] }) {
    this.configure(config);
  }

  /** Applies a (re)loaded config; remembered decisions are made again. */
  configure(config: { projectRoots: readonly string[]; projects: readonly ProjectConfig[] }): void {
    // A root that does not exist holds no project; one that is a link counts as its target.
    this.#roots = config.projectRoots.flatMap((root) => realOrNone(root) ?? []);
    this.#rootsText = config.projectRoots.join(', ') || 'none';
    this.#names = new Map(
      config.projects.flatMap((p) => {
        const real = realOrNone(p.dir);
        return real === undefined ? [] : [[real, p.name] as [string, string]];
      }),
    );
    this.#remembered.clear();
  }

  /** The project of a folder a client named, or why it cannot be one. */
  decide(dir: unknown): ProjectDecision {
    if (typeof dir !== 'string') return { ok: false, reason: 'the project folder is no string' };
    const known = this.#remembered.get(dir);
    if (known !== undefined) return known;
    const decision = this.#decide(dir);
    if (this.#remembered.size >= MAX_REMEMBERED) this.#remembered.clear();
    this.#remembered.set(dir, decision);
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
    if (!path.isAbsolute(dir))
      return { ok: false, reason: `project folder ${shown} is not absolute` };
    const real = realOrNone(dir);
    if (real === undefined) return { ok: false, reason: `project folder ${shown} does not exist` };
    if (!isDirectory(real))
      return { ok: false, reason: `project folder ${shown} is not a directory` };
    if (!this.#roots.some((root) => isInside(real, root))) {
      return {
        ok: false,
        reason: `project folder ${shown} is outside the folders projects may be in ("projectRoots": ${this.#rootsText})`,
      };
    }
    return { ok: true, project: { dir: real, name: this.#names.get(real) ?? nameOf(real) } };
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
  | { ok: true; project: Project | null; refused?: string | undefined }
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
  if (decision.ok) return { ok: true, project: decision.project };
  if (hint.source === 'cwd')
    return { ok: true, project: null, refused: `the folder connect runs in: ${decision.reason}` };
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

function isInside(dir: string, root: string): boolean {
  const relative = path.relative(root, dir);
  const up = relative === '..' || relative.startsWith(`..${path.sep}`);
  return !up && !path.isAbsolute(relative);
}

/** A folder's own name; `/` is named `/`. */
function nameOf(dir: string): string {
  return path.basename(dir) || dir;
}
