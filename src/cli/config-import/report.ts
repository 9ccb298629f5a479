/**
 * The lines `config import` prints: one per imported, replaced, present or skipped server,
 * each dropped key or translated variable indented under its server, then warnings and a
 * summary. Values are never echoed whole (env values and URLs may hold tokens).
 */
import { expandVariables } from '../../shared/config/expand.js';
import { formatPath } from '../../shared/config/problems.js';
import type { JsonObject, JsonValue } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import type { Decision } from './merge.js';
import type { Note, SourceServer } from './types.js';

export type Outcome =
  | { kind: 'skipped'; reason: string }
  | { kind: 'duplicate'; of: string }
  | { kind: 'candidate'; id: string; entry: JsonObject; renamed?: string | undefined };

export interface Item {
  server: SourceServer;
  outcome: Outcome;
  notes: Note[];
}

export interface Counts {
  imported: number;
  replaced: number;
  present: number;
  skipped: number;
  dropped: number;
}

const WRITE_VERBS = {
  add: ['imported', 'would import'],
  replace: ['replaced', 'would replace'],
} as const;

export function itemLines(
  item: Item,
  decision: Decision | undefined,
  context: { dest: string; dryRun: boolean },
): string[] {
  const { server, outcome } = item;
  const at = isTopLevel(server) ? '' : ` (${server.origin})`;
  if (outcome.kind === 'skipped') return [`  skipped ${server.name}${at}: ${outcome.reason}`];
  if (outcome.kind === 'duplicate') {
    return [`  skipped ${server.name}${at}: the same entry as ${outcome.of}, imported once`];
  }
  const { id, entry } = outcome;
  const renamed =
    outcome.renamed === undefined ? [] : [renameLine(server.name, id, outcome.renamed)];
  const written = decision === 'add' || decision === 'replace';
  const notes = written ? item.notes.map((n) => `    ${n.verb} ${n.message}`) : [];
  const head = headLine(id, at, entry, decision, context);
  return [head, ...renamed, ...notes];
}

function headLine(
  id: string,
  at: string,
  entry: JsonObject,
  decision: Decision | undefined,
  context: { dest: string; dryRun: boolean },
): string {
  if (decision === 'identical') {
    return `  already present ${id}${at}: ${context.dest} has the same entry`;
  }
  if (decision === 'conflict') {
    return `  skipped ${id}${at}: ${context.dest} already has a different "${id}"; rerun with --overwrite to replace it`;
  }
  const [done, planned] = decision === 'replace' ? WRITE_VERBS.replace : WRITE_VERBS.add;
  return `  ${context.dryRun ? planned : done} ${id}${at}: ${describeEntry(entry)}`;
}

export function countItems(
  items: readonly Item[],
  decisionOf: (id: string) => Decision | undefined,
): Counts {
  const counts: Counts = { imported: 0, replaced: 0, present: 0, skipped: 0, dropped: 0 };
  for (const { outcome, notes } of items) {
    const decision = outcome.kind === 'candidate' ? decisionOf(outcome.id) : undefined;
    if (decision === 'add') counts.imported++;
    else if (decision === 'replace') counts.replaced++;
    else if (decision === 'identical') counts.present++;
    else counts.skipped++;
    if (decision === 'add' || decision === 'replace') {
      counts.dropped += notes.filter((n) => n.verb === 'dropped').length;
    }
  }
  return counts;
}

export function describeCounts(counts: Counts): string {
  const keys = counts.dropped === 1 ? '1 key' : `${counts.dropped} keys`;
  return (
    `${counts.imported} imported, ${counts.replaced} replaced, ` +
    `${counts.present} already present, ${counts.skipped} skipped; ${keys} dropped`
  );
}

/**
 * Variables the written entries reference without a default and this environment lacks:
 * the import succeeds (they are set where the daemon runs, later), but `serve` would refuse.
 */
export function unsetVariableLines(
  entries: readonly { id: string; entry: JsonObject }[],
  env: NodeJS.ProcessEnv,
): string[] {
  const users = new Map<string, string[]>();
  for (const { id, entry } of entries) {
    // Disabled servers are not started, so their variables are not needed (normalize.ts).
    if (entry['disabled'] === true) continue;
    forEachString(entry, (text) =>
      expandVariables(text, env, (name) => {
        const ids = users.get(name) ?? [];
        if (!ids.includes(id)) ids.push(id);
        users.set(name, ids);
      }),
    );
  }
  return [...users].map(
    ([name, ids]) =>
      `warning: \${${name}} (used by ${ids.join(', ')}) is not set here: set it in the daemon's environment before it starts`,
  );
}

function renameLine(name: string, id: string, why: string): string {
  return `    renamed ${JSON.stringify(name)} to ${id}: ${why}`;
}

/** Entries straight under the file's servers key need no location in their line. */
function isTopLevel(server: SourceServer): boolean {
  const { origin, name } = server;
  return ['mcpServers', 'servers'].some((key) => origin === formatPath([key, name]));
}

/** `stdio: npx` or `http: https://host/path`, without arguments or query (they may hold secrets). */
function describeEntry(entry: JsonObject): string {
  const disabled = entry['disabled'] === true ? ', disabled' : '';
  const url = entry['url'];
  if (typeof url === 'string') {
    const shown = url.replace(/[?#].*$/, '');
    return `${String(entry['type'] ?? 'http')}: ${shown}${disabled}`;
  }
  return `stdio: ${String(entry['command'])}${disabled}`;
}

function forEachString(value: JsonValue, visit: (text: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) value.forEach((item) => forEachString(item, visit));
  else if (isJsonObject(value)) Object.values(value).forEach((item) => forEachString(item, visit));
}
