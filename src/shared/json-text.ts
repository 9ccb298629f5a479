/**
 * Checks on JSON text made before it is trusted, without parsing it twice:
 * - nesting depth: V8's JSON.parse survives any depth, but structured clone (the thread
 *   hop) overflows its stack at ~3,500 levels and JSON.stringify at ~4,500 (Node 20,
 *   measured in README "Limits and safety"), so a deep message would fail far from where
 *   it came in. It is refused where it enters instead (`limits.maxJsonDepth`);
 * - request ids JSON.parse cannot hold exactly (integers beyond 2^53): their source text is
 *   found so they go back to the client exactly as sent.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether `text` nests objects/arrays deeper than `maxDepth` (brackets inside strings do not
 * count). Linear, no allocation; malformed text is left for JSON.parse to report.
 */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  // Valid JSON nested past the limit holds more than `maxDepth` opening brackets and as many
  // closing ones, so a shorter text cannot be (most messages stop here); malformed text is
  // JSON.parse's to refuse whatever its depth.
  if (text.length < 2 * (maxDepth + 1)) return false;
  let depth = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Skip the string, escapes included.
      for (i++; i < length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/**
 * The source text of the `"id"` member of each top-level message of `text` (one object, or
 * the objects of a batch array), in order; undefined where a message has no numeric id.
 * Only called when a parsed id lost precision, so it favours clarity over speed.
 */
export function numericIdTexts(text: string): Array<string | undefined> {
  const ids: Array<string | undefined> = [];
  let depth = 0;
  /** Depth at which messages' members sit: 1 for one object, 2 inside a batch. */
  let memberDepth = 1;
  let expectKey = false;
  let lastKey: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
      if (depth === memberDepth && expectKey) {
        lastKey = JSON.parse(text.slice(start, i + 1)) as string;
        expectKey = false;
      }
    } else if (c === OPEN_BRACE) {
      depth++;
      if (depth === memberDepth) {
        ids.push(undefined);
        expectKey = true;
      }
    } else if (c === OPEN_BRACKET) {
      if (depth === 0) memberDepth = 2;
      depth++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    } else if (c === 0x2c /* , */ && depth === memberDepth) {
      expectKey = true;
    } else if (c === 0x3a /* : */ && depth === memberDepth && lastKey === 'id') {
      const match = /^\s*(-?\d[\d.eE+-]*)/.exec(text.slice(i + 1, i + 64));
      if (match !== null) ids[ids.length - 1] = match[1];
      lastKey = undefined;
    } else if (c === 0x3a && depth === memberDepth) {
      lastKey = undefined;
    }
  }
  return ids;
}

/**
 * Whether a parsed value nests objects/arrays deeper than `maxDepth`, for messages that
 * arrive already parsed (a remote backend's SDK transport). Iterative, so depth itself
 * cannot overflow the stack; stops at the first path that is too deep.
 */
export function valueNestsDeeperThan(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: Array<[object, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [object, number];
    if (depth > maxDepth) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
