/**
 * How a backend start finds the server's era and what it offers
 * (docs/architecture.md#backend-era): a `server/discover` probe first (each stdio process, and
 * each HTTP server until a verdict is cached); a DiscoverResult means the stateless era,
 * anything else the legacy handshake (`initialize`, `notifications/initialized`). Either
 * answer becomes the start of the server's catalog (capabilities, serverInfo, instructions;
 * `Backend` lists the rest), and either may show that the server is this daemon itself, which
 * is refused.
 */
import { RequestFailed, type BackendPeer } from './backend-peer.js';
import { emptyCatalog } from './catalog-fetch.js';
import {
  BACKEND_CLIENT_CAPABILITIES,
  BACKEND_PROTOCOL_VERSION,
  CLIENT_INFO,
} from './client-info.js';
import { META, MODERN_PROTOCOL_VERSION, ModernErrorCode } from '../../shared/eras.js';
import { isJsonObject, type JsonObject } from '../../shared/json.js';
import { isInstance } from '../../shared/instance.js';
import type { BackendCatalog } from '../../shared/backend-catalog.js';

/**
 * How long a stdio server gets to answer the `server/discover` probe before it is taken for
 * a legacy one that ignores unknown requests ("Backward Compatibility" of
 * https://modelcontextprotocol.io/specification/draft/basic/transports/stdio); never more than
 * the server's `initializeTimeoutMs`, which bounds each step of a start.
 */
const PROBE_TIMEOUT_MS = 5_000;

/** The backend's handshake named this daemon's own instance id. */
export class IsThisDaemon extends Error {}

export interface HandshakeOptions {
  server: string;
  peer: BackendPeer;
  /** The server's `initializeTimeoutMs`: bounds the probe and the handshake. */
  initializeTimeoutMs: number;
  /** The daemon's instance id: a backend that reports it is the daemon itself (refused). */
  instance: string | undefined;
}

/** One backend's era probe and handshake, run at each start on the peer's current child. */
export class Handshake {
  readonly #server: string;
  readonly #peer: BackendPeer;
  readonly #initializeTimeoutMs: number;
  readonly #instance: string | undefined;

  constructor(options: HandshakeOptions) {
    this.#server = options.server;
    this.#peer = options.peer;
    this.#initializeTimeoutMs = options.initializeTimeoutMs;
    this.#instance = options.instance;
  }

  /**
   * The era probe: `server/discover` in the stateless envelope. A DiscoverResult (or a
   * modern error naming versions) means the stateless era; any other answer, or none in
   * time, means a legacy server (null), which then gets `initialize`.
   */
  async discover(): Promise<BackendCatalog | null> {
    this.#peer.era = 'modern';
    let result: JsonObject;
    try {
      const probeMs = Math.min(PROBE_TIMEOUT_MS, this.#initializeTimeoutMs);
      result = await this.#peer.request('server/discover', {}, probeMs);
    } catch (error) {
      if (error instanceof RequestFailed && error.kind === 'exited') throw error;
      if (
        error instanceof RequestFailed &&
        error.code === ModernErrorCode.UnsupportedProtocolVersion
      ) {
        throw new Error(`the server does not support ${MODERN_PROTOCOL_VERSION}: ${error.message}`);
      }
      this.#peer.era = 'legacy';
      return null;
    }
    this.#refuseIfSelf(result);
    const versions = result['supportedVersions'];
    if (!Array.isArray(versions) || !versions.includes(MODERN_PROTOCOL_VERSION)) {
      throw new Error(
        `server/discover lists versions ${JSON.stringify(versions)}, not ${MODERN_PROTOCOL_VERSION}`,
      );
    }
    const catalog = emptyCatalog();
    catalog.era = 'modern';
    catalog.protocolVersion = MODERN_PROTOCOL_VERSION;
    const meta = result['_meta'];
    const serverInfo = isJsonObject(meta) ? meta[META.serverInfo] : result['serverInfo'];
    if (isJsonObject(serverInfo)) catalog.serverInfo = serverInfo;
    if (isJsonObject(result['capabilities'])) catalog.capabilities = result['capabilities'];
    if (typeof result['instructions'] === 'string') catalog.instructions = result['instructions'];
    return catalog;
  }

  /**
   * The legacy handshake: `initialize`, then `notifications/initialized`. The server has its
   * `initializeTimeoutMs` to answer (`npx -y pkg` may download the package first).
   */
  async initialize(): Promise<BackendCatalog> {
    const timeoutMs = this.#initializeTimeoutMs;
    const init = await this.#peer
      .request(
        'initialize',
        {
          protocolVersion: BACKEND_PROTOCOL_VERSION,
          capabilities: BACKEND_CLIENT_CAPABILITIES,
          clientInfo: CLIENT_INFO,
        },
        timeoutMs,
      )
      .catch((error: unknown) => {
        if (!(error instanceof RequestFailed) || error.kind !== 'timeout') throw error;
        throw new RequestFailed(
          `initialize got no answer within ${timeoutMs} ms (the server's "initializeTimeoutMs")`,
          'timeout',
        );
      });
    this.#refuseIfSelf(init);
    this.#peer.notify('notifications/initialized');
    const catalog = emptyCatalog();
    if (typeof init.protocolVersion === 'string') catalog.protocolVersion = init.protocolVersion;
    if (isJsonObject(init.serverInfo)) catalog.serverInfo = init.serverInfo;
    if (isJsonObject(init.capabilities)) catalog.capabilities = init.capabilities;
    if (typeof init.instructions === 'string') catalog.instructions = init.instructions;
    return catalog;
  }

  /**
   * A config entry that reaches this very daemon (its URL, or `mcp-director connect` to it)
   * would list its own catalog into itself, and call itself, without end.
   */
  #refuseIfSelf(result: JsonObject): void {
    if (this.#instance === undefined || !isInstance(result, this.#instance)) return;
    throw new IsThisDaemon(
      `server '${this.#server}' is this MCP Director itself (instance ${this.#instance}); it cannot aggregate itself. Remove it from the config (or point it at another daemon)`,
    );
  }
}
