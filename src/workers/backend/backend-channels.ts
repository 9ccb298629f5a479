/**
 * Which channel a backend's process or connection gets: a stdio child for a command; for a
 * remote server the stateless-era HTTP channel first, and the session era's Streamable HTTP
 * (or HTTP+SSE) once the server is known, or configured, to be legacy
 * (docs/architecture.md#backend-era).
 */
import type { CatalogKeeper } from './catalog-keeper.js';
import { UpstreamSignIn } from '../channels/authorized-fetch.js';
import { ModernHttpChannel } from '../channels/stateless-http.js';
import { StdioChannel, type ChannelHandler } from '../channels/stdio.js';
import type * as SessionHttp from '../channels/streamable-http.js';
import type { HttpChannel } from '../channels/streamable-http.js';
import type { HttpServerConfig, Limits, StdioServerConfig } from '../../shared/config/types.js';
import type { CredentialStore } from '../../shared/credentials/credential-store.js';
import type { Era } from '../../shared/eras.js';

export type Channel = StdioChannel | HttpChannel | ModernHttpChannel;

/**
 * The session-era HTTP channel module, and with it the MCP SDK it is written on, loaded by
 * the first server that needs it: a worker with only stdio and stateless-era servers never
 * loads the SDK, which costs ~20 MiB of resident memory per worker thread (measured with
 * `process.memoryUsage().rss` around the import; docs/architecture.md#memory).
 */
let sessionHttp: typeof SessionHttp | undefined;

export async function loadSessionHttp(): Promise<void> {
  sessionHttp ??= await import('../channels/streamable-http.js');
}

/** Whether a remote server's next channel is the session era's (HTTP+SSE, or known legacy). */
export function needsSessionHttp(config: HttpServerConfig, era: Era | undefined): boolean {
  return era === 'legacy' || config.httpTransport === 'sse';
}

/** Whether `loadSessionHttp` must run before `httpChannel` can open this server's channel. */
export function sessionHttpMissing(config: HttpServerConfig, era: Era | undefined): boolean {
  return needsSessionHttp(config, era) && sessionHttp === undefined;
}

/** Whether `channel` speaks the session era over HTTP (no discovery: it initializes). */
export function isSessionHttp(channel: Channel): boolean {
  return !(channel instanceof StdioChannel) && !(channel instanceof ModernHttpChannel);
}

/** A stdio server's child, leading its own process group (`channels/stdio.ts`). */
export function stdioChannel(
  config: StdioServerConfig,
  limits: Limits,
  stopGraceMs: number | undefined,
  handler: ChannelHandler,
): StdioChannel {
  return new StdioChannel(
    {
      id: config.id,
      command: config.command,
      args: config.args,
      env: config.env,
      cwd: config.cwd,
      maxMessageBytes: limits.maxBackendMessageBytes,
      maxStderrBytes: limits.maxStderrBytes,
      maxJsonDepth: limits.maxJsonDepth,
      ...(stopGraceMs === undefined ? {} : { stopGraceMs }),
    },
    handler,
  );
}

/**
 * A remote server: stateless-era HTTP unless it is known (`era`, cached by the caller) or
 * configured to be legacy. Its tools' `x-mcp-header` parameters come from `catalog`.
 */
export function httpChannel(
  config: HttpServerConfig,
  era: Era | undefined,
  limits: Limits,
  catalog: CatalogKeeper,
  handler: ChannelHandler,
  credentials: { store: CredentialStore; identity: string | undefined },
): HttpChannel | ModernHttpChannel {
  // Per channel: a new one reads the sign-in again (`auth login` restarts the server).
  const signIn = UpstreamSignIn.applies(config)
    ? { signIn: new UpstreamSignIn(credentials.store, config, credentials.identity) }
    : {};
  if (needsSessionHttp(config, era)) {
    if (sessionHttp === undefined) throw new Error('loadSessionHttp() must finish first');
    return new sessionHttp.HttpChannel(
      {
        id: config.id,
        url: config.url,
        headers: config.headers,
        httpTransport: config.httpTransport,
        maxMessageBytes: limits.maxBackendMessageBytes,
        ...signIn,
      },
      handler,
    );
  }
  return new ModernHttpChannel(
    {
      id: config.id,
      url: config.url,
      headers: config.headers,
      paramHeaders: (tool) => catalog.paramHeaders.get(tool),
      maxMessageBytes: limits.maxBackendMessageBytes,
      ...signIn,
    },
    handler,
  );
}
