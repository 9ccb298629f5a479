/**
 * The plain proxy the benchmark compares MCP Director with: what a developer writes with
 * the official SDK in a few lines: one stdio client to the backend, and a Streamable HTTP
 * server (stateful sessions) whose tools/list and tools/call are forwarded to it.
 *
 *   node dist/bench/sdk-proxy.js --port N -- <backend command> [args…]
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const dashes = process.argv.indexOf('--');
const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const [command, ...args] = process.argv.slice(dashes + 1);
if (dashes < 0 || command === undefined || !Number.isInteger(port)) {
  throw new Error('usage: sdk-proxy --port N -- <backend command> [args…]');
}

const backend = new Client({ name: 'sdk-proxy', version: '1' });
await backend.connect(new StdioClientTransport({ command, args }));

const sessions = new Map<string, StreamableHTTPServerTransport>();
http
  .createServer((request, response) => {
    const id = request.headers['mcp-session-id'];
    const known = typeof id === 'string' ? sessions.get(id) : undefined;
    let transport: StreamableHTTPServerTransport;
    if (known !== undefined) transport = known;
    else {
      const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        onsessioninitialized: (sessionId): void => {
          sessions.set(sessionId, created);
        },
      });
      const server = new Server(
        { name: 'sdk-proxy', version: '1' },
        { capabilities: { tools: {} } },
      );
      server.setRequestHandler(ListToolsRequestSchema, (r) => backend.listTools(r.params));
      server.setRequestHandler(CallToolRequestSchema, (r) => backend.callTool(r.params));
      void server.connect(created);
      transport = created;
    }
    void transport.handleRequest(request, response);
  })
  .listen(port, '127.0.0.1');
