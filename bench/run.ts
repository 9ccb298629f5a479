/**
 * `npm run bench`: the repository's preset of `mcp-director bench --compare`: the same
 * tools/call load against, in interleaved rounds,
 *
 * - noop: uWS answering in-process (bench/noop-server.ts): the load driver's ceiling;
 * - direct: the SDK echo fixture served by the SDK over Streamable HTTP, no router;
 * - director: MCP Director in front of the same fixture over stdio;
 * - director-bare: MCP Director in front of an SDK-free NDJSON echo server: the router's own cost;
 * - sdk-proxy: the plain SDK proxy (bench/sdk-proxy.ts) in front of the same fixture;
 * - mcp-proxy and supergateway, when installed (on PATH), in front of the same fixture.
 *
 *   node dist/bench/run.js [--only noop,director] [--rounds 3] [any mcp-director bench option]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVE_ARGV } from './processes.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const node = process.execPath;
const dist = (file: string): string => join(REPO_ROOT, 'dist', file);
const echo = `${node} ${dist('test/fixtures/echo-server.js')}`;

const work = mkdtempSync(join(tmpdir(), 'mcpd-bench-'));
/** A director on `{port}` with one stdio backend; its data in the temp folder. */
function director(name: string, backend: string): string {
  const config = join(work, `${name}.json`);
  const [command, ...args] = backend.split(' ');
  writeFileSync(config, JSON.stringify({ mcpServers: { echo: { command, args } } }));
  return (
    `${name}=${node} ${SERVE_ARGV.join(' ')} --config ${config} ` +
    `--port {port} --data-dir ${join(work, `${name}-data`)}`
  );
}

const onPath = (program: string): boolean =>
  spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;

const systems: Record<string, string | undefined> = {
  noop: `noop=${node} ${dist('bench/noop-server.js')} --port {port}`,
  direct: `direct=${node} ${dist('test/fixtures/serve-http.js')} --server echo --port {port}`,
  director: director('director', echo),
  'director-bare': director('director-bare', `${node} ${dist('bench/ndjson-echo-server.js')}`),
  'sdk-proxy': `sdk-proxy=${node} ${dist('bench/sdk-proxy.js')} --port {port} -- ${echo}`,
  'mcp-proxy': onPath('mcp-proxy')
    ? `mcp-proxy=mcp-proxy --port {port} --host 127.0.0.1 -- ${echo}`
    : undefined,
  supergateway: onPath('supergateway')
    ? `supergateway=supergateway --stdio '${echo}' --outputTransport streamableHttp --stateful --port {port}`
    : undefined,
};

const argv = process.argv.slice(2);
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? argv.splice(onlyAt, 2)[1]?.split(',') : undefined;
for (const name of only ?? []) {
  if (!(name in systems)) throw new Error(`--only takes ${Object.keys(systems).join(', ')}`);
}
const targets = Object.entries(systems)
  .filter(([name, spec]) => spec !== undefined && (only === undefined || only.includes(name)))
  .map(([, spec]) => spec!);
const skipped = Object.entries(systems).filter(([, spec]) => spec === undefined);
if (skipped.length > 0) {
  process.stderr.write(`not installed, skipped: ${skipped.map(([n]) => n).join(', ')}\n`);
}

// The echo fixture's first tool is `echo`; behind a director it is `echo__echo`: no --tool,
// so each target calls its first listed tool, with the arguments of the design figures.
const result = spawnSync(
  node,
  [
    dist('src/cli/main.js'),
    'bench',
    ...targets,
    '--args',
    JSON.stringify({ text: 'x'.repeat(180) }),
    ...argv,
  ],
  { stdio: 'inherit' },
);
rmSync(work, { recursive: true, force: true });
process.exitCode = result.status ?? 1;
