/**
 * Thread entry for shard integration tests: runs the shard task exactly as piscina would,
 * with the task input (including a transferred MessagePort) passed as workerData.
 */
import { workerData } from 'node:worker_threads';
import runShard from '../../src/workers/shard.js';
import type { ShardTaskInput } from '../../src/shared/messages.js';

await runShard(workerData as ShardTaskInput);
