/**
 * DNS-rebinding protection
 * (https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning):
 * a web page on another origin must not be able to reach a daemon on localhost. A request whose
 * Host is not a local name (while the daemon listens on loopback) or whose Origin is present
 * but neither local nor allowed in the config is refused with 403.
 */
const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function hostnameOf(hostHeader: string): string {
  // "[::1]:8765" → "[::1]", "localhost:8765" → "localhost"
  const match = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(hostHeader.trim().toLowerCase());
  return match?.[1] ?? '';
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** Returns why the request is refused, or undefined when it may proceed. */
export function checkHostAndOrigin(
  headers: Record<string, string>,
  listenHost: string,
  allowedOrigins: readonly string[],
): string | undefined {
  const host = headers['host'];
  if (host !== undefined && !isWildcard(listenHost)) {
    const name = hostnameOf(host);
    if (!LOCAL_HOSTNAMES.has(name) && name !== listenHost.toLowerCase()) {
      return `Host header '${host}' is not allowed: this daemon answers only to localhost names (DNS-rebinding protection)`;
    }
  }
  const origin = headers['origin'];
  if (origin === undefined) return undefined;
  if (allowedOrigins.includes(origin)) return undefined;
  try {
    const url = new URL(origin);
    if (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      LOCAL_HOSTNAMES.has(url.hostname)
    )
      return undefined;
  } catch {
    // "null" and other opaque origins fall through to the refusal.
  }
  return `Origin '${origin}' is not allowed: add it to "allowedOrigins" in the config to let that web page use this daemon`;
}
