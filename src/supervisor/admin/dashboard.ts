/**
 * The web dashboard's files (docs/architecture.md#dashboard): built from `dashboard/` into
 * `dist/dashboard/` at install time, read into memory once at start, and served at `/` on the
 * daemon's own port. The dashboard keeps no state of its own: every page reads `/api`.
 *
 * Only files of that prebuilt index are ever served: a request path is a key looked up in a
 * Map, never joined to a folder, so no path (`..`, encoded or not) reaches the file system.
 * - `/assets/<file>`: the build's hashed files, cached for a year (their names change with
 *   their content); an unknown asset is 404.
 * - the page routes the build lists (`routes.json`: `/`, `/servers`, …) answer `index.html`,
 *   which routes in the browser (a reload or a link to a page works); never cached, so a new
 *   build is picked up at once.
 * - other files at the top of the build (`favicon.svg`) by their name, briefly cached.
 * Everything else (`/api`, `/healthz`, `/metrics`, unknown paths) is not the dashboard's.
 *
 * The page itself needs no token (it is the same static file for everyone); the API calls it
 * makes carry the token the user enters.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { logger } from '../../shared/log.js';
import type { IncomingRequest } from '../ingress/http-message.js';
import type { Reply } from '../ingress/uws.js';

const log = logger('dashboard');

/** `dist/dashboard/`, beside `dist/src/` where this module is compiled to. */
export const DASHBOARD_BUILD = fileURLToPath(new URL('../../../dashboard/', import.meta.url));

const CONTENT_TYPES = new Map([
  ['.html', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.json', 'application/json'],
  ['.svg', 'image/svg+xml'],
  ['.png', 'image/png'],
  ['.ico', 'image/x-icon'],
  ['.woff2', 'font/woff2'],
  ['.txt', 'text/plain; charset=utf-8'],
]);

const ASSETS = '/assets/';
const IMMUTABLE = 'public, max-age=31536000, immutable';
const SHORT = 'public, max-age=300';
/**
 * The page may load only its own files and talk only to its own origin, and no other site may
 * frame it (its buttons act with the admin token). Svelte and uPlot set inline styles.
 */
const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

/** One file, ready to send: its bytes, and gzipped when that is smaller. */
interface StaticFile {
  type: string;
  body: Buffer;
  gzipped: Buffer | undefined;
  cacheControl: string;
}

export interface Dashboard {
  /** Whether this request is the dashboard's (a GET of a page, an asset or a top file). */
  serves(request: IncomingRequest): boolean;
  handle(request: IncomingRequest, reply: Reply): void;
}

/**
 * Reads the built dashboard into memory. A daemon whose dashboard was not built (a source
 * checkout before `npm run build`) still starts: `/` then says how to build it.
 */
export function loadDashboard(folder: string = DASHBOARD_BUILD): Dashboard {
  const files = new Map<string, StaticFile>();
  let pages: ReadonlySet<string> = new Set(['/']);
  let missing: string | undefined;
  try {
    for (const path of walk(folder)) {
      const name = `/${relative(folder, path).split(sep).join('/')}`;
      const type = CONTENT_TYPES.get(extensionOf(name));
      if (type === undefined || name === '/routes.json') continue;
      files.set(name, prepare(readFileSync(path), type, name));
    }
    pages = new Set(readRoutes(join(folder, 'routes.json')));
    if (!files.has('/index.html')) missing = 'dist/dashboard/index.html is missing';
  } catch (error) {
    missing = `cannot read ${folder}: ${(error as Error).message}`;
  }
  if (missing !== undefined) {
    log.warn(`no dashboard at /: ${missing}; \`npm run build\` builds it`);
  }
  const index = files.get('/index.html');

  return {
    serves(request) {
      if (request.method !== 'GET') return false;
      const path = request.path;
      return (
        pages.has(path) || path.startsWith(ASSETS) || (files.has(path) && path !== '/index.html')
      );
    },
    handle(request, reply) {
      const path = request.path;
      if (pages.has(path)) {
        if (index === undefined) {
          return reply.send(
            503,
            { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
            `The dashboard is not built (${missing}). Run \`npm run build\` in the package, then restart the daemon. The API is at /api.\n`,
          );
        }
        return send(request, reply, index, PAGE_HEADERS);
      }
      const file = files.get(path);
      if (file === undefined) {
        return reply.send(
          404,
          { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
          `No such dashboard file: ${path}\n`,
        );
      }
      send(request, reply, file, {});
    },
  };
}

function send(
  request: IncomingRequest,
  reply: Reply,
  file: StaticFile,
  extra: Record<string, string>,
): void {
  const headers: Record<string, string> = {
    'Content-Type': file.type,
    'Cache-Control': file.cacheControl,
    'X-Content-Type-Options': 'nosniff',
    Vary: 'Accept-Encoding',
    ...extra,
  };
  const gzip =
    file.gzipped !== undefined && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '');
  if (gzip) headers['Content-Encoding'] = 'gzip';
  reply.send(200, headers, gzip ? file.gzipped : file.body);
}

function prepare(body: Buffer, type: string, name: string): StaticFile {
  const compressible = !type.startsWith('image/png') && !type.startsWith('font/');
  const gzipped = compressible ? gzipSync(body, { level: 9 }) : undefined;
  return {
    type,
    body,
    gzipped: gzipped !== undefined && gzipped.length < body.length ? gzipped : undefined,
    cacheControl: name === '/index.html' ? 'no-cache' : name.startsWith(ASSETS) ? IMMUTABLE : SHORT,
  };
}

/** The page routes the build wrote: paths like `/servers`, each answered with index.html. */
function readRoutes(file: string): string[] {
  const routes: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(routes) || !routes.every((r) => typeof r === 'string' && r.startsWith('/'))) {
    throw new Error(`${file} must be a JSON array of paths`);
  }
  return routes as string[];
}

function* walk(folder: string): Generator<string> {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile() && statSync(path).size > 0) yield path;
  }
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > name.lastIndexOf('/') ? name.slice(dot) : '';
}
