/**
 * The environment the benches run Kalata's built processes with: production
 * mode with fresh random secrets, the repo's content with a real short code
 * (production refuses the sample one), on the bench's own servers.
 */
import { randomBytes } from 'node:crypto';
import { deployedContent } from '../test/support/content.js';

export interface BenchTarget {
  /** may also be given per process (`env`'s extra) */
  databaseUrl?: string;
  redisUrl?: string;
  /** the run's Redis key prefix, so runs can share a server */
  runId: string;
  workDir: string;
  logLevel: string;
}

export function kalataEnvironment(target: BenchTarget) {
  const keys = { PHONE_HASH_KEY: randomBytes(32).toString('hex'), DATA_ENCRYPTION_KEY: randomBytes(32).toString('hex') };
  const fixed: NodeJS.ProcessEnv = {
    ...deployedContent(),
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    ...(target.databaseUrl ? { DATABASE_URL: target.databaseUrl } : {}),
    ...(target.redisUrl ? { REDIS_URL: target.redisUrl } : {}),
    REDIS_PREFIX: `${target.runId}:`,
    WEBHOOK_SECRET: randomBytes(16).toString('hex'),
    ...keys,
    DATA_DIR: target.workDir,
    LOG_LEVEL: target.logLevel,
  };
  return {
    keys,
    secret: fixed.WEBHOOK_SECRET!,
    /** the environment of one process, listening on `port` */
    env: (port = 0, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, ...fixed, PORT: String(port), ...extra }),
  };
}
