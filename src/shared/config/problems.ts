/**
 * What is wrong with a config, as data. Every problem names the JSON path, the value found
 * and what was expected, and a file's problems are collected and thrown together
 * (docs/architecture.md#config-and-hot-reload), so `mcp-director config validate` can print all
 * of them, not just the first.
 */

/** One thing wrong with a config. */
export interface ConfigProblem {
  /** JSON path inside the file, e.g. `mcpServers.github.args[1]`; '' for the file as a whole. */
  path: string;
  /** What was expected and what was found, without the file name or path. */
  message: string;
  /** 1-based position, set for syntax errors (which have no JSON path yet). */
  line?: number;
  column?: number;
}

/** The config could not be loaded; `message` lists every problem, one per line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    /** The file the problems are in, '<embedded defaults>', or '<command line>'. */
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(renderProblems(file, problems));
  }
}

/** One problem as a line of text: `file: path: message` (or `file:line:column: message`). */
export function formatProblem(file: string, problem: ConfigProblem): string {
  if (problem.line !== undefined && problem.column !== undefined) {
    return `${file}:${problem.line}:${problem.column}: ${problem.message}`;
  }
  return problem.path === ''
    ? `${file}: ${problem.message}`
    : `${file}: ${problem.path}: ${problem.message}`;
}

function renderProblems(file: string, problems: readonly ConfigProblem[]): string {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  const lines = problems.map((problem) => `  ${formatProblem(file, problem)}`);
  return [`Invalid config ${file} (${count}):`, ...lines].join('\n');
}

/** `['mcpServers', 'github', 'args', 1]` → `mcpServers.github.args[1]`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') {
      out += `[${segment}]`;
    } else {
      const key = String(segment);
      // Server ids and env names are mostly plain words; quote the rest so the path stays
      // unambiguous ("my server" or "a.b" would otherwise read as two segments).
      if (/^[\w$-]+$/.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

const MAX_SHOWN = 50;

/** The value found, as short JSON: `42`, `"80"`, `null`; containers only by kind. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const json = JSON.stringify(value);
    return json.length > MAX_SHOWN ? `${json.slice(0, MAX_SHOWN - 1)}…` : json;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return String(value);
  }
  return describeKind(value);
}

/** The kind of a value only, for places that may hold secrets (`env` values). */
export function describeKind(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' && Number.isInteger(value)) return 'an integer';
  return `a ${typeof value}`;
}

/**
 * The known key a mistyped one most likely meant: a small edit distance ("listn", "workres",
 * "McpServers"), else a fragment of a longer key, even mistyped ("timout" → "timeoutMs",
 * "servers" → "mcpServers"). Undefined when nothing is close enough to be a useful guess.
 */
export function closestKey(unknown: string, known: readonly string[]): string | undefined {
  const wanted = unknown.toLowerCase();
  const limit = Math.max(1, Math.floor(unknown.length / 3));
  const scored = known.map((key) => ({ key, ...editDistances(wanted, key.toLowerCase()) }));
  const byWhole = [...scored].sort((a, b) => a.whole - b.whole)[0];
  if (byWhole !== undefined && byWhole.whole <= limit) return byWhole.key;
  if (wanted.length < 3) return undefined;
  const byPrefix = [...scored].sort((a, b) => a.prefix - b.prefix)[0];
  if (byPrefix !== undefined && byPrefix.prefix <= limit) return byPrefix.key;
  return known.find((key) => key.toLowerCase().includes(wanted));
}

/**
 * Optimal string alignment distance (Levenshtein plus swaps of adjacent letters) from `a` to
 * all of `b` and to the closest prefix of `b`, read off the last row of the same table.
 */
function editDistances(a: string, b: string): { whole: number; prefix: number } {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const previous = rows[i - 1]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, rows[i - 2]![j - 2]! + 1);
      }
      row.push(distance);
    }
    rows.push(row);
  }
  const last = rows[a.length]!;
  return { whole: last[b.length]!, prefix: Math.min(...last) };
}
