/**
 * Merges imported entries into the director's config text. Each id is added when new, left
 * alone when the file already has the same entry, and replaced only with `--overwrite` when
 * the file's differs: a config someone tuned by hand is never changed silently.
 */
import { isDeepStrictEqual } from 'node:util';

import type { JsonObject } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import { detectStyle, insertProperty, printJson, replaceValue } from './jsonc-edit.js';

export interface Candidate {
  id: string;
  entry: JsonObject;
}

export type Decision = 'add' | 'replace' | 'identical' | 'conflict';

export interface MergePlan {
  decisions: { candidate: Candidate; decision: Decision }[];
  /** The new text, or undefined when nothing changes. */
  text: string | undefined;
}

/**
 * `existing` is the config's text and parsed value, undefined when the file does not exist
 * yet: it is then created with `"$schema": schemaRef`, so editors complete and check it.
 */
export function planMerge(
  candidates: readonly Candidate[],
  existing: { text: string; value: JsonObject } | undefined,
  options: { overwrite: boolean; schemaRef: string },
): MergePlan {
  const servers = existing?.value['mcpServers'];
  const current = isJsonObject(servers) ? servers : {};
  const decisions = candidates.map((candidate) => {
    const before = current[candidate.id];
    let decision: Decision = 'add';
    if (before !== undefined) {
      if (isDeepStrictEqual(before, candidate.entry)) decision = 'identical';
      else decision = options.overwrite ? 'replace' : 'conflict';
    }
    return { candidate, decision };
  });
  const changes = decisions.filter((d) => d.decision === 'add' || d.decision === 'replace');
  if (changes.length === 0) return { decisions, text: undefined };

  if (existing === undefined || existing.text.trim() === '') {
    const style = detectStyle('');
    const mcpServers = Object.fromEntries(changes.map((d) => [d.candidate.id, d.candidate.entry]));
    const text = printJson({ $schema: options.schemaRef, mcpServers }, style) + style.eol;
    return { decisions, text };
  }
  const style = detectStyle(existing.text);
  let text = existing.text;
  if (!isJsonObject(servers)) {
    const added = Object.fromEntries(changes.map((d) => [d.candidate.id, d.candidate.entry]));
    return { decisions, text: insertProperty(text, [], 'mcpServers', added, style) };
  }
  for (const { candidate, decision } of changes) {
    text =
      decision === 'add'
        ? insertProperty(text, ['mcpServers'], candidate.id, candidate.entry, style)
        : replaceValue(text, ['mcpServers', candidate.id], candidate.entry, style);
  }
  return { decisions, text };
}
