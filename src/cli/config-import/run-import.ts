/**
 * `mcp-director config import <client>`: read the client's servers → map each (entry.ts) →
 * give them valid ids → merge into the director's config (merge.ts) → check the result's
 * shape → back up and write. Returns the exit code: 0 done (even if some entries were
 * skipped), 1 a problem with a file or its contents, reported on stderr in one line (or,
 * for an invalid result, with every problem).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { CONFIG_PATH_ENV, defaultConfigPath } from '../../shared/config/defaults.js';
import { describeKind, formatPath, formatProblem } from '../../shared/config/problems.js';
import { validateConfigFile } from '../../shared/config/validate.js';
import type { JsonObject } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import { CLIENTS } from './clients.js';
import { mapEntry } from './entry.js';
import { assignIds } from './ids.js';
import type { Candidate, Decision } from './merge.js';
import { planMerge } from './merge.js';
import type { Result, SourceFile } from './read-source.js';
import { jsoncValue, readSources } from './read-source.js';
import type { Item } from './report.js';
import { countItems, describeCounts, itemLines, unsetVariableLines } from './report.js';
import { directorAddress, selfReference, type DirectorAddress } from './self-entry.js';
import type { ClientFormat, ClientName, Host } from './types.js';
import { backUp, writeConfig } from './write-config.js';

export interface ImportOptions {
  client: ClientName;
  /** The client's file; its default locations otherwise. */
  from?: string | undefined;
  /** The director's config (`--config`); else $MCP_DIRECTOR_CONFIG, else the default path. */
  config?: string | undefined;
  dryRun: boolean;
  overwrite: boolean;
}

export interface ImportIo extends Host {
  cwd: string;
  now(): Date;
  out(line: string): void;
  err(line: string): void;
}

/** The JSON Schema shipped in the package: the source of the copy beside a written config. */
export function shippedSchemaPath(): string {
  return fileURLToPath(new URL('../../../../schema/config.schema.json', import.meta.url));
}

/**
 * A config this command creates says `"$schema": "./mcp-director.schema.json"`, and the schema
 * is copied beside it. Editors resolve a `$schema` that starts with `.` against the file's own
 * folder (VS Code does so for any value starting with `.`), so completion and checks keep
 * working when the installation moves, is reinstalled under another Node version's prefix or
 * removed, which an absolute path into the installation did not survive; a web URL would
 * need a published copy and a network. The copy is brought up to date whenever `config import`
 * writes a config that names it, so an upgrade's new settings reach it on the next import.
 */
export const SCHEMA_COPY = 'mcp-director.schema.json';
export const SCHEMA_REFERENCE = `./${SCHEMA_COPY}`;

export function runImport(options: ImportOptions, io: ImportIo): number {
  const format = CLIENTS[options.client];
  const sources = readSources(format, options.from, io);
  if (!sources.ok) return failure(io, sources.error);
  const dest = destinationPath(options, io);
  const existing = readDestination(dest);
  if (!existing.ok) return failure(io, existing.error);
  // Read first: the director's own address (its listen.port) is known from it.
  const self = directorAddress(existing.value?.value);
  const items = collectItems(format, sources.value, io, self);
  if (items.length === 0) {
    const files = sources.value.map((s) => s.file).join(' and ');
    return failure(
      io,
      `no MCP servers in ${files}: ${format.label} lists them in ${format.serversAt}`,
    );
  }

  const candidates: Candidate[] = items.flatMap(({ outcome }) =>
    outcome.kind === 'candidate' ? [{ id: outcome.id, entry: outcome.entry }] : [],
  );
  const plan = planMerge(candidates, existing.value, {
    overwrite: options.overwrite,
    schemaRef: SCHEMA_REFERENCE,
  });
  const decisions = new Map(plan.decisions.map((d) => [d.candidate.id, d.decision]));
  for (const { file } of sources.value) io.out(`${format.label}: ${file}`);
  printItems(items, decisions, { dest, dryRun: options.dryRun }, io);
  const counts = describeCounts(countItems(items, (id) => decisions.get(id)));
  if (plan.text === undefined) {
    io.out(`${dest} is unchanged: ${counts}.`);
    return 0;
  }
  if (!resultIsValid(plan.text, dest, existing.value?.value, io)) return 1;
  const written = plan.decisions.filter((d) => isWrite(d.decision)).map((d) => d.candidate);
  unsetVariableLines(written, io.env).forEach((line) => io.out(line));
  const schemaCopy = namesSchemaCopy(plan.text, dest)
    ? path.join(path.dirname(dest), SCHEMA_COPY)
    : undefined;
  if (options.dryRun) {
    io.out(`Dry run: ${dest} was not written; it would get: ${counts}.`);
    return 0;
  }
  try {
    if (existing.value !== undefined) {
      io.out(`Backup of the previous file: ${backUp(dest, io.now())}`);
    }
    // The schema first: the config never names a copy that is not there.
    if (schemaCopy !== undefined && refreshSchemaCopy(schemaCopy)) {
      io.out(`Wrote ${schemaCopy}: the JSON Schema its "$schema" names, for editors.`);
    }
    writeConfig(dest, plan.text);
  } catch (error) {
    return failure(io, `cannot write ${dest}: ${(error as Error).message}`);
  }
  io.out(`Wrote ${dest}: ${counts}.`);
  const flag = options.config === undefined ? '' : ` --config ${JSON.stringify(dest)}`;
  io.out(`Check it with: mcp-director config validate${flag}`);
  return 0;
}

