/**
 * A benchmark target (bench/cluster.ts): N daemons of one cluster behind HAProxy, configured
 * by examples/haproxy.cfg, HAProxy listening on PORT once every node is ready. Each node
 * serves the echo fixture. Stops everything on SIGTERM or SIGINT. `--direct`: one node,
 * itself on PORT, no balancer (the hop's cost, by difference).
 *
 *   node dist/bench/cluster-target.js --nodes N --port PORT [--direct]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/bench/local-process.js';
import { SERVE_ARGV } from './processes.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const argv = process.argv.slice(2);
const option = (name: string): number => Number(argv[argv.indexOf(name) + 1]);
const direct = argv.includes('--direct');
const count = direct ? 1 : option('--nodes');
const port = option('--port');
if (!Number.isInteger(count) || count < 1 || count > 3 || !Number.isInteger(port)) {
  process.stderr.write('usage: cluster-target.js --nodes 1|2|3 --port PORT\n');
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'mcpd-cluster-'));
const children: ChildProcess[] = [];
const stop = (): void => {
  for (const child of children) child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stop();
    process.exit(0);
  });
}

async function main(): Promise<void> {
  const nodes = Array.from({ length: count }, (_, i) => `n${i + 1}`);
  const ports = new Map<string, number>();
  for (const node of nodes) ports.set(node, direct ? port : await freePort());
  const urls = Object.fromEntries(nodes.map((n) => [n, `http://127.0.0.1:${ports.get(n)}`]));
  for (const node of nodes) {
    const config = join(work, `${node}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        mcpServers: {
          echo: {
            command: process.execPath,
            args: [join(REPO_ROOT, 'dist/test/fixtures/echo-server.js')],
          },
        },
        listen: { host: '127.0.0.1', port: ports.get(node) },
        cluster: { node, key: 'bench-cluster-key-0123456789abcdef0123', nodes: urls },
      }),
    );
    children.push(
      spawn(process.execPath, [...SERVE_ARGV, '--config', config], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, XDG_DATA_HOME: work },
      }),
    );
  }
  for (const url of Object.values(urls)) {
    const deadline = Date.now() + 20_000;
    while (
      !(await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error(`${url} did not get ready`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  if (direct) return; // the node is the target: nothing more to start
  // The shipped example, without the servers of nodes this run does not have.
  const absent = new Set(['n1', 'n2', 'n3'].filter((n) => !nodes.includes(n)));
  const example = readFileSync(join(REPO_ROOT, 'examples/haproxy.cfg'), 'utf8');
  const haproxyConfig = join(work, 'haproxy.cfg');
  writeFileSync(
    haproxyConfig,
    example
      .split('\n')
      .filter((line) => ![...absent].some((n) => new RegExp(`\\b${n}\\b`).test(line)))
      .join('\n'),
  );
  children.push(
    spawn('haproxy', ['-db', '-f', haproxyConfig], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        MCPD_LB: `127.0.0.1:${port}`,
        ...Object.fromEntries(
          nodes.map((n) => [`MCPD_${n.toUpperCase()}`, `127.0.0.1:${ports.get(n)}`]),
        ),
      },
    }),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `cluster-target: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  stop();
  process.exit(1);
});
