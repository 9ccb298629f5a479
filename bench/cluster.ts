/**
 * `npm run bench:cluster`: the same workload through HAProxy to 1, 2 and 3 nodes of one
 * cluster (bench/cluster-target.ts, examples/haproxy.cfg), in interleaved rounds, with the
 * director alone beside them for the cost of the balancer's hop. On one machine the nodes
 * share its cores, so this measures what a node and the hop cost, not how a fleet scales:
 * README "Running several daemons" has the model that turns these figures into one.
 *
 *   node dist/bench/cluster.js [any mcp-director bench option]
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const node = process.execPath;
const dist = (file: string): string => join(REPO_ROOT, 'dist', file);
const argv = process.argv.slice(2);
const through = (n: number): string =>
  `lb-${n}-node${n === 1 ? '' : 's'}=${node} ${dist('bench/cluster-target.js')} --nodes ${n} --port {port}`;
const alone = `alone=${node} ${dist('bench/cluster-target.js')} --direct --port {port}`;
const result = spawnSync(
  node,
  [
    dist('src/cli/main.js'),
    'bench',
    alone,
    through(1),
    through(2),
    through(3),
    '--args',
    JSON.stringify({ text: 'x'.repeat(180) }),
    ...(argv.includes('--rounds') ? [] : ['--rounds', '3']),
    ...argv,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
