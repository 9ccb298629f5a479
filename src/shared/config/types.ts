/**
 * The normalized configuration: every default filled in, frozen after loading
 * (`load.ts`). Workers receive only the `ServerConfig`s of their shard.
 */

/** What every backend has, whatever its transport. */
interface ServerCommon {
  /**
   * The key under `mcpServers`; `[A-Za-z0-9_-]`, at most 32 characters. A project's own
   * server (`projects.<name>.servers`, or its `.mcp.json`) is `<name>@<project>` (no config
   * key has an `@`).
   */
  id: string;
  /** Set on a project's own server: only that project's sessions see it. */
  ownedBy?: ProjectOwner;
  /** Exposed names are `<prefix>__<name>`; '' exposes the backend's names unchanged. */
  prefix: string;
  /** Per-call timeout toward this backend. */
  timeoutMs: number;
  /**
   * For a `share: "identity"` server whose headers or env use `${token.NAME}`: by token name,
   * the values it gives for the names used (shared/config/token-refs.ts). Secrets.
   */
  tokenValues?: Record<string, Record<string, string>>;
  /**
   * 'global': one process (or remote session) serves every client. 'session': each client
   * session gets its own, started on its first call and stopped when the session ends (for
   * stateful servers, and for servers that ask clients things: sampling, elicitation, roots).
   * 'identity': each caller identity (its static token, or its OAuth user) gets its own,
   * with its own sign-in to a remote server (README: Credentials per user); callers
   * without one use the shared instance.
   * 'project': each project folder a session works in gets its own, shared by that
   * project's sessions, with `${projectDir}`/`${projectName}` filled in (README: Projects).
   */
  share: 'global' | 'session' | 'identity' | 'project';
  /** 'eager': started with the daemon. 'lazy': started when first needed (a list or a call). */
  start: 'eager' | 'lazy';
  /** Stopped after this long without a call (its catalog is kept); 0: never. */
  idleStopMs: number;
  /** How long the backend may take to answer `initialize` (or `server/discover`) at start. */
  initializeTimeoutMs: number;
  /** Keep each call's params and result in the call records (`/api/calls`); absent: off. */
  recordPayloads?: true;
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
  auth: UpstreamAuthConfig;
}

/** How the director signs in to a remote server (README: Signing in to remote servers). */
export interface UpstreamAuthConfig {
  /**
   * 'auto': OAuth once the server answers 401 with a Bearer challenge (never when `headers`
   * set Authorization); 'oauth': from the start; 'none': never.
   */
  mode: 'auto' | 'oauth' | 'none';
  scopes: string[];
  clientId?: string;
  clientSecret?: string;
  clientMetadataUrl?: string;
}

export type ServerConfig = StdioServerConfig | HttpServerConfig;

/** allow/deny globs and renames for tools or prompts, over their default exposed names. */
export interface NameRules {
  allow: string[] | null;
  deny: string[];
  /** Default exposed name → the name the profile shows. */
  rename: Record<string, string>;
}

/** A named view of the catalog (docs/architecture.md#catalog-names-and-profiles). */
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
  /** Calls per second with a burst, counted for every request of this profile together. */
  rateLimit: RateLimit | null;
}

/** A bearer token; `name` is what logs and /api show. */
export interface TokenConfig {
  name: string;
  /** The secret, after `${VAR}` expansion. Never logged, never in /api. */
  token: string;
  profile: string;
  /** Sees everything on /api (every profile, server commands, all stats). */
  admin: boolean;
  /** Calls per second with a burst, counted for this token whatever its session. */
  rateLimit: RateLimit | null;
  /** `${token.NAME}` values for `share: "identity"` servers, expanded. Never in /api. */
  secrets: Record<string, string>;
}

/** A token bucket: `perSecond` refill, at most `burst` calls at once. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/**
 * What one client or backend can cost the daemon. Every number is a setting (`limits` in the
 * config file); README "Limits and safety" lists them with their defaults.
 */
export interface Limits {
  /** Deepest JSON nesting accepted from a client or a backend. */
  maxJsonDepth: number;
  /** Live sessions (all transports); past it the oldest idle one is evicted, else 503. */
  maxSessions: number;
  /** Largest single message a backend may write (stdout line or HTTP body). */
  maxBackendMessageBytes: number;
  /** Stderr kept per backend (the tail, for error messages and /api). */
  maxStderrBytes: number;
  /** Calls in flight at one backend instance; more wait in its queue. */
  maxConcurrentCallsPerServer: number;
  /** Calls waiting for one backend instance; more get an overload error. */
  maxQueuedCallsPerServer: number;
  /**
   * Instances of their own one `share: "session"` or `"identity"` server runs at once (one
   * per session or identity); a caller past it is refused until one ends.
   */
  maxOwnInstancesPerServer: number;
  /** SSE events kept per stream for `Last-Event-ID` replay (bytes). */
  replayBufferBytes: number;
  /** Bytes queued for a client that does not read its stream before it is cut off. */
  streamQueueBytes: number;
  /** On SIGTERM/SIGINT, how long calls in flight may take before they get SHUTTING_DOWN. */
  shutdownDrainMs: number;
  /** How long a call to a server that is still starting waits for it. */
  startWaitMs: number;
}

