/**
 * Preloaded into a daemon (`--import`) by test/e2e/call-path.test.ts: prints which of the
 * project's files are on the stack when a `tools/call` crosses the thread hop (the relay
 * posting it on a shard's link) and the process hop (the shard writing it to the child's
 * stdin), the measurement docs/architecture.md#call-path describes.
 */
import { isMainThread } from 'node:worker_threads';
import { ShardPool } from '../../src/supervisor/pool/shard-pool.js';
import { StdioChannel } from '../../src/workers/channels/stdio.js';

/** The files of src on the current stack, innermost first, each once. */
function filesOnStack(): string[] {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Infinity;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const files = stack
    .split('\n')
    .map((line) => /\/dist\/(src\/[^:]+)\.js:/.exec(line)?.[1])
    .filter((file): file is string => file !== undefined)
    .map((file) => `${file}.ts`);
  return [...new Set(files)];
}

function report(hop: string): void {
  process.stderr.write(`CALL-PATH ${hop} ${filesOnStack().join(' ')}\n`);
}

if (isMainThread) {
  const admit = ShardPool.prototype.admit;
  ShardPool.prototype.admit = function (this: ShardPool, ...args) {
    const admitted = admit.apply(this, args);
    const link = admitted.link;
    if (link === undefined || args[0].method !== 'tools/call') return admitted;
    return {
      ...admitted,
      link: {
        ...link,
        send: (message) => {
          report('thread');
          link.send(message);
        },
      },
    };
  };
} else {
  const send = StdioChannel.prototype.send;
  StdioChannel.prototype.send = function (this: StdioChannel, json: string) {
    if (json.includes('"method":"tools/call"')) report('process');
    send.call(this, json);
  };
}
