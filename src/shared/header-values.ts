/**
 * Header values of 2026-07-28 Streamable HTTP ("Value Encoding" and "Schema Extension" of
 * https://modelcontextprotocol.io/specification/draft/basic/transports/streamable-http), for
 * both sides of the director:
 * - `Mcp-Name` and `Mcp-Param-*` values are plain ASCII or the Base64 sentinel
 *   `=?base64?…?=`;
 * - `x-mcp-header`: a tool may mark primitive parameters whose values a client mirrors
 *   into `Mcp-Param-{name}` headers. Toward stateless HTTP backends the director is that
 *   client (a tool with invalid annotations is left out of its list, the spec's MUST);
 *   toward its own clients it checks their headers against the body.
 */
import { isJsonObject, ownMember, type JsonObject, type JsonValue } from './json.js';

export interface ParamHeader {
  /** The full header name, `Mcp-Param-<value of x-mcp-header>`. */
  header: string;
  /** The chain of `properties` keys from the schema root to the parameter. */
  path: string[];
}

const ANNOTATION = 'x-mcp-header';
/** RFC 9110 token characters. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const PRIMITIVE = new Set(['string', 'integer', 'boolean']);

/** A tool's header parameters, or why its annotations are invalid. */
export function paramHeadersOf(
  inputSchema: JsonValue | undefined,
): { ok: true; headers: ParamHeader[] } | { ok: false; reason: string } {
  const headers: ParamHeader[] = [];
  const problems: string[] = [];
  collect(inputSchema, [], headers, problems);
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };
  if (countAnnotations(inputSchema) !== headers.length) {
    return {
      ok: false,
      reason: `an ${ANNOTATION} annotation is not reachable through "properties" alone`,
    };
  }
  const seen = new Set<string>();
  for (const { header } of headers) {
    const key = header.toLowerCase();
    if (seen.has(key)) return { ok: false, reason: `${header} is declared twice` };
    seen.add(key);
  }
  return { ok: true, headers };
}

function collect(
  schema: JsonValue | undefined,
  path: string[],
  headers: ParamHeader[],
  problems: string[],
): void {
  if (!isJsonObject(schema)) return;
  const name = schema[ANNOTATION];
  if (name !== undefined && path.length > 0) {
    const where = path.join('.');
    if (typeof name !== 'string' || !TOKEN.test(name)) {
      problems.push(`${where}: ${ANNOTATION} ${JSON.stringify(name)} is not an HTTP token`);
    } else if (typeof schema['type'] !== 'string' || !PRIMITIVE.has(schema['type'])) {
      problems.push(`${where}: ${ANNOTATION} is allowed on string, integer or boolean only`);
    } else {
      headers.push({ header: `Mcp-Param-${name}`, path });
    }
  }
  const properties = schema['properties'];
  if (!isJsonObject(properties)) return;
  for (const [key, property] of Object.entries(properties)) {
    collect(property, [...path, key], headers, problems);
  }
}

function countAnnotations(value: JsonValue | undefined): number {
  if (Array.isArray(value)) return value.reduce<number>((n, item) => n + countAnnotations(item), 0);
  if (!isJsonObject(value)) return 0;
  let count = ANNOTATION in value ? 1 : 0;
  for (const item of Object.values(value)) count += countAnnotations(item);
  return count;
}

/**
 * Checks a request's `Mcp-Param-*` headers against its arguments: a value in the body needs
 * its header, and a header must equal the body's value (decoded; numbers numerically).
 * Returns what is wrong, or undefined.
 */
export function paramHeaderMismatch(
  expected: readonly ParamHeader[],
  args: JsonObject,
  headers: Record<string, string>,
): string | undefined {
  for (const { header, path } of expected) {
    let value: JsonValue | undefined = args;
    for (const key of path) value = isJsonObject(value) ? ownMember(value, key) : undefined;
    const sent = headers[header.toLowerCase()];
    if (value === undefined || value === null) {
      if (sent !== undefined) return `${header} is sent but arguments.${path.join('.')} is absent`;
      continue;
    }
    if (sent === undefined)
      return `${header} is required when arguments.${path.join('.')} is given`;
    if (typeof value === 'object')
      return `${header} cannot mirror arguments.${path.join('.')}: it is not a string, number or boolean`;
    const decoded = decodeHeaderValue(sent);
    if (decoded === undefined) return `${header} '${sent}' is not valid Base64`;
    const equal = typeof value === 'number' ? Number(decoded) === value : decoded === String(value);
    if (!equal) {
      return `${header} '${sent}' does not match arguments.${path.join('.')} ${JSON.stringify(value)}`;
    }
  }
  return undefined;
}

/** The body field each method's `Mcp-Name` header mirrors (same page as above). */
export const MCP_NAME_FIELD: ReadonlyMap<string, string> = new Map([
  ['tools/call', 'name'],
  ['prompts/get', 'name'],
  ['resources/read', 'uri'],
]);

/**
 * `Mcp-Method`, `Mcp-Name` and the `Mcp-Param-*` mirrors a 2026-07-28 request sends on
 * Streamable HTTP; `paramHeaders` gives a tool's `x-mcp-header` parameters, if known.
 */
export function requestHeaders(
  method: string,
  params: JsonObject,
  paramHeaders: (tool: string) => readonly ParamHeader[] | undefined,
): Record<string, string> {
  const headers: Record<string, string> = { 'Mcp-Method': method };
  const field = MCP_NAME_FIELD.get(method);
  const name = field === undefined ? undefined : params[field];
  if (typeof name !== 'string') return headers;
  headers['Mcp-Name'] = encodeHeaderValue(name);
  const expected = method === 'tools/call' ? paramHeaders(name) : undefined;
  const args = params['arguments'];
  if (expected !== undefined && isJsonObject(args))
    Object.assign(headers, paramHeaderValues(expected, args, encodeHeaderValue));
  return headers;
}

/** The `Mcp-Param-*` headers for one call's arguments; absent values give no header. */
export function paramHeaderValues(
  headers: readonly ParamHeader[],
  args: JsonObject,
  encode: (value: string) => string,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const { header, path } of headers) {
    let value: JsonValue | undefined = args;
    for (const key of path) value = isJsonObject(value) ? ownMember(value, key) : undefined;
    if (typeof value === 'string') values[header] = encode(value);
    else if (typeof value === 'number' || typeof value === 'boolean')
      values[header] = String(value);
  }
  return values;
}

/**
 * A header-safe value: as-is when it is plain visible ASCII without edge spaces, else the
 * Base64 sentinel, which a value that looks like one also gets.
 */
export function encodeHeaderValue(value: string): string {
  const plain =
    /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(value) &&
    !(value.startsWith('=?base64?') && value.endsWith('?='));
  return plain ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/**
 * Decodes the Base64 sentinel form of a header value; undefined when the sentinel holds
 * no valid Base64 (Node's decoder would otherwise skip the bad characters silently).
 */
export function decodeHeaderValue(value: string): string | undefined {
  const match = /^=\?base64\?(.*)\?=$/.exec(value);
  if (match === null) return value;
  const encoded = match[1] as string;
  if (encoded.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) return undefined;
  return Buffer.from(encoded, 'base64').toString('utf8');
}
