/**
 * Entries that are the director itself. A client set up to use the director has it in its
 * own config — `mcp-director connect` (the stdio bridge), or the daemon's URL — and
 * importing that entry back would make the daemon a backend of itself, listing and calling
 * itself without end. Such entries are skipped with the reason; the daemon also refuses
 * one at run time (shared/instance.ts), this only keeps the config clean.
 */
import path from 'node:path';

import { CONFIG_DEFAULTS } from '../../shared/config/defaults.js';
import type { JsonObject } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';

/** Where the director listens: the destination config's `listen`, and the default port. */
export interface DirectorAddress {
  hosts: ReadonlySet<string>;
  ports: ReadonlySet<number>;
}

/** Hosts that reach a daemon on this machine whatever its `listen.host`. */
const LOCAL_HOSTS = ['127.0.0.1', 'localhost', '[::1]', '0.0.0.0', '[::]'];

/** The paths the daemon serves MCP on: /mcp, /mcp/<profile>, /sse, /sse/<profile>, /messages. */
const DIRECTOR_PATH = /^\/(?:(?:mcp|sse)(?:\/[^/]+)?|messages)\/?$/;

/** Launchers that run a package by name: `npx -y mcp-director connect`. */
const PACKAGE_RUNNERS = new Set(['npx', 'pnpx', 'bunx']);

/** The address of the director whose config is `config` (its file as parsed, if any). */
export function directorAddress(config: JsonObject | undefined): DirectorAddress {
  const hosts = new Set(LOCAL_HOSTS);
  const ports = new Set<number>([CONFIG_DEFAULTS.listen.port]);
  const listen = config?.['listen'];
  if (isJsonObject(listen)) {
    const { host, port } = listen;
    if (typeof host === 'string' && host !== '') hosts.add(urlHost(host));
    if (typeof port === 'number' && Number.isInteger(port) && port > 0) ports.add(port);
  }
  return { hosts, ports };
}

/** Why a mapped entry is the director itself, or undefined when it is not. */
export function selfReference(entry: JsonObject, address: DirectorAddress): string | undefined {
  const url = entry['url'];
  if (typeof url === 'string') return selfUrl(url, address);
  const command = entry['command'];
  const args = Array.isArray(entry['args'])
    ? entry['args'].filter((a): a is string => typeof a === 'string')
    : [];
  const subcommand = typeof command === 'string' ? directorSubcommand(command, args) : undefined;
  if (subcommand === 'connect') {
    return 'it runs `mcp-director connect`, the bridge to an MCP Director: importing it would make the director a backend of itself (to aggregate another daemon, add its URL as a remote server)';
  }
  if (subcommand === 'serve') {
    return 'it runs `mcp-director serve`, the director itself in single-client mode: importing it would start a director inside the director';
  }
  return undefined;
}

function selfUrl(text: string, address: DirectorAddress): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined; // `${VAR}` hosts and the like: nothing to compare
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (!address.hosts.has(url.hostname.toLowerCase()) || !address.ports.has(port)) return undefined;
  if (!DIRECTOR_PATH.test(url.pathname)) return undefined;
  // Origin and path only: a query may hold a token.
  return `its URL ${url.origin}${url.pathname} is this MCP Director's own endpoint: importing it would make the director a backend of itself`;
}

/**
 * `connect` or `serve` when the entry runs the director's CLI with that command:
 * `mcp-director connect`, `node …/dist/src/cli/main.js serve`, `npx -y mcp-director connect`.
 */
function directorSubcommand(command: string, args: readonly string[]): string | undefined {
  const program = baseName(command);
  let rest: readonly string[];
  if (program === 'mcp-director') {
    rest = args;
  } else if (program === 'node' || program === 'nodejs') {
    const script = args.findIndex((a) => !a.startsWith('-'));
    if (script < 0 || !isDirectorScript(args[script] as string)) return undefined;
    rest = args.slice(script + 1);
  } else if (PACKAGE_RUNNERS.has(program)) {
    const pkg = args.findIndex((a) => !a.startsWith('-'));
    if (pkg < 0 || !/^mcp-director(?:@.*)?$/.test(args[pkg] as string)) return undefined;
    rest = args.slice(pkg + 1);
  } else {
    return undefined;
  }
  const subcommand = rest.find((a) => !a.startsWith('-'));
  return subcommand === 'connect' || subcommand === 'serve' ? subcommand : undefined;
}

/** The director's CLI as a script: its compiled entry point, or its installed bin. */
function isDirectorScript(script: string): boolean {
  const normalized = script.replaceAll('\\', '/');
  return normalized.endsWith('/dist/src/cli/main.js') || baseName(script) === 'mcp-director';
}

/** `C:\\bin\\mcp-director.cmd` → `mcp-director`; `/usr/bin/node` → `node`. */
function baseName(command: string): string {
  const base = path.posix.basename(command.replaceAll('\\', '/')).toLowerCase();
  return base.replace(/\.(?:cmd|exe|bat|ps1|js|mjs)$/, '');
}

/** A host as `URL.hostname` spells it (IPv6 in brackets). */
function urlHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower;
}
