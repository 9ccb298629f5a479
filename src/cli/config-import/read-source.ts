/**
 * Finds and parses the client's config files. Every failure is one line that names the file
 * and says what to do, since the user did not write these paths and may not know them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describeKind } from '../../shared/config/problems.js';
import type { JsonObject } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import { readJsonc } from '../../shared/jsonc.js';
import type { ClientFormat, Host } from './types.js';

export interface SourceFile {
  file: string;
  document: JsonObject;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

/** `--from`, else every default file of the client that exists (at least one must). */
export function readSources(
  format: ClientFormat,
  from: string | undefined,
  host: Host & { cwd: string },
): Result<SourceFile[]> {
  if (from !== undefined) {
    const file = path.resolve(host.cwd, from);
    const text = readText(file);
    if (text === undefined) return fail(`no file at ${file}: check the path given to --from`);
    if (typeof text !== 'string') return text;
    const parsed = parseObject(text, file);
    return parsed.ok ? { ok: true, value: [{ file, document: parsed.value }] } : parsed;
  }
  const candidates = format.defaultPaths(host);
  const sources: SourceFile[] = [];
  for (const file of candidates) {
    const text = readText(file);
    if (text === undefined) continue;
    if (typeof text !== 'string') return text;
    const parsed = parseObject(text, file);
    if (!parsed.ok) return parsed;
    sources.push({ file, document: parsed.value });
  }
  if (sources.length > 0) return { ok: true, value: sources };
  return fail(
    `no ${format.label} config at ${candidates.join(' or ')}; name the file with --from FILE`,
  );
}

/** The file's text, undefined when it does not exist, or the reason it cannot be read. */
function readText(file: string): string | undefined | { ok: false; error: string } {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'EISDIR') return fail(`${file} is a folder: expected a client's config file`);
    return fail(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** The value of a JSONC file's text, or its first syntax error as one line naming `file`. */
export function jsoncValue(text: string, file: string): Result<unknown> {
  const { value, errors } = readJsonc(text);
  const first = errors[0];
  if (first === undefined) return { ok: true, value };
  return fail(`${file}:${first.line}:${first.column}: not valid JSON (${first.code})`);
}

function parseObject(text: string, file: string): Result<JsonObject> {
  const parsed = jsoncValue(text, file);
  if (!parsed.ok) return parsed;
  if (isJsonObject(parsed.value)) return { ok: true, value: parsed.value };
  return fail(`${file}: expected a JSON object, found ${describeKind(parsed.value)}`);
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}
