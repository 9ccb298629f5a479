/**
 * This daemon as one node of several behind a load balancer (README: Running several
 * daemons). Its session ids name it, `<node>.<random>.<mac>`, so a balancer can keep each
 * session on its node by the id's first field (examples/haproxy.cfg, examples/nginx.conf),
 * and a node that is handed another's session knows at once: it answers 404, and the client
 * starts a new session (one re-initialize when a node dies). The MAC, under the key every
 * node shares, tells a genuine id of another node from a made-up one.
 *
 * A single daemon (no `cluster` in the config) mints plain random ids, as before.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ClusterConfig } from '../../shared/config/types.js';
import { RequestStateSealer } from './request-state.js';

/** Where other nodes are: the registry of the nodes that announced themselves. */
export interface NodeDirectory {
  urlOf(node: string): string | undefined;
  nodes(): ReadonlyMap<string, string>;
}

/** Bytes of MAC in a session id: enough that forging one is hopeless, short on the wire. */
const MAC_BYTES = 12;

export class ClusterNode {
  /** This node's id; null for a daemon on its own. */
  readonly node: string | null;
  readonly #key: Buffer | null;
  /** Every node's base URL, by id (`cluster.nodes`). */
  readonly #urls: ReadonlyMap<string, string>;
  /** Seals `requestState` so that every node can open it (see `stateKey`). */
  readonly sealer: RequestStateSealer;

  /** The nodes that announced themselves in Redis (fleet/node-registry.ts), when there is one. */
  readonly #registry: NodeDirectory | undefined;

  constructor(cluster: ClusterConfig | null, registry?: NodeDirectory) {
    this.#registry = registry;
    this.node = cluster?.node ?? null;
    this.#key = cluster === null ? null : Buffer.from(cluster.key, 'utf8');
    this.#urls = new Map(Object.entries(cluster?.nodes ?? {}));
    this.sealer = new RequestStateSealer(this.#stateKey(), this.node);
  }

  /**
   * Where to pass a retry whose `requestState` another node sealed: that node's base URL,
   * when the state is genuine and the node's address is known (`cluster.nodes` first, then
   * the nodes that announced themselves in Redis).
   */
  ownerUrlOf(state: string): string | undefined {
    const node = this.sealer.nodeOf(state);
    if (node === undefined) return undefined;
    return this.#urls.get(node) ?? this.#registry?.urlOf(node);
  }

  /** Every node whose address this one knows, by id (for /api/health). */
  knownNodes(): Record<string, string> {
    return Object.fromEntries([...(this.#registry?.nodes() ?? []), ...this.#urls]);
  }

  /** A new session id: 128 random bits, visible ASCII only (the spec's rule for session ids). */
  sessionId(): string {
    const random = randomBytes(16).toString('base64url');
    if (this.node === null) return random;
    const named = `${this.node}.${random}`;
    return `${named}.${this.#mac(named)}`;
  }

  /**
   * The node that minted a session id this node does not know, when the id is a genuine one
   * of another node; undefined for anything else.
   */
  ownerOf(sessionId: string): string | undefined {
    if (this.node === null) return undefined;
    const parts = sessionId.split('.');
    if (parts.length !== 3) return undefined;
    const [node, random, mac] = parts as [string, string, string];
    if (node === this.node || !this.#macMatches(`${node}.${random}`, mac)) return undefined;
    return node;
  }

  /**
   * The key `requestState` is sealed with: derived from the cluster key, so every node can
   * open what another sealed; random per run for a daemon on its own.
   */
  #stateKey(): Buffer {
    if (this.#key === null) return randomBytes(32);
    return createHmac('sha256', this.#key).update('mcp-director requestState').digest();
  }

  #mac(text: string): string {
    return createHmac('sha256', this.#key as Buffer)
      .update(`session\u0000${text}`)
      .digest()
      .subarray(0, MAC_BYTES)
      .toString('base64url');
  }

  #macMatches(text: string, mac: string): boolean {
    const expected = Buffer.from(this.#mac(text));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
