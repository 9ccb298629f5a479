/**
 * What is kept of one backend's stderr: the tail, at most `maxBytes` bytes (UTF-8) in all,
 * complete lines plus the unfinished one. A child that writes without end, with or without
 * newlines, costs at most that much; 0 keeps nothing. The tail explains a failed start or a
 * crash (`exit-reason.ts`), so only its last lines are shown, each shortened.
 */

/** Lines shown in an error message (the kept tail may hold more). */
const SHOWN_LINES = 20;
/** Characters of each shown line. */
const SHOWN_LINE_MAX = 500;

export class StderrTail {
  readonly #maxBytes: number;
  /** Complete lines, oldest first, with their UTF-8 sizes. */
  #lines: string[] = [];
  #sizes: number[] = [];
  #linesBytes = 0;
  /** The line not yet ended by a newline (its tail only, once it passes the budget). */
  #partial = '';

  constructor(maxBytes: number) {
    this.#maxBytes = Math.max(0, maxBytes);
  }

  /** Takes one chunk of stderr; returns the lines it completed (for debug logging). */
  write(text: string): string[] {
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.#keep(line);
    if (Buffer.byteLength(this.#partial) > this.#maxBytes) {
      this.#partial = utf8Tail(this.#partial, this.#maxBytes);
    }
    this.#trim();
    return lines;
  }

  /** The stream ended: an unfinished last line counts as a line. */
  end(): void {
    const partial = this.#partial;
    this.#partial = '';
    this.#keep(partial);
    this.#trim();
  }

  /** Bytes kept now (lines and the unfinished one); never more than the budget. */
  get bytes(): number {
    return this.#linesBytes + Buffer.byteLength(this.#partial);
  }

  /** The last lines, shortened, for error messages. */
  lines(): string[] {
    return this.#lines
      .slice(-SHOWN_LINES)
      .map((line) => (line.length > SHOWN_LINE_MAX ? `${line.slice(0, SHOWN_LINE_MAX)}…` : line));
  }

  #keep(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || this.#maxBytes === 0) return;
    const kept = utf8Tail(line, this.#maxBytes);
    const size = Buffer.byteLength(kept);
    this.#lines.push(kept);
    this.#sizes.push(size);
    this.#linesBytes += size;
  }

  /** Drops the oldest lines until lines and the unfinished one fit the budget. */
  #trim(): void {
    const budget = this.#maxBytes - Buffer.byteLength(this.#partial);
    let drop = 0;
    while (this.#linesBytes > budget && drop < this.#lines.length) {
      this.#linesBytes -= this.#sizes[drop] ?? 0;
      drop++;
    }
    if (drop === 0) return;
    this.#lines = this.#lines.slice(drop);
    this.#sizes = this.#sizes.slice(drop);
  }
}

/** The end of `text` in at most `maxBytes` UTF-8 bytes, never starting inside a character. */
function utf8Tail(text: string, maxBytes: number): string {
  if (text.length <= maxBytes / 3) return text; // cannot exceed: at most 3 bytes per unit
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let start = bytes.length - maxBytes;
  while (start < bytes.length && ((bytes[start] ?? 0) & 0xc0) === 0x80) start++;
  return bytes.toString('utf8', start);
}
