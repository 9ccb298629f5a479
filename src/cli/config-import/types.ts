/**
 * The contract between the importer (run-import.ts) and the client formats: a format finds
 * its file and lists the server entries in it as written; entry.ts maps them, one dialect
 * per client, into the director's shape.
 */
import type { JsonObject } from '../../shared/json.js';

export const CLIENT_NAMES = [
  'claude-desktop',
  'claude-code',
  'cursor',
  'vscode',
  'gemini',
] as const;
export type ClientName = (typeof CLIENT_NAMES)[number];

/** Where default paths are computed: injectable, so tests can ask for another platform's. */
export interface Host {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
}

/** One server entry as a client wrote it, before any mapping. */
export interface SourceServer {
  /** Its key in the client's file. */
  name: string;
  /** Where it sits in that file, for messages: `projects["/home/u/app"].mcpServers.github`. */
  origin: string;
  raw: unknown;
  /**
   * The project folder when the entry belongs to one (`.vscode/mcp.json`, a `.mcp.json`, a
   * project of ~/.claude.json): the client starts it there, and `${workspaceFolder}` is it.
   */
  projectDir?: string | undefined;
  /** VS Code's `inputs`: id → what the user was asked ("GitHub token"). */
  inputs?: ReadonlyMap<string, string> | undefined;
}

/** How a client spells variables inside values (see variables.ts). */
export type VariableSyntax =
  /** None: values are used as written (Claude Desktop). */
  | 'literal'
  /** `${VAR}` and `${VAR:-default}`, as the director writes them (Claude Code). */
  | 'shell'
  /** `${env:VAR}`, `${input:id}`, `${userHome}`, `${workspaceFolder}` (VS Code, Cursor). */
  | 'editor'
  /** `$VAR` and `${VAR}` (Gemini CLI). */
  | 'gemini';

/** What differs between clients in the entries themselves. */
export interface Dialect {
  variables: VariableSyntax;
  /** What a `url` without `type` speaks: HTTP+SSE for Gemini, Streamable HTTP for the rest. */
  plainUrl: 'http' | 'sse';
  /** Gemini: `httpUrl` is a Streamable HTTP endpoint and `timeout` is in milliseconds. */
  geminiKeys?: boolean;
}

export interface ClientFormat {
  /** The `<client>` argument. */
  name: ClientName;
  /** As people call it, for messages. */
  label: string;
  /** Where the servers are looked for in a file, for "no servers found" messages. */
  serversAt: string;
  dialect: Dialect;
  /** The client's user-level config files on this platform; every one that exists is read. */
  defaultPaths(host: Host): string[];
  /** The server entries of one parsed file. */
  read(document: JsonObject, file: string, host: Host): SourceServer[];
}

/** One line of the report under a server: something dropped, renamed or translated. */
export interface Note {
  verb: 'dropped' | 'renamed' | 'variable' | 'note';
  message: string;
}