/** Where and how spans are exported (docs/architecture.md#traces). */
export interface OtlpConfig {
  /** Collector base URL; spans are POSTed to `${endpoint}/v1/traces`. */
  endpoint: string;
  headers: Record<string, string>;
  serviceName: string;
}

/**
 * The daemon as an OAuth resource server
 * (https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization): bearer JWTs
 * of `issuer` accepted beside the static tokens (README: Protecting the daemon with OAuth).
 */
export interface OauthIngressConfig {
  /** The authorization server, as its tokens' `iss` names it. */
  issuer: string;
  /** Where its signing keys are; null: from its metadata (`jwks_uri`). */
  jwksUri: string | null;
  /**
   * The daemon's public base URL (`https://mcp.example.com`, no trailing slash): the protected
   * resource metadata names `<resource>/mcp` and its profiles' `<resource>/mcp/<profile>`.
   * Null: `http://<listen.host>:<bound port>` (ingress/protected-resource.ts).
   */
  resource: string | null;
  /** The `aud` tokens must carry; null: one of this daemon's resource URLs. */
  audience: string | null;
  /** Scopes every token must hold (and `scopes_supported` in the resource metadata). */
  scopes: string[];
  /** First match wins: a token whose `claim` holds `value` gets `profile` (and admin). */
  profiles: { claim: string; value: string; profile: string; admin: boolean }[];
  /** The profile of a valid token no rule matches; null: such a token is refused (403). */
  defaultProfile: string | null;
}

export interface DirectorConfig {
  /** Where the config came from: a file path, or '<embedded defaults>'. */
  source: string;
  /** Backends in config order (order decides name collisions: the first one wins). */
  servers: ServerConfig[];
  listen: { host: string; port: number };
  /** Number of shard worker threads; default min(cores − 1, backends), at least 1. */
  workers: number;
  /** Folder for LMDB analytics and other state. */
  dataDir: string;
  /**
   * `retentionDays`: records older are deleted hourly; 0 keeps them. `maxSizeMB`: beyond it
   * the oldest call records are deleted; 0: no size limit.
   */
  analytics: { enabled: boolean; retentionDays: number; maxSizeMB: number };
  /** OTLP export of a span per forwarded call; null: off. */
  telemetry: { otlp: OtlpConfig | null };
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
  /** Bearer JWTs of an OAuth issuer accepted too (and then required); null: off. */
  oauth: OauthIngressConfig | null;
  /** Several daemons behind a balancer (README: Running several daemons); null: one alone. */
  cluster: ClusterConfig | null;
  /** The folders a session's project must be inside (absolute); default the home folder. */
  projectRoots: string[];
  /** Projects named in the config: a folder and the name `${projectName}` gives it. */
  projects: ProjectConfig[];
  limits: Limits;
}

/** The project a server is its own (README: Projects). */
export interface ProjectOwner {
  /** The project's name in the config. */
  project: string;
  /** Its folder, every link resolved: a session's project is matched by this. */
  dir: string;
  /** Where the server is defined: the config file, or the project's `.mcp.json`. */
  file: string;
}

/** A project named in the config (README: Projects). */
export interface ProjectConfig {
  name: string;
  /** Absolute. */
  dir: string;
  /** The profile of a client that names the folder and chose none itself; null: default. */
  profile: string | null;
  /** Whether the servers of the folder's own `.mcp.json` are added for this project. */
  mcpJson: boolean;
}

/** This daemon as one node of several (README: Running several daemons). */
export interface ClusterConfig {
  /** This node's id: 1-16 of a-z 0-9 -, starting with a letter or digit. */
  node: string;
  /** Shared by every node, after `${VAR}` expansion; a secret. */
  key: string;
  /** Every node's base URL, by id (this one's too, when given). */
  nodes: Record<string, string>;
  /** On SIGTERM, how long `/readyz` says 503 while the node still serves, before it closes. */
  drainNoticeMs: number;
  /** This node's base URL as the others reach it, `${VAR}` expanded; null when not given. */
  url: string | null;
  /** The Redis of the fleet's rate limits and node registry, `${VAR}` expanded; null: none. */
  redis: string | null;
}
