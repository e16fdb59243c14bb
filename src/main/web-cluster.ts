/**
 * `WEB_CONCURRENCY=N npm run start:web`: N web processes on one port, with
 * node:cluster (the primary accepts connections and hands them out in turn).
 * Each is a whole web process (its own PostgreSQL pool and Redis clients);
 * sessions live in Redis, so any of them serves any step of a call. A process
 * that dies is started again after a second; SIGTERM stops them all, each
 * finishing its requests as a single process does.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../logger.js';

export function runWebCluster(processes: number, logger: Logger): void {
  let stopping = false;
  const fork = (): Worker => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'web process exited: starting another');
    setTimeout(fork, 1000).unref();
  });
  for (let i = 0; i < processes; i++) fork();
  logger.info({ processes }, 'web processes started');
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping web processes');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    // As serve.ts: nothing holds the stop for longer than a few seconds.
    setTimeout(() => process.exit(0), 8000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
