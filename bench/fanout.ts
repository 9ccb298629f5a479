/**
 * `npm run bench:fanout`: what a client waits for when it connects to a director with many
 * backends, through `mcp-director bench`:
 *
 * - hung: 20 backends of which one never answers `initialize`; workload `connect`
 *   (initialize, initialized, every tools/list page, DELETE) — one hung backend must not
 *   hold anyone's handshake or listing;
 * - catalog: 50 backends with ~1,000 tools (test/fixtures/many-tools-server.js, one domain
 *   each); workload `list` (every page of tools/list, one timed cycle) on one connection.
 *
 * Both wait 8 s of warm-up first, so every backend that can start has started.
 *
 *   node dist/bench/fanout.js [--only hung,catalog] [any mcp-director bench option]
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
const DOMAINS = ['github', 'jira', 'slack', 'postgres', 'kubernetes', 's3', 'calendar', 'email'];

const work = mkdtempSync(join(tmpdir(), 'mcpd-fanout-'));

/** A director target on `{port}` serving `servers`; its config and data in the temp folder. */
function director(name: string, servers: Record<string, unknown>): string {
  const config = join(work, `${name}.json`);
  writeFileSync(config, JSON.stringify({ mcpServers: servers }));
  return (
    `${name}=${node} ${SERVE_ARGV.join(' ')} --config ${config} ` +
    `--port {port} --data-dir ${join(work, `${name}-data`)}`
  );
}

const hung: Record<string, unknown> = {};
for (let i = 0; i < 19; i++) {
  hung[`echo${i}`] = { command: node, args: [dist('test/fixtures/echo-server.js')] };
}
hung['hung'] = { command: node, args: ['-e', 'setInterval(() => {}, 1 << 30)'] };

const catalog: Record<string, unknown> = {};
for (let i = 0; i < 50; i++) {
  catalog[`s${i}`] = {
    command: node,
    args: [dist('test/fixtures/many-tools-server.js'), '--domains', DOMAINS[i % DOMAINS.length]!],
  };
}

const scenarios: Record<string, string[]> = {
  hung: [director('hung', hung), '--workload', 'connect', '--connections', '4'],
  catalog: [director('catalog', catalog), '--workload', 'list', '--connections', '1'],
};

const argv = process.argv.slice(2);
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? argv.splice(onlyAt, 2)[1]?.split(',') : undefined;
let status = 0;
for (const [name, args] of Object.entries(scenarios)) {
  if (only !== undefined && !only.includes(name)) continue;
  const result = spawnSync(
    node,
    [dist('src/cli/main.js'), 'bench', ...args, '--warmup', '8', '--duration', '10', ...argv],
    { stdio: 'inherit' },
  );
  status = Math.max(status, result.status ?? 1);
  process.stdout.write('\n');
}
rmSync(work, { recursive: true, force: true });
process.exitCode = status;
