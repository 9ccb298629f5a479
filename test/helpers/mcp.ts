/** Small readings of MCP results shared by the end-to-end tests. */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
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
