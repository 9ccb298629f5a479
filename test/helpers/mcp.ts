/** Small readings of MCP results shared by the end-to-end tests. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import {
  CallToolResultSchema,
  ProgressNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { JsonObject } from '../../src/shared/json.js';

/** The text of a tool result's content blocks, joined. */
export function textOf(result: unknown): string {
  const content = (result as { content: Array<{ text?: string }> }).content;
  return content.map((c) => c.text ?? '').join('');
}

/**
 * Calls a tool with our own progress token and returns the tokens of the progress
 * notifications that came back. Replaces the client's progress handler (the SDK's own
 * `onprogress` stops working on that client), so give it a client of its own.
 */
export async function progressTokensOf(
  client: Client,
  name: string,
  args: JsonObject,
  progressToken: string | number,
): Promise<unknown[]> {
  const tokens: unknown[] = [];
  client.setNotificationHandler(
    ProgressNotificationSchema,
    (n) => void tokens.push(n.params.progressToken),
  );
  await client.request(
    { method: 'tools/call', params: { name, arguments: args, _meta: { progressToken } } },
    CallToolResultSchema,
  );
  return tokens;
}

/** An SDK client over Streamable HTTP that presents `token` (to `/mcp`, or `path`). */
export async function connectWithToken(
  daemon: { base: string },
  token: string,
  options: { path?: string; name?: string } = {},
): Promise<Client> {
  const client = new Client({ name: options.name ?? 'e2e-with-token', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${daemon.base}${options.path ?? '/mcp'}`), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

/** The wire members of an `input_required` result, which the SDK's types keep hidden. */
export interface InputRequiredWire {
  resultType?: string;
  inputRequests?: Record<string, { method: string; params?: Record<string, unknown> }>;
  requestState?: string;
}

/**
 * An SDK v2 client speaking 2026-07-28 only, which answers elicitations with `grace`;
 * `autoFulfill`: the SDK answers input_required itself (else the test sees it).
 */
export async function modernClient(url: string, autoFulfill: boolean): Promise<ModernClient> {
  const client = new ModernClient(
    { name: 'modern-test', version: '1.0.0' },
    {
      capabilities: { elicitation: {}, sampling: {} },
      versionNegotiation: { mode: { pin: '2026-07-28' } },
      inputRequired: { autoFulfill },
    },
  );
  client.setRequestHandler('elicitation/create', () => ({
    action: 'accept',
    content: { name: 'grace' },
  }));
  await client.connect(new ModernTransport(new URL(url)));
  return client;
}

/**
 * Connects `client` over Streamable HTTP, naming its project folder in `X-Project-Dir`
 * (percent-encoded, as `connect` sends it) unless `dir` is undefined (README: Projects).
 */
export async function connectInProject(
  client: Client,
  url: string,
  dir: string | undefined,
): Promise<Client> {
  const headers: Record<string, string> =
    dir === undefined ? {} : { 'X-Project-Dir': encodeURIComponent(dir) };
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }),
  );
  return client;
}
