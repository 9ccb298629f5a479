/**
 * An OAuth issuer stand-in on 127.0.0.1: authorization server metadata (RFC 8414), a key set
 * (JWKS) and a dynamic client registration endpoint, with tokens signed by jose. What the
 * daemon needs to verify bearer JWTs, and what a real client needs to get as far as the
 * authorization URL. It records every path asked, so a test can see who discovered what.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

export interface SignOptions {
  /** Expiry as jose takes it ('5m', or seconds since the epoch); default '5m'. */
  exp?: string | number;
  iss?: string;
  aud?: string;
  /** Sign with another key than the issuer's published one. */
  with?: CryptoKey;
}

export interface TestIssuer {
  url: string;
  /** Paths asked, in order (with the method for anything but GET). */
  hits: string[];
  sign(claims: Record<string, unknown>, audience: string, options?: SignOptions): Promise<string>;
  /** A key the issuer does not publish. */
  foreignKey: CryptoKey;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const pair = await generateKeyPair('ES256');
  const foreignKey = (await generateKeyPair('ES256')).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const hits: string[] = [];
  let url = '';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    hits.push(req.method === 'GET' ? path : `${req.method ?? ''} ${path}`);
    res.setHeader('Content-Type', 'application/json');
    if (path === '/.well-known/oauth-authorization-server') {
      res.end(
        JSON.stringify({
          issuer: url,
          jwks_uri: `${url}/jwks`,
          authorization_endpoint: `${url}/authorize`,
          token_endpoint: `${url}/token`,
          registration_endpoint: `${url}/register`,
          response_types_supported: ['code'],
          grant_types_supported: ['authorization_code', 'refresh_token'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['none'],
        }),
      );
    } else if (path === '/jwks') {
      res.end(JSON.stringify({ keys: [jwk] }));
    } else if (path === '/register' && req.method === 'POST') {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const metadata = JSON.parse(body) as Record<string, unknown>;
        res.writeHead(201).end(
          JSON.stringify({
            ...metadata,
            client_id: randomUUID(),
            client_id_issued_at: Math.floor(Date.now() / 1000),
          }),
        );
      });
    } else {
      res.writeHead(404).end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    hits,
    foreignKey,
    sign: (claims, audience, options = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(options.iss ?? url)
        .setAudience(options.aud ?? audience)
        .setIssuedAt()
        .setExpirationTime(options.exp ?? '5m')
        .sign(options.with ?? pair.privateKey),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
