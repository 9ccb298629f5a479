/**
 * Edits a JSONC config in place, keeping every comment and all formatting outside the
 * entries it writes. jsonc-parser's `modify` is not used for insertions: with formatting on,
 * it re-indents the previous sibling and moves that sibling's trailing `// comment` onto the
 * new entry. Here an entry is inserted after the last one (and its comment), in the
 * indentation and line endings the file already uses, with the file's trailing-comma style.
 */
import type { JsonValue } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import type { JsoncEdit, JsoncPath } from '../../shared/jsonc.js';
import { applyEdits, nodeAt, stripComments } from '../../shared/jsonc.js';

export interface TextStyle {
  /** One level of indentation: two spaces unless the file says otherwise. */
  unit: string;
  eol: string;
}

/** Arrays of plain values are written on one line when it stays this short. */
const INLINE_WIDTH = 80;

export function detectStyle(text: string): TextStyle {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  // The first indented line of a JSON file is one level deep.
  const indented = /^([ \t]+)\S/m.exec(text)?.[1];
  const unit = indented === undefined ? '  ' : indented.startsWith('\t') ? '\t' : indented;
  return { unit, eol };
}

/** `value` as JSON whose first line continues a line indented by `indent`. */
export function printJson(value: JsonValue, style: TextStyle, indent = ''): string {
  const inner = indent + style.unit;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const inline = `[${value.map((item) => JSON.stringify(item)).join(', ')}]`;
    const plain = value.every((item) => item === null || typeof item !== 'object');
    if (plain && indent.length + inline.length <= INLINE_WIDTH) return inline;
    const items = value.map((item) => inner + printJson(item, style, inner));
    return `[${style.eol}${items.join(`,${style.eol}`)}${style.eol}${indent}]`;
  }
  if (isJsonObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    const lines = entries.map(
      ([key, item]) => `${inner}${JSON.stringify(key)}: ${printJson(item, style, inner)}`,
    );
    return `{${style.eol}${lines.join(`,${style.eol}`)}${style.eol}${indent}}`;
  }
  return JSON.stringify(value);
}

/** Adds `key: value` as the last property of the object at `objectPath` (which must exist). */
export function insertProperty(
  text: string,
  objectPath: JsoncPath,
  key: string,
  value: JsonValue,
  style: TextStyle,
): string {
  const object = nodeAt(text, objectPath);
  if (object?.type !== 'object') throw new Error(`no object at ${JSON.stringify(objectPath)}`);
  const close = object.offset + object.length - 1; // the closing brace
  const last = object.children?.at(-1);
  const parentIndent = lineIndent(text, object.offset);
  const childIndent =
    last !== undefined && startsLine(text, last.offset)
      ? lineIndent(text, last.offset)
      : parentIndent + style.unit;
  // After the last property, its comma and any comment, before the whitespace that precedes `}`.
  let at = close;
  while (at > object.offset + 1 && /\s/.test(text[at - 1]!)) at--;
  const lastEnd = last === undefined ? undefined : last.offset + last.length;
  const trailingComma = lastEnd !== undefined && hasComma(text.slice(lastEnd, close));
  let content = `${style.eol}${childIndent}${JSON.stringify(key)}: ${printJson(value, style, childIndent)}`;
  if (trailingComma) content += ',';
  if (!text.slice(at, close).includes('\n')) content += `${style.eol}${parentIndent}`;
  const edits: JsoncEdit[] = [];
  if (lastEnd !== undefined && !trailingComma) {
    if (lastEnd === at) content = `,${content}`;
    else edits.push({ offset: lastEnd, length: 0, content: ',' });
  }
  edits.push({ offset: at, length: 0, content });
  return applyEdits(text, edits);
}

/** Replaces the value at `valuePath` (which must exist), comments inside it included. */
export function replaceValue(
  text: string,
  valuePath: JsoncPath,
  value: JsonValue,
  style: TextStyle,
): string {
  const node = nodeAt(text, valuePath);
  if (node === undefined) throw new Error(`no value at ${JSON.stringify(valuePath)}`);
  const indent = lineIndent(text, node.parent?.offset ?? node.offset);
  const content = printJson(value, style, indent);
  return applyEdits(text, [{ offset: node.offset, length: node.length, content }]);
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function lineIndent(text: string, offset: number): string {
  return /^[ \t]*/.exec(text.slice(lineStart(text, offset), offset))?.[0] ?? '';
}

function startsLine(text: string, offset: number): boolean {
  return text.slice(lineStart(text, offset), offset).trim() === '';
}

/** Whether the stretch after the last property (only commas, comments and space) has a comma. */
function hasComma(between: string): boolean {
  return stripComments(between).includes(',');
}
