/**
 * A benchmark target wrapper (bench/analytics.ts): runs the command after `--` and, with
 * `--scrape`, fetches its `/metrics` once a second for as long as it runs, as a Prometheus
 * server would. Both targets of the comparison are wrapped, so each table row's "+children"
 * is the daemon and its backend alike.
 *
 *   node dist/bench/scraped.js --port PORT [--scrape] -- COMMAND ARGS…
 */
import { spawn } from 'node:child_process';

const argv = process.argv.slice(2);
const split = argv.indexOf('--');
const own = split < 0 ? argv : argv.slice(0, split);
const port = Number(own[own.indexOf('--port') + 1]);
const [command, ...args] = split < 0 ? [] : argv.slice(split + 1);
if (!Number.isInteger(port) || command === undefined) {
  process.stderr.write('usage: scraped.js --port PORT [--scrape] -- COMMAND ARGS…\n');
  process.exit(2);
}
const child = spawn(command, args, { stdio: 'inherit' });
let scrapes = 0;
const timer = own.includes('--scrape')
  ? setInterval(() => {
      fetch(`http://127.0.0.1:${port}/metrics`)
        .then(async (response) => {
          await response.text();
          if (response.ok) scrapes += 1;
        })
        .catch(() => {});
    }, 1000)
  : undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  clearInterval(timer);
  if (timer !== undefined) process.stderr.write(`scraped /metrics ${scrapes} times\n`);
  process.exit(code ?? (signal === null ? 1 : 0));
});
