/**
 * A hand-written NDJSON stdio MCP server for shard tests: it does what SDK-built fixtures
 * cannot be made to do — send server-to-client requests, answer malformed or batched
 * responses, loop on a list cursor, fail a declared list — and reports every request and
 * notification it received in this process, so tests can see what a restart re-applied.
 *
 *   node dist/test/integration/raw-server.js
 */
import { createInterface } from 'node:readline';

interface Message {
  jsonrpc: '2.0';
  id?: string | number;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: unknown;
}

const received: { method: string; params?: unknown }[] = [];
const awaiting = new Map<string | number, (message: Message) => void>();

function send(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function text(value: string): { content: { type: 'text'; text: string }[] } {
  return { content: [{ type: 'text', text: value }] };
}

/** Sends a request to the client (the shard) and resolves with its response. */
function ask(id: string, method: string, params: object): Promise<Message> {
  return new Promise((resolve) => {
    awaiting.set(id, resolve);
    send({ jsonrpc: '2.0', id, method, params });
  });
}

async function callTool(id: string | number, name: string): Promise<void> {
  switch (name) {
    case 'ask': {
      const [ping, sampling] = await Promise.all([
        ask('s1', 'ping', {}),
        ask('s2', 'sampling/createMessage', { messages: [], maxTokens: 1 }),
      ]);
      send({ jsonrpc: '2.0', id, result: text(JSON.stringify({ ping, sampling })) });
      return;
    }
    case 'malformed':
      send({ jsonrpc: '2.0', id, error: 'oops' });
      return;
    case 'empty':
      send({ jsonrpc: '2.0', id });
      return;
    case 'batch':
      process.stdout.write(
        `${JSON.stringify([
          {
            jsonrpc: '2.0',
            method: 'notifications/message',
            params: { level: 'info', data: 'batched' },
          },
          { jsonrpc: '2.0', id, result: text('batched') },
        ])}\n`,
      );
      return;
    case 'received':
      send({ jsonrpc: '2.0', id, result: text(JSON.stringify(received)) });
      return;
    case 'crash':
      process.exit(1);
      return;
    default:
      send({ jsonrpc: '2.0', id, error: { code: -32602, message: `Unknown tool: ${name}` } });
  }
}

function onRequest(id: string | number, method: string, params: Record<string, unknown>): void {
  switch (method) {
    case 'initialize':
      send({
        jsonrpc: '2.0',
        id,
        result: {
          protocolVersion: '2025-11-25',
          capabilities: {
            tools: { listChanged: true },
            resources: { subscribe: true },
            logging: {},
          },
          serverInfo: { name: 'raw', version: '1.0.0' },
          instructions: 'raw instructions',
        },
      });
      return;
    case 'tools/list':
      // Every page points at the same cursor again: a client must notice and stop.
      send({
        jsonrpc: '2.0',
        id,
        result: {
          tools: [
            { name: params['cursor'] === undefined ? 't1' : 't2', inputSchema: { type: 'object' } },
          ],
          nextCursor: 'again',
        },
      });
      return;
    case 'resources/list':
      send({ jsonrpc: '2.0', id, result: { resources: [] } });
      return;
    case 'resources/templates/list':
      send({ jsonrpc: '2.0', id, error: { code: -32601, message: 'Method not found' } });
      return;
    case 'resources/subscribe':
    case 'resources/unsubscribe':
    case 'logging/setLevel':
      send({ jsonrpc: '2.0', id, result: {} });
      return;
    case 'tools/call':
      void callTool(id, String(params['name']));
      return;
    default:
      send({ jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${method}` } });
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const message = JSON.parse(line) as Message;
  if (message.method === undefined) {
    if (message.id !== undefined) awaiting.get(message.id)?.(message);
    return;
  }
  received.push({
    method: message.method,
    ...(message.params === undefined ? {} : { params: message.params }),
  });
  if (message.id !== undefined) onRequest(message.id, message.method, message.params ?? {});
});
process.stdin.on('end', () => process.exit(0));