/** Every server of every source file, mapped, with ids assigned across all of them. */
function collectItems(
  format: ClientFormat,
  sources: readonly SourceFile[],
  host: Host,
  self: DirectorAddress,
): Item[] {
  const mapped = sources.flatMap(({ file, document }) =>
    format.read(document, file, host).map((server) => {
      let result = mapEntry(server, format.dialect, host.platform);
      const itself = result.ok ? selfReference(result.entry, self) : undefined;
      if (itself !== undefined) result = { ok: false, reason: itself, notes: [] };
      return { server, result, name: server.name, origin: server.origin };
    }),
  );
  const named = mapped.flatMap((m) => (m.result.ok ? [{ ...m, entry: m.result.entry }] : []));
  const ids = new Map(assignIds(named).map((assignment) => [assignment.item.server, assignment]));
  return mapped.map(({ server, result }): Item => {
    if (!result.ok) {
      return { server, outcome: { kind: 'skipped', reason: result.reason }, notes: [] };
    }
    const assigned = ids.get(server)!;
    if ('duplicateOf' in assigned) {
      return { server, outcome: { kind: 'duplicate', of: assigned.duplicateOf }, notes: [] };
    }
    const problems = entryProblems(assigned.id, result.entry);
    if (problems !== undefined) {
      return { server, outcome: { kind: 'skipped', reason: problems }, notes: [] };
    }
    const outcome = { kind: 'candidate' as const, id: assigned.id, entry: result.entry };
    return { server, outcome: { ...outcome, renamed: assigned.renamed }, notes: result.notes };
  });
}

function printItems(
  items: readonly Item[],
  decisions: ReadonlyMap<string, Decision>,
  context: { dest: string; dryRun: boolean },
  io: ImportIo,
): void {
  for (const item of items) {
    const decision = item.outcome.kind === 'candidate' ? decisions.get(item.outcome.id) : undefined;
    itemLines(item, decision, context).forEach((line) => io.out(line));
  }
}

/** Why one mapped entry would make the config invalid (a wrong type in `args`, …), if it would. */
function entryProblems(id: string, entry: JsonObject): string | undefined {
  const { problems } = validateConfigFile({ mcpServers: { [id]: entry } });
  if (problems.length === 0) return undefined;
  const prefix = formatPath(['mcpServers', id]);
  const reasons = problems.map((p) => {
    const at = p.path.startsWith(`${prefix}.`) ? p.path.slice(prefix.length + 1) : p.path;
    return at === '' || at === prefix ? p.message : `${at}: ${p.message}`;
  });
  return `not a valid director entry: ${reasons.join('; ')}`;
}

function destinationPath(options: ImportOptions, io: ImportIo): string {
  if (options.config !== undefined) return path.resolve(io.cwd, options.config);
  const fromEnv = io.env[CONFIG_PATH_ENV];
  if (fromEnv) return path.resolve(io.cwd, fromEnv);
  return defaultConfigPath(io.env);
}

type Existing = { text: string; value: JsonObject } | undefined;

/** The director's config as text and value; undefined when it does not exist yet. */
function readDestination(dest: string): Result<Existing> {
  let text: string;
  try {
    text = readFileSync(dest, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, value: undefined };
    return { ok: false, error: `cannot read ${dest}: ${(error as Error).message}` };
  }
  if (text.trim() === '') return { ok: true, value: { text, value: {} } };
  const fix = 'fix it (mcp-director config validate lists every problem) and import again';
  const parsed = jsoncValue(text, dest);
  if (!parsed.ok) return { ok: false, error: `${parsed.error}; ${fix}` };
  if (!isJsonObject(parsed.value)) {
    return {
      ok: false,
      error: `${dest}: expected a JSON object, found ${describeKind(parsed.value)}; ${fix}`,
    };
  }
  const servers = parsed.value['mcpServers'];
  if (servers !== undefined && !isJsonObject(servers)) {
    return {
      ok: false,
      error: `${dest}: mcpServers: expected an object, found ${describeKind(servers)}; ${fix}`,
    };
  }
  return { ok: true, value: { text, value: parsed.value } };
}

/**
 * Checks the merged text's shape only: `${VAR}`s may be unset here (they are set where the
 * daemon runs). Prints every problem when it is invalid.
 */
function resultIsValid(
  text: string,
  dest: string,
  before: JsonObject | undefined,
  io: ImportIo,
): boolean {
  const parsed = jsoncValue(text, dest);
  const problems = parsed.ok
    ? validateConfigFile(parsed.value).problems
    : [{ path: '', message: parsed.error }];
  if (problems.length === 0) return true;
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  io.err(`mcp-director: not writing ${dest}: the result would be invalid (${count}):`);
  problems.forEach((problem) => io.err(`  ${formatProblem(dest, problem)}`));
  if (before !== undefined && validateConfigFile(before).problems.length > 0) {
    io.err(
      `${dest} had problems before this import: fix them first (mcp-director config validate lists them)`,
    );
  }
  return false;
}

/** The written config's `$schema` is the copy beside it (a new file, or one made so before). */
function namesSchemaCopy(text: string, dest: string): boolean {
  const parsed = jsoncValue(text, dest);
  return parsed.ok && isJsonObject(parsed.value) && parsed.value['$schema'] === SCHEMA_REFERENCE;
}

/** Copies the shipped schema to `target` unless it already holds the same text; true if written. */
function refreshSchemaCopy(target: string): boolean {
  const shipped = readFileSync(shippedSchemaPath(), 'utf8');
  try {
    if (readFileSync(target, 'utf8') === shipped) return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  writeConfig(target, shipped);
  return true;
}

function isWrite(decision: Decision): boolean {
  return decision === 'add' || decision === 'replace';
}

function failure(io: ImportIo, reason: string): number {
  io.err(`mcp-director: ${reason}`);
  return 1;
}
