/**
 * What a benchmark sends and what counts as an answer: the JSON-RPC request bodies of each
 * workload, and the verdict on a response. Shared by the HTTP threads and the stdio driver,
 * so every target is judged the same way.
 */
import { eventParser } from '../shared/event-stream.js';
import type { Workload } from './options.js';

/** In `mixed`, of every 10 requests: 1 `tools/list`, 1 `ping`, 8 `tools/call`. */
const MIXED_PATTERN = [
  'list',
  'call',
  'call',
  'call',
  'call',
  'ping',
  'call',
  'call',
  'call',
  'call',
];
export const MIXED_TURN = MIXED_PATTERN.length;

/**
 * A factory of request bodies: each call of it returns the next request of the workload
 * with the given id. Bodies are prebuilt around the id, so a request costs one concatenation.
 */
export function requestBodies(workload: Workload): (id: number) => string {
  const prefix = '{"jsonrpc":"2.0","id":';
  const calls = workload.tools.map(
    (name) =>
      `,"method":"tools/call","params":${JSON.stringify({ name, arguments: workload.args })}}`,
  );
  const list = ',"method":"tools/list","params":{}}';
  const ping = ',"method":"ping"}';
  let turn = 0;
  let tool = 0;
  const nextCall = (): string => calls[tool++ % calls.length]!;
  switch (workload.kind) {
    case 'connect': // a cycle of several requests, built by http/connect-cycle.ts
    case 'list':
      return (id) => prefix + id + list;
    case 'call':
      return (id) => prefix + id + nextCall();
    case 'mixed':
      return (id) => {
        const kind = MIXED_PATTERN[turn++ % MIXED_PATTERN.length];
        return prefix + id + (kind === 'list' ? list : kind === 'ping' ? ping : nextCall());
      };
  }
}

/**
 * Why a message is not a successful answer to request `id`, or null when it is: a JSON-RPC
 * response with the right id and a `result`. Reasons are short and stable, so they count.
 */
export function judgeMessage(message: unknown, id: number): string | null {
  if (message === undefined) return 'unparsable body';
  if (typeof message !== 'object' || message === null) return 'not a JSON-RPC response';
  const response = message as { id?: unknown; result?: unknown; error?: unknown };
  if (response.id !== id) return 'wrong id';
  if (response.error !== undefined) {
    const code = (response.error as { code?: unknown } | null)?.code;
    return `JSON-RPC error ${typeof code === 'number' ? code : '?'}`;
  }
  if (response.result === undefined) return 'no result';
  return null;
}

/** The verdict on an HTTP response: 200 and a good JSON-RPC response, plain or in SSE. */
export function judgeHttpResponse(
  status: number,
  contentType: string,
  body: string,
  id: number,
): string | null {
  return readHttpAnswer(status, contentType, body, id).failure;
}

/** The verdict on an HTTP response, and the JSON-RPC message when there was one. */
export function readHttpAnswer(
  status: number,
  contentType: string,
  body: string,
  id: number,
): { failure: string | null; message: unknown } {
  if (status !== 200) return { failure: `HTTP ${status}`, message: undefined };
  const message = contentType.startsWith('text/event-stream')
    ? responseInEventStream(body, id)
    : parseJson(body);
  return { failure: judgeMessage(message, id), message };
}

/**
 * The cursor of the next page of a successful list answer, if there is one: a `list`
 * request is one timed cycle through every page, as a client reads a catalog.
 */
export function nextCursorOf(message: unknown): string | undefined {
  const next = (message as { result?: { nextCursor?: unknown } } | undefined)?.result?.nextCursor;
  return typeof next === 'string' ? next : undefined;
}

/** The request for a later page of tools/list. */
export function listPageBody(id: number, cursor: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list', params: { cursor } });
}

/** The response to `id` in an SSE body (notifications may come first), else the last message. */
export function responseInEventStream(body: string, id: number): unknown {
  let found: unknown;
  let last: unknown;
  const parser = eventParser({
    onEvent: (event) => {
      if (found !== undefined) return;
      const message = parseJson(event.data);
      if (message === undefined) return;
      last = message;
      if (typeof message === 'object' && message !== null && 'id' in message && message.id === id)
        found = message;
    },
    onRetry: () => {},
  });
  parser.feed(body.endsWith('\n\n') ? body : `${body}\n\n`);
  return found ?? last;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
