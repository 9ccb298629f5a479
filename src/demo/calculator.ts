/**
 * The demo server's `calculate`: a recursive-descent parser over a fixed grammar, so an
 * expression can only ever be arithmetic (never JavaScript).
 *
 *   expr    := term (('+' | '-') term)*
 *   term    := unary (('*' | '/' | '%') unary)*
 *   unary   := ('+' | '-') unary | power
 *   power   := primary ('^' unary)?            right-associative; -2^2 = -(2^2)
 *   primary := number | '(' expr ')' | name | name '(' expr (',' expr)* ')'
 */

/** Longer expressions are refused before parsing. */
export const MAX_EXPRESSION_LENGTH = 500;

// Maps, not object literals: a lookup of "constructor" or "toString" must find nothing.
const CONSTANTS: ReadonlyMap<string, number> = new Map([
  ['pi', Math.PI],
  ['e', Math.E],
  ['tau', 2 * Math.PI],
]);

const FUNCTIONS: ReadonlyMap<
  string,
  { arity: number | 'variadic'; fn: (...xs: number[]) => number }
> = new Map([
  ['sqrt', { arity: 1, fn: Math.sqrt }],
  ['cbrt', { arity: 1, fn: Math.cbrt }],
  ['abs', { arity: 1, fn: Math.abs }],
  ['round', { arity: 1, fn: Math.round }],
  ['floor', { arity: 1, fn: Math.floor }],
  ['ceil', { arity: 1, fn: Math.ceil }],
  ['sin', { arity: 1, fn: Math.sin }],
  ['cos', { arity: 1, fn: Math.cos }],
  ['tan', { arity: 1, fn: Math.tan }],
  ['asin', { arity: 1, fn: Math.asin }],
  ['acos', { arity: 1, fn: Math.acos }],
  ['atan', { arity: 1, fn: Math.atan }],
  ['ln', { arity: 1, fn: Math.log }],
  ['log10', { arity: 1, fn: Math.log10 }],
  ['log2', { arity: 1, fn: Math.log2 }],
  ['exp', { arity: 1, fn: Math.exp }],
  ['min', { arity: 'variadic', fn: Math.min }],
  ['max', { arity: 'variadic', fn: Math.max }],
]);

type Token =
  | { kind: 'number'; value: number }
  | { kind: 'name'; value: string }
  | { kind: 'op'; value: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(\*\*|[-+*/%^(),]))/y;
  let at = 0;
  while (at < source.length) {
    if (/^\s*$/.test(source.slice(at))) break;
    pattern.lastIndex = at;
    const match = pattern.exec(source);
    if (!match)
      throw new Error(
        `unexpected character '${source.slice(at).trimStart()[0]}' at position ${at + 1}`,
      );
    at = pattern.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: 'number', value: Number(match[1]) });
    else if (match[2] !== undefined) tokens.push({ kind: 'name', value: match[2].toLowerCase() });
    else if (match[3] !== undefined)
      tokens.push({ kind: 'op', value: match[3] === '**' ? '^' : match[3] });
  }
  return tokens;
}

/** Evaluates an arithmetic expression; throws an Error whose message is fit for the user. */
export function calculate(expression: string): number {
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw new Error(`expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  }
  const tokens = tokenize(expression);
  let pos = 0;
  let depth = 0;

  const peekOp = (...ops: string[]): string | undefined => {
    const t = tokens[pos];
    return t?.kind === 'op' && ops.includes(t.value) ? t.value : undefined;
  };
  const expectOp = (op: string): void => {
    if (!peekOp(op)) throw new Error(`expected '${op}'`);
    pos++;
  };
  // Depth bounds the recursion, so "((((…" cannot blow the stack.
  const nested = <T>(parse: () => T): T => {
    if (++depth > 100) throw new Error('expression is nested too deeply');
    try {
      return parse();
    } finally {
      depth--;
    }
  };

  const expr = (): number =>
    nested(() => {
      let value = term();
      for (let op = peekOp('+', '-'); op; op = peekOp('+', '-')) {
        pos++;
        value = op === '+' ? value + term() : value - term();
      }
      return value;
    });
  const term = (): number => {
    let value = unary();
    for (let op = peekOp('*', '/', '%'); op; op = peekOp('*', '/', '%')) {
      pos++;
      const right = unary();
      if ((op === '/' || op === '%') && right === 0) throw new Error('division by zero');
      value = op === '*' ? value * right : op === '/' ? value / right : value % right;
    }
    return value;
  };
  const unary = (): number =>
    nested(() => {
      const op = peekOp('+', '-');
      if (!op) return power();
      pos++;
      return op === '-' ? -unary() : unary();
    });
  const power = (): number => {
    const base = primary();
    if (!peekOp('^')) return base;
    pos++;
    return base ** unary();
  };
  const primary = (): number => {
    const token = tokens[pos++];
    if (!token) throw new Error('unexpected end of expression');
    if (token.kind === 'number') return token.value;
    if (token.kind === 'op') {
      if (token.value !== '(') throw new Error(`unexpected '${token.value}'`);
      const value = expr();
      expectOp(')');
      return value;
    }
    const name = token.value;
    if (!peekOp('(')) {
      const constant = CONSTANTS.get(name);
      if (constant === undefined) throw new Error(`unknown name '${name}'`);
      return constant;
    }
    const fn = FUNCTIONS.get(name);
    if (!fn) throw new Error(`unknown function '${name}'`);
    pos++;
    const args = [expr()];
    while (peekOp(',')) {
      pos++;
      args.push(expr());
    }
    expectOp(')');
    if (fn.arity !== 'variadic' && args.length !== fn.arity) {
      throw new Error(`${name}() takes ${fn.arity} argument${fn.arity === 1 ? '' : 's'}`);
    }
    return fn.fn(...args);
  };

  if (tokens.length === 0) throw new Error('empty expression');
  const value = expr();
  const rest = tokens[pos];
  if (rest) throw new Error(`unexpected '${String(rest.value)}' after the end of the expression`);
  if (!Number.isFinite(value)) throw new Error('the result is not a finite number');
  // 15 significant digits hide binary-fraction noise (0.1 + 0.2 prints 0.3).
  return Number(value.toPrecision(15));
}
