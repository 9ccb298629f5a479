/**
 * The request headers a 2026-07-28 (stateless) request needs on Streamable HTTP, which a
 * stdio client cannot send itself
 * (https://modelcontextprotocol.io/specification/draft/basic/transports/streamable-http):
 * `MCP-Protocol-Version` equal to the `_meta` claim, `Mcp-Method`, `Mcp-Name`, and the
 * `Mcp-Param-*` mirrors of a tool's `x-mcp-header` parameters, learnt from the `tools/list`
 * results that pass through.
 */
import { isJsonObject } from '../../shared/json.js';
import type { JsonValue } from '../../shared/json.js';
import type { ParamHeader } from '../../shared/header-values.js';
import { paramHeadersOf, requestHeaders } from '../../shared/header-values.js';
import type { Outgoing } from './messages.js';

export class ModernHeaders {
  /** Tool name → its header parameters, from the latest `tools/list` pages seen. */
  readonly #tools = new Map<string, ParamHeader[]>();

  /** Remembers the header parameters of the tools in a `tools/list` result. */
  learn(result: JsonValue | undefined): void {
    const tools = isJsonObject(result) ? result['tools'] : undefined;
    if (!Array.isArray(tools)) return;
    for (const tool of tools) {
      if (!isJsonObject(tool) || typeof tool['name'] !== 'string') continue;
      const headers = paramHeadersOf(tool['inputSchema']);
      if (headers.ok && headers.headers.length > 0) this.#tools.set(tool['name'], headers.headers);
      else this.#tools.delete(tool['name']);
    }
  }

  /** The headers for one modern request (`message.modernVersion` is set). */
  for(message: Outgoing): Record<string, string> {
    const { method, params, modernVersion } = message;
    if (method === undefined || modernVersion === undefined) return {};
    return {
      'MCP-Protocol-Version': modernVersion,
      ...requestHeaders(method, params ?? {}, (tool) => this.#tools.get(tool)),
    };
  }
}
