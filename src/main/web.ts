/**
 * `npm run start:web`: the web role alone, for several processes behind a
 * load balancer; with WEB_CONCURRENCY=N, N processes on this port (web-cluster.ts).
 */
import cluster from 'node:cluster';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../logger.js';
import { runMain } from './run-main.js';
import { serveWeb } from './serve.js';
import { runWebCluster } from './web-cluster.js';

runMain(() => {
  const config = loadConfig();
  if (config.webConcurrency > 1 && cluster.isPrimary) runWebCluster(config.webConcurrency, createLogger(config.logLevel));
  else return serveWeb({ worker: false });
});
