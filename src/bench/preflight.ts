/**
 * Before any load: the target answers, lists the tools the workload calls, and answers one
 * request of each kind the workload sends. A broken target then fails at once in its own
 * words, instead of as a wall of error counts; and a workload without `--tool` learns its
 * tool here (the first one listed).
 */
import { MIXED_TURN, clip, judgeMessage, requestBodies } from './workload.js';
import type { Workload } from './options.js';

/** One request-response exchange with an open MCP session, whatever carries it. */
export type Exchange = (body: string, id: number) => Promise<unknown>;

/** A transport whose answers arrive by id (stdio, HTTP+SSE): send, and give up on an id. */
export interface AnswersById {
  send(body: string, id: number, onAnswer: (message: unknown, failure?: string) => void): void;
  forget(id: number): void;
}

/** An `Exchange` over such a transport: the answer, or a rejection after `timeoutMs`. */
export function exchangeOver(transport: AnswersById, timeoutMs: number): Exchange {
  return (body, id) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        transport.forget(id);
        reject(new Error(`no answer within ${timeoutMs} ms to ${clip(body, 80)}`));
      }, timeoutMs);
      transport.send(body, id, (message, failure) => {
        clearTimeout(timer);
        if (message === undefined) reject(new Error(failure ?? 'no answer'));
        else resolve(message);
      });
    });
}

/** Pages of tools/list read at most: a server that pages forever is cut off here. */
const MAX_PAGES = 100;

export async function listToolNames(exchange: Exchange): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const id = 900_000_000 + page;
    const params = cursor === undefined ? {} : { cursor };
    const message = await exchange(
      JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list', params }),
      id,
    );
    const failure = judgeMessage(message, id);
    if (failure !== null) throw new Error(`tools/list failed: ${failure}: ${describe(message)}`);
    const result = (message as { result: { tools?: unknown; nextCursor?: unknown } }).result;
    if (Array.isArray(result.tools)) {
      for (const tool of result.tools as unknown[]) {
        const name = (tool as { name?: unknown } | null)?.name;
        if (typeof name === 'string') names.push(name);
      }
    }
    if (typeof result.nextCursor !== 'string') break;
    cursor = result.nextCursor;
  }
  return names;
}

/**
 * Checks the target against the workload and returns the workload with its tools settled
 * (the first listed tool when none was named).
 */
export async function preflight(exchange: Exchange, workload: Workload): Promise<Workload> {
  const names = await toolsOnceListed(exchange, workload);
  let settled = workload;
  if (workload.kind === 'call' || workload.kind === 'mixed') {
    if (workload.tools.length === 0) {
      const first = names[0];
      if (first === undefined) throw new Error('tools/list is empty: there is no tool to call');
      settled = { ...workload, tools: [first] };
    }
    const missing = settled.tools.filter((tool) => !names.includes(tool));
    if (missing.length > 0) {
      throw new Error(
        `tool ${missing.map((t) => `'${t}'`).join(', ')} is not listed; tools/list has: ` +
          clip(names.join(', ')),
      );
    }
  }
  // One request of each kind the workload sends: every tool it rotates over, and with
  // `mixed` a whole turn of its pattern (which includes tools/list and ping). Sent together,
  // so a slow tool costs its latency once.
  const next = requestBodies(settled);
  const count =
    settled.kind === 'call' ? settled.tools.length : settled.kind === 'mixed' ? MIXED_TURN : 1;
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const id = 910_000_000 + i;
      const message = await exchange(next(id), id);
      const failure = judgeMessage(message, id);
      if (failure !== null) {
        throw new Error(`a ${settled.kind} request failed: ${failure}: ${describe(message)}`);
      }
    }),
  );
  return settled;
}

/** How long a target that answers may take to list the tools (a gateway starting its backends). */
const LISTING_WAIT_MS = 30_000;

/**
 * The tool names, once the ones the workload calls are listed (any tool, when it names
 * none): a gateway answers as soon as it listens, before its backends have started.
 */
async function toolsOnceListed(exchange: Exchange, workload: Workload): Promise<string[]> {
  const deadline = Date.now() + LISTING_WAIT_MS;
  for (;;) {
    const names = await listToolNames(exchange);
    const ready =
      workload.kind === 'list' ||
      workload.kind === 'connect' ||
      (workload.tools.length === 0
        ? names.length > 0
        : workload.tools.every((t) => names.includes(t)));
    if (ready || Date.now() >= deadline) return names;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function describe(message: unknown): string {
  return clip(message === undefined ? 'no answer' : JSON.stringify(message));
}
