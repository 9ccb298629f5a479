/**
 * The params of each method the router reads, type-checked before anything uses them: a
 * client's `{"name": {"toString": 1}}` is an invalid-params error naming the field, never a
 * throw inside the daemon. Payload members the router only passes on (tool arguments'
 * contents, `_meta` beyond the progress token) stay the backend's business.
 */
import type { JsonObject, JsonValue } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import type { WireError } from '../../shared/errors.js';
import { JsonRpcCode, rpcError } from '../../shared/errors.js';

type Check = (params: JsonObject) => WireError | undefined;

const name = required('name', 'string');
const uri = required('uri', 'string');
const taskId = required('taskId', 'string');
const cursor = optional('cursor', 'string');

/** Method → what its params must hold. Methods not listed take any params. */
const CHECKS: ReadonlyMap<string, readonly Check[]> = new Map([
  ['tools/call', [name, optional('arguments', 'object'), optional('task', 'object')]],
  ['prompts/get', [name, optional('arguments', 'object')]],
  ['resources/read', [uri]],
  ['resources/subscribe', [uri]],
  ['resources/unsubscribe', [uri]],
  ['completion/complete', [completionRef, required('argument', 'object')]],
  ['logging/setLevel', [required('level', 'string')]],
  ['tasks/get', [taskId]],
  ['tasks/result', [taskId]],
  ['tasks/cancel', [taskId]],
  ['tasks/list', [cursor]],
  ['tools/list', [cursor]],
  ['prompts/list', [cursor]],
  ['resources/list', [cursor]],
  ['resources/templates/list', [cursor]],
]);

/** The first problem of `params` for `method`, as -32602 naming the field; else undefined. */
export function checkParams(method: string, params: JsonObject): WireError | undefined {
  const meta = params['_meta'];
  if (meta !== undefined) {
    if (!isJsonObject(meta)) return invalid('_meta', 'an object', meta);
    const token = meta['progressToken'];
    if (token !== undefined && typeof token !== 'string' && typeof token !== 'number')
      return invalid('_meta.progressToken', 'a string or a number', token);
  }
  for (const check of CHECKS.get(method) ?? []) {
    const problem = check(params);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

type Kind = 'string' | 'object';

function required(field: string, kind: Kind): Check {
  return (params) => {
    const value = params[field];
    return is(value, kind) ? undefined : invalid(field, article(kind), value);
  };
}

function optional(field: string, kind: Kind): Check {
  return (params) => {
    const value = params[field];
    return value === undefined || is(value, kind)
      ? undefined
      : invalid(field, article(kind), value);
  };
}

/** `ref` is a prompt (by name) or a resource template (by URI). */
function completionRef(params: JsonObject): WireError | undefined {
  const ref = params['ref'];
  if (!isJsonObject(ref)) return invalid('ref', 'an object', ref);
  if (ref['type'] === 'ref/prompt')
    return is(ref['name'], 'string') ? undefined : invalid('ref.name', 'a string', ref['name']);
  if (ref['type'] === 'ref/resource')
    return is(ref['uri'], 'string') ? undefined : invalid('ref.uri', 'a string', ref['uri']);
  return invalid('ref.type', '"ref/prompt" or "ref/resource"', ref['type']);
}

function is(value: JsonValue | undefined, kind: Kind): boolean {
  return kind === 'string' ? typeof value === 'string' : isJsonObject(value);
}

function article(kind: Kind): string {
  return kind === 'string' ? 'a string' : 'an object';
}

function invalid(field: string, expected: string, found: JsonValue | undefined): WireError {
  return rpcError(
    JsonRpcCode.InvalidParams,
    `Invalid params: params.${field} must be ${expected}, ${found === undefined ? 'but it is missing' : `not ${describe(found)}`}`,
  );
}

function describe(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `the ${typeof value} ${JSON.stringify(value).slice(0, 40)}`;
}
