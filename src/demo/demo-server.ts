/**
 * The demo MCP server that ships with MCP Director and runs when no config file exists, so the
 * first `npm start` already serves something real. Its tools are small, safe and offline: no
 * file system, no network, no code evaluation. stdio MCP server on SDK v1 McpServer.
 *
 *   node dist/src/demo/demo-server.js
 *
 * Prints `demo-server ready` on stderr once connected; exits when stdin closes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';

import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import { MAX_EXPRESSION_LENGTH, calculate } from './calculator.js';

/** Also the unit tests' way in to the parser. */
export { calculate };

const ABOUT_URI = 'demo://about';
const MAX_TEXT_LENGTH = 1_000_000;

function text(value: string): CallToolResult {
  return { content: [{ type: 'text', text: value }] };
}

function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

const ABOUT_TEXT = `# MCP Director demo server

This is the small demo MCP server that MCP Director starts when it finds no config file.
Everything it does is local and side-effect free: echo, arithmetic (calculate), the current
time in any time zone, UUIDs, hashes, base64 and word counts. Through the director its tools
appear as demo__echo, demo__calculate and so on.

## Replace it with your own servers

1. Create ~/.config/mcp-director/config.json (or pass --config <file>, or set
   MCP_DIRECTOR_CONFIG). It uses the same "mcpServers" block as Claude Desktop, Cursor and
   Claude Code, so you can paste the one you already have:

   {
     "mcpServers": {
       "fs": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/notes"] }
     }
   }

2. Run \`mcp-director config validate\` to check the file, then restart (or just save: the
   daemon watches the file and applies changes without dropping sessions).

3. Point every client at the director (http://127.0.0.1:8765/mcp, or the stdio command
   \`mcp-director connect\`). Each server's tools show up as <server>__<tool>.

Once a config file exists this demo server is no longer started.
`;

const TOOL_NAMES = ['echo', 'calculate', 'current_time', 'uuid', 'hash', 'base64', 'word_count'];

