/**
 * The load driver's ceiling: a uWS MCP endpoint that answers initialize, notifications,
 * tools/list and tools/call in-process (no thread, no backend), with a session id on
 * initialize like a stateful server. Whatever the driver reaches against it is the most
 * it can measure on this machine.
 *
 *   node dist/bench/noop-server.js [--port 0]      prints `listening <url>` on stdout
 */
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type * as Uws from '@trufflesuite/uws-js-unofficial';

/**
 * The native binary, never the package main: on a platform without a matching binary the
 * main silently falls back to a slow JS emulation, which would make this ceiling a lie.
 */
function loadNativeUws(): typeof Uws {
  const require = createRequire(import.meta.url);
  const binary =
    `@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_` +
    `${process.versions.modules}.node`;
  return require(binary) as typeof Uws;
}

export interface NoopServer {
  url: string;
  port: number;
  close(): void;
}

const TOOLS_LIST_RESULT = JSON.stringify({
  tools: [
    {
      name: 'echo',
      description: 'Returns its text argument.',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    },
  ],
});

const INITIALIZE_RESULT = JSON.stringify({
  protocolVersion: '2025-11-25',
  capabilities: { tools: {} },
  serverInfo: { name: 'bench-noop', version: '0.1.0' },
});

interface RpcMessage {
  id?: string | number;
  method?: unknown;
  params?: { name?: unknown; arguments?: { text?: unknown } };
}

/** The reply to one JSON-RPC message: [status, JSON body or '' for none, new session id]. */
function answer(message: RpcMessage): [string, string, string?] {
  if (message.id === undefined) return ['202 Accepted', ''];
  const id = JSON.stringify(message.id);
  const ok = (result: string): string => `{"jsonrpc":"2.0","id":${id},"result":${result}}`;
  const error = (code: number, text: string): string =>
    `{"jsonrpc":"2.0","id":${id},"error":{"code":${code},"message":${JSON.stringify(text)}}}`;
  switch (message.method) {
    case 'initialize':
      return ['200 OK', ok(INITIALIZE_RESULT), randomUUID()];
    case 'tools/list':
      return ['200 OK', ok(TOOLS_LIST_RESULT)];
    case 'ping':
      return ['200 OK', ok('{}')];
    case 'tools/call': {
      if (message.params?.name !== 'echo') return ['200 OK', error(-32602, 'unknown tool')];
      const text = message.params.arguments?.text;
      const content = [{ type: 'text', text: typeof text === 'string' ? text : '' }];
      return ['200 OK', ok(JSON.stringify({ content }))];
    }
    default:
      return ['200 OK', error(-32601, 'method not found')];
  }
}

function respond(res: Uws.HttpResponse, body: Buffer): void {
  let message: RpcMessage;
  try {
    message = JSON.parse(body.toString()) as RpcMessage;
  } catch {
    res.cork(() => {
      res.writeStatus('400 Bad Request').writeHeader('content-type', 'application/json');
      res.end('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}');
    });
    return;
  }
  const [status, json, sessionId] = answer(message);
  res.cork(() => {
    res.writeStatus(status);
    if (sessionId !== undefined) res.writeHeader('mcp-session-id', sessionId);
    if (json === '') {
      res.end();
      return;
    }
    res.writeHeader('content-type', 'application/json').end(json);
  });
}

export function startNoopServer(port = 0, host = '127.0.0.1'): Promise<NoopServer> {
  const uws = loadNativeUws();
  const app = uws.App();
  app.get('/healthz', (res) => {
    res.end('ok');
  });
  app.post('/*', (res) => {
    let aborted = false;
    let chunks: Buffer[] = [];
    res.onAborted(() => {
      aborted = true;
    });
    res.onData((chunk, isLast) => {
      // The ArrayBuffer is only valid inside this callback: copy it
      // (docs/architecture.md#ingress-on-uwebsocketsjs).
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast || aborted) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      chunks = [];
      respond(res, body);
    });
  });
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (socket === false) {
        reject(new Error(`noop server could not listen on ${host}:${port}`));
        return;
      }
      const bound = uws.us_socket_local_port(socket as unknown as Uws.us_socket);
      resolve({
        url: `http://${host}:${bound}/mcp`,
        port: bound,
        close: () => uws.us_listen_socket_close(socket),
      });
    });
  });
}

async function cli(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
  const server = await startNoopServer(Number(values.port));
  process.stdout.write(`listening ${server.url}\n`);
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
