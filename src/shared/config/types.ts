/**
 * The normalized configuration: every default filled in, frozen after loading
 * (`load.ts`). Workers receive only the `ServerConfig`s of their shard.
 */

/** What every backend has, whatever its transport. */
interface ServerCommon {
  /** The key under `mcpServers`; `[A-Za-z0-9_-]`, at most 32 characters. */
  id: string;
  /** Exposed names are `<prefix>__<name>`; '' exposes the backend's names unchanged. */
  prefix: string;
  /** Per-call timeout toward this backend. */
  timeoutMs: number;
  /**
   * 'global': one process (or remote session) serves every client. 'session': each client
   * session gets its own, started on its first call and stopped when the session ends (for
   * stateful servers, and for servers that ask clients things: sampling, elicitation, roots).
   */
  share: 'global' | 'session';
}

/** A stdio MCP server, from the `mcpServers` block (Claude Desktop's format). */
export interface StdioServerConfig extends ServerCommon {
  transport: 'stdio';
  command: string;
  args: string[];
  /** Added to the allow-listed parent environment, after `${VAR}` expansion. */
  env: Record<string, string>;
  /** Working directory of the child; the config file's folder when not set. */
  cwd: string;
}

/** A remote MCP server over Streamable HTTP (`"url"`, as Cursor and Claude Code write it). */
export interface HttpServerConfig extends ServerCommon {
  transport: 'http';
  /**
   * 'auto': Streamable HTTP, falling back to the deprecated HTTP+SSE transport if the server
   * refuses it (the spec's backward-compatibility rule). 'sse': HTTP+SSE from the start.
   */
  httpTransport: 'auto' | 'sse';
  url: string;
  /** Sent with every request (e.g. `Authorization: Bearer ${TOKEN}`), after expansion. */
  headers: Record<string, string>;
}

export type ServerConfig = StdioServerConfig | HttpServerConfig;

/** allow/deny globs and renames for tools or prompts, over their default exposed names. */
export interface NameRules {
  allow: string[] | null;
  deny: string[];
  /** Default exposed name → the name the profile shows. */
  rename: Record<string, string>;
}

/** A named view of the catalog (DESIGN.md §5). */
export interface ProfileConfig {
  name: string;
  description: string;
  /** Enabled server ids the profile sees, config order; every server when not restricted. */
  servers: string[];
  tools: NameRules;
  prompts: NameRules;
  /** Over resource URIs and URI templates; `allow: null` allows all. */
  resources: { allow: string[] | null; deny: string[] };
  /** 'meta': tools/list shows only the router tools (list_servers, …, search_tools). */
  toolSurface: 'full' | 'meta';
  /** Whether the view shows less than everything (its lists are then private to it). */
  restricted: boolean;
}

/** A bearer token; `name` is what logs and /api show. */
export interface TokenConfig {
  name: string;
  /** The secret, after `${VAR}` expansion. Never logged, never in /api. */
  token: string;
  profile: string;
}

export interface DirectorConfig {
  /** Where the config came from: a file path, or '<embedded defaults>'. */
  source: string;
  /** Backends in config order (order decides name collisions: the first one wins). */
  servers: ServerConfig[];
  listen: { host: string; port: number };
  /** Number of shard worker threads; default min(cores, backends), at least 1. */
  workers: number;
  /** Folder for LMDB analytics and other state. */
  dataDir: string;
  analytics: { enabled: boolean };
  /** Request bodies larger than this get 413. */
  maxBodyBytes: number;
  /** Items per page of tools/list, prompts/list, resources/list, templates/list. */
  pageSize: number;
  /** Extra Origins allowed besides localhost ones (DNS-rebinding protection). */
  allowedOrigins: string[];
  /** Idle legacy sessions are dropped after this long without a request or open stream. */
  sessionIdleMs: number;
  /** By name; always has 'default'. */
  profiles: Record<string, ProfileConfig>;
  tokens: TokenConfig[];
  /** Every request needs a valid token. */
  requireToken: boolean;
}