export function createDemoServer(): McpServer {
  const server = new McpServer(
    { name: 'mcp-director-demo', version: '1.0.0' },
    {
      instructions: `A demo server bundled with MCP Director. Read ${ABOUT_URI} to learn how to replace it.`,
    },
  );

  server.registerTool(
    'echo',
    {
      title: 'Echo',
      description:
        'Returns the given text unchanged. Handy to check that a client reaches the server.',
      inputSchema: { text: z.string().max(MAX_TEXT_LENGTH).describe('Text to send back') },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ text: value }) => text(value),
  );

  server.registerTool(
    'calculate',
    {
      title: 'Calculate',
      description:
        'Evaluates an arithmetic expression exactly as written, e.g. "2 * (3 + 4) ^ 2 / 7". ' +
        'Operators: + - * / % ^ (or **), parentheses, unary minus. Constants: pi, e, tau. ' +
        'Functions: sqrt, cbrt, abs, round, floor, ceil, sin, cos, tan, asin, acos, atan (radians), ' +
        `ln, log10, log2, exp, min(a, b, …), max(a, b, …). At most ${MAX_EXPRESSION_LENGTH} characters.`,
      inputSchema: { expression: z.string().describe('The expression to evaluate') },
      outputSchema: { result: z.number() },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ expression }) => {
      try {
        const result = calculate(expression);
        return { ...text(String(result)), structuredContent: { result } };
      } catch (error) {
        return toolError(`Cannot evaluate "${expression}": ${(error as Error).message}`);
      }
    },
  );

  server.registerTool(
    'current_time',
    {
      title: 'Current time',
      description:
        'The current date and time: ISO 8601 in UTC, Unix milliseconds, and the wall-clock time in ' +
        'the given IANA time zone (e.g. "Europe/Paris"; default: the server\'s own zone).',
      inputSchema: { timeZone: z.string().optional().describe('IANA time zone name') },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ timeZone }) => {
      const now = new Date();
      let zone: string;
      let local: string;
      try {
        const format = new Intl.DateTimeFormat('en-CA', {
          ...(timeZone !== undefined ? { timeZone } : {}),
          dateStyle: 'full',
          timeStyle: 'long',
        });
        zone = format.resolvedOptions().timeZone;
        local = format.format(now);
      } catch {
        return toolError(
          `Unknown time zone "${timeZone ?? ''}"; use an IANA name such as "America/New_York".`,
        );
      }
      return text(
        JSON.stringify(
          { utc: now.toISOString(), unixMs: now.getTime(), timeZone: zone, local },
          null,
          2,
        ),
      );
    },
  );

  server.registerTool(
    'uuid',
    {
      title: 'UUID',
      description: 'Generates random (version 4) UUIDs, one per line.',
      inputSchema: {
        count: z.number().int().min(1).max(100).optional().describe('How many (1-100, default 1)'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ count }) => text(Array.from({ length: count ?? 1 }, () => randomUUID()).join('\n')),
  );

  server.registerTool(
    'hash',
    {
      title: 'Hash',
      description:
        'The hex digest of the UTF-8 bytes of `text` with sha256, sha1 or md5 (md5/sha1 are not for security).',
      inputSchema: {
        text: z.string().max(MAX_TEXT_LENGTH).describe('Text to hash'),
        algorithm: z.enum(['sha256', 'sha1', 'md5']).describe('Digest algorithm'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ text: value, algorithm }) => text(createHash(algorithm).update(value, 'utf8').digest('hex')),
  );

  server.registerTool(
    'base64',
    {
      title: 'Base64',
      description:
        'Encodes UTF-8 text to base64, or decodes base64 (standard or URL-safe) back to UTF-8 text.',
      inputSchema: {
        text: z.string().max(MAX_TEXT_LENGTH).describe('Text to encode, or base64 to decode'),
        mode: z.enum(['encode', 'decode']).describe('Direction'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ text: value, mode }) => {
      if (mode === 'encode') return text(Buffer.from(value, 'utf8').toString('base64'));
      const compact = value.replace(/\s+/g, '');
      // Buffer.from(…, 'base64') silently skips bad characters; refuse them instead.
      if (
        !/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact) ||
        compact.replace(/=+$/, '').length % 4 === 1
      ) {
        return toolError('The input is not valid base64.');
      }
      try {
        return text(
          new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(compact, 'base64')),
        );
      } catch {
        return toolError('The decoded bytes are not UTF-8 text.');
      }
    },
  );

  server.registerTool(
    'word_count',
    {
      title: 'Word count',
      description:
        'Counts words, characters (Unicode code points), lines and UTF-8 bytes of a text.',
      inputSchema: { text: z.string().max(MAX_TEXT_LENGTH).describe('Text to count') },
      outputSchema: {
        words: z.number(),
        characters: z.number(),
        lines: z.number(),
        bytes: z.number(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ text: value }) => {
      const counts = {
        words: value.split(/\s+/u).filter(Boolean).length,
        characters: [...value].length,
        lines: value === '' ? 0 : value.split(/\r\n|\r|\n/).length,
        bytes: Buffer.byteLength(value, 'utf8'),
      };
      return { ...text(JSON.stringify(counts)), structuredContent: counts };
    },
  );

  server.registerResource(
    'about',
    ABOUT_URI,
    {
      title: 'About this demo server',
      description: 'What this server is and how to replace it with your own.',
      mimeType: 'text/markdown',
    },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown', text: ABOUT_TEXT }] }),
  );

  server.registerPrompt(
    'explain_tool',
    {
      title: 'Explain a tool',
      description: 'Asks the model to explain one of the demo tools and show an example call.',
      argsSchema: {
        tool: completable(z.string().describe('Name of a demo tool'), (value) =>
          TOOL_NAMES.filter((n) => n.startsWith(value)),
        ),
      },
    },
    ({ tool }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text:
              `Explain what the "${tool}" tool of the MCP Director demo server does, what arguments it ` +
              'takes, and show one example call with its result. If there is no such tool, list the ' +
              `tools that exist: ${TOOL_NAMES.join(', ')}.`,
          },
        },
      ],
    }),
  );

  return server;
}

async function main(): Promise<void> {
  process.stdin.once('end', () => process.exit(0));
  await createDemoServer().connect(new StdioServerTransport());
  // A fixed marker for whoever starts us; stdout belongs to MCP.
  process.stderr.write('demo-server ready\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`demo-server failed: ${String(error)}\n`);
    process.exit(1);
  });
}
