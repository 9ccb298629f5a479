/**
 * The smallest MCP server that can stand behind the daemon: newline-delimited JSON-RPC on
 * stdio, one `echo` tool, no SDK. It measures the router's own cost per call, without the
 * extra per-call cost of an SDK-built server (docs/architecture.md#hand-written-stdio-framing).
 *
 *   node dist/bench/ndjson-echo-server.js
 */
import { createInterface } from 'node:readline';

const TOOL = {
  name: 'echo',
  description: 'Returns its text argument.',
  inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
};

function answer(id: unknown, result: unknown): void {
  process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id, result })}\n`);
}

createInterface({ input: process.stdin, crlfDelay: Infinity }).on('line', (line) => {
  const message = JSON.parse(line) as {
    id?: unknown;
    method?: string;
    params?: Record<string, unknown>;
  };
  if (message.id === undefined) return; // notifications need no answer
  switch (message.method) {
    case 'initialize':
      return answer(message.id, {
        protocolVersion: message.params?.['protocolVersion'] ?? '2025-11-25',
        capabilities: { tools: {} },
        serverInfo: { name: 'ndjson-echo', version: '1.0.0' },
      });
    case 'tools/list':
      return answer(message.id, { tools: [TOOL] });
    case 'tools/call': {
      const args = (message.params?.['arguments'] ?? {}) as { text?: unknown };
      return answer(message.id, { content: [{ type: 'text', text: String(args.text ?? '') }] });
    }
    case 'ping':
      return answer(message.id, {});
    default:
      process.stdout.write(
        `${JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: -32601, message: `Method not found: ${message.method}` } })}\n`,
      );
  }
});
process.stderr.write('ndjson-echo ready\n');
