/**
 * The only module that touches jsonc-parser (docs/architecture.md#boundaries-and-adapters):
 * the one JSONC reader, for the director's config and the client files `config import` reads,
 * and the small edit surface `config import` writes with. JSONC here is JSON with comments and
 * trailing commas (VS Code's files have both).
 */
import type { Edit, JSONPath, Node, ParseError, ParseOptions } from 'jsonc-parser';
import {
  applyEdits,
  findNodeAtLocation,
  parseTree,
  printParseErrorCode,
  stripComments,
} from 'jsonc-parser';

export { applyEdits, stripComments };

/** A node of the syntax tree: its offset and length index the text that was read. */
export type JsoncNode = Node;
/** Keys and array indexes from the root to a value. */
export type JsoncPath = JSONPath;
/** Replace `length` characters at `offset` with `content`. */
export type JsoncEdit = Edit;

const OPTIONS: ParseOptions = { allowTrailingComma: true, disallowComments: false };

export interface JsoncSyntaxError {
  /** jsonc-parser's name for the error, such as `CommaExpected`. */
  code: string;
  offset: number;
  length: number;
  /** 1-based, as editors count them. */
  line: number;
  column: number;
}

export interface JsoncDocument {
  /** The text that was parsed: the input without a byte-order mark. Offsets index it. */
  text: string;
  tree: JsoncNode | undefined;
  /** The document as a plain value, minus `__proto__` keys; undefined when there is none. */
  value: unknown;
  /** Every syntax error in order; the parser recovers, so `tree` and `value` are best effort. */
  errors: JsoncSyntaxError[];
}

/** Reads JSONC text; never throws. */
export function readJsonc(rawText: string): JsoncDocument {
  // Editors do not count a byte-order mark as a column, so drop it before taking offsets.
  const text = rawText.startsWith('\uFEFF') ? rawText.slice(1) : rawText;
  const parseErrors: ParseError[] = [];
  const tree = parseTree(text, parseErrors, OPTIONS);
  const errors = parseErrors.map(({ error, offset, length }) => {
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    return { code: printParseErrorCode(error), offset, length, line, column };
  });
  return { text, tree, value: tree && nodeValue(tree), errors };
}

/** The node at `path` under `tree`, if there is one. */
export function findNode(tree: JsoncNode | undefined, path: JsoncPath): JsoncNode | undefined {
  return tree === undefined ? undefined : findNodeAtLocation(tree, path);
}

/**
 * The node at `path` in `text` for editing `text` as it is: unlike `readJsonc`, a byte-order
 * mark is kept, so offsets index `text` itself.
 */
export function nodeAt(text: string, path: JsoncPath): JsoncNode | undefined {
  return findNode(parseTree(text, [], OPTIONS), path);
}

/**
 * jsonc-parser's getNodeValue, minus `__proto__` keys: assigning one would set the object's
 * prototype instead of a key (the config loader reports them as problems).
 */
function nodeValue(node: JsoncNode): unknown {
  if (node.type === 'array') return (node.children ?? []).map(nodeValue);
  if (node.type !== 'object') return node.value;
  const object: Record<string, unknown> = {};
  for (const [keyNode, valueNode] of (node.children ?? []).map((p) => p.children ?? [])) {
    if (keyNode === undefined || valueNode === undefined || keyNode.value === '__proto__') continue;
    object[String(keyNode.value)] = nodeValue(valueNode);
  }
  return object;
}
