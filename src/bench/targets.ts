/**
 * What a benchmark runs against, from its command-line spec:
 *
 * - `http://…` or `https://…`: a server that is already running (Streamable HTTP, or
 *   HTTP+SSE when the path ends in `/sse`);
 * - a command containing `{port}`: an HTTP server the benchmark starts on a free port and
 *   calls at `http://127.0.0.1:{port}/mcp` (or the `--path` given);
 * - any other command: a stdio server the benchmark starts and speaks to over its pipes.
 *
 * A leading `name=` labels the target in tables and reports (`sdk=http://…`); without one
 * the label is the host or the command's program name. To set environment variables for a
 * command, use `env NAME=value command …`.
 */
import { basename } from 'node:path';

export type Target =
  | { name: string; kind: 'url'; url: string }
  | { name: string; kind: 'http-command'; command: string; path: string }
  | { name: string; kind: 'stdio'; command: string };

/**
 * Whether an HTTP target speaks HTTP+SSE (protocol 2024-11-05) rather than Streamable HTTP:
 * by the convention its URL follows, a path ending in `/sse` (`--path /sse` for a command).
 */
export function isLegacySse(url: URL): boolean {
  return /\/sse\/?$/.test(url.pathname);
}

export function parseTarget(spec: string, path = '/mcp'): Target {
  const trimmed = spec.trim();
  if (trimmed === '') throw new RangeError('a target must not be empty');
  const labelled = /^([A-Za-z][\w.-]*)=(\S.*)$/s.exec(trimmed);
  const label = labelled?.[1];
  const rest = labelled?.[2] ?? trimmed;
  if (/^https?:\/\//i.test(rest)) {
    let url: URL;
    try {
      url = new URL(rest);
    } catch {
      throw new RangeError(`not a valid URL: ${rest}`);
    }
    return { name: label ?? `${url.host}${url.pathname}`, kind: 'url', url: url.href };
  }
  const program = basename(rest.split(/\s+/)[0] ?? rest);
  if (rest.includes('{port}')) {
    if (!path.startsWith('/')) throw new RangeError(`--path must start with '/': ${path}`);
    return { name: label ?? program, kind: 'http-command', command: rest, path };
  }
  return { name: label ?? program, kind: 'stdio', command: rest };
}

/** The targets of one run, each with a label of its own (`node`, `node#2`, …). */
export function parseTargets(specs: readonly string[], path?: string): Target[] {
  const seen = new Map<string, number>();
  return specs.map((spec) => {
    const target = parseTarget(spec, path);
    const count = (seen.get(target.name) ?? 0) + 1;
    seen.set(target.name, count);
    return count === 1 ? target : { ...target, name: `${target.name}#${count}` };
  });
}

/** How the target is shown: its URL or its command. */
export function describeTarget(target: Target): string {
  return target.kind === 'url' ? target.url : target.command;
}
