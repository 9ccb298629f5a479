/**
 * Worker thread for test/unit/shared/analytics.test.ts: opens the analytics store at a path the
 * main thread also has open, waits for 'go' (so several writers record at the same time),
 * records `count` calls fire-and-forget, then reports its counters and closes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openAnalyticsStore } from '../../src/shared/analytics/store.js';

export interface WriterJob {
  path: string;
  writerId: string;
  server: string;
  count: number;
  /** ts of record i is startTs + i: writers may share timestamps on purpose. */
  startTs: number;
}

const port = parentPort;
if (port === null) throw new Error('analytics-writer must run as a worker thread');
const job = workerData as WriterJob;
const store = openAnalyticsStore(job.path, { writerId: job.writerId });

port.once('message', () => {
  for (let i = 0; i < job.count; i++) {
    store.record({
      ts: job.startTs + i,
      profile: 'default',
      client: job.writerId,
      session: `s-${i % 7}`,
      server: job.server,
      method: 'tools/call',
      target: `tool-${i % 3}`,
      era: 'modern',
      status: i % 10 === 0 ? 'error' : 'ok',
      errorCode: i % 10 === 0 ? -32603 : null,
      latencyUs: 100 + i,
      bytesIn: 10,
      bytesOut: 20,
    });
  }
  void store.flushed().then(async () => {
    const counters = store.counters();
    await store.close();
    port.postMessage(counters);
  });
});
port.postMessage('ready');
