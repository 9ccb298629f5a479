/**
 * Which channel a backend's process or connection gets: a stdio child for a command; for a
 * remote server the stateless-era HTTP channel first, and the session era's Streamable HTTP
 * (or HTTP+SSE) once the server is known, or configured, to be legacy
 * (docs/architecture.md#backend-era).
 */
import type { CatalogKeeper } from './catalog-keeper.js';
import { ModernHttpChannel } from '../channels/stateless-http.js';
import { StdioChannel, type ChannelHandler } from '../channels/stdio.js';
import { HttpChannel } from '../channels/streamable-http.js';
import type { HttpServerConfig, Limits, StdioServerConfig } from '../../shared/config/types.js';
import type { Era } from '../../shared/eras.js';

export type Channel = StdioChannel | HttpChannel | ModernHttpChannel;

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
): HttpChannel | ModernHttpChannel {
  if (era === 'legacy' || config.httpTransport === 'sse') {
    return new HttpChannel(
      {
        id: config.id,
        url: config.url,
        headers: config.headers,
        httpTransport: config.httpTransport,
        maxMessageBytes: limits.maxBackendMessageBytes,
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
    },
    handler,
  );
}
