/**
 * Jest global setup: starts a throwaway redis-server and PostgreSQL cluster
 * unless TEST_REDIS_URL / TEST_DATABASE_URL point at servers already, and
 * exports their URLs in those variables. Environment variables set here reach
 * the test files: workers are forked after this runs, and in-band runs share
 * this process.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import Module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { LocalPostgres } from '../../src/local-servers/local-postgres.js';
import type { LocalRedis } from '../../src/local-servers/local-redis.js';

declare global {
  /** Set here, called by global-teardown.ts (same process). */
  var __kalataStopTestServers: (() => Promise<void>) | undefined;
}

export default async function globalSetup(): Promise<void> {
  const needRedis = !process.env.TEST_REDIS_URL;
  const needPostgres = !process.env.TEST_DATABASE_URL;
  if (!needRedis && !needPostgres) return;

  const { startLocalRedis, startLocalPostgres } = await withTsSpecifiers(async () => ({
    ...(await import('../../src/local-servers/local-redis.js')),
    ...(await import('../../src/local-servers/local-postgres.js')),
  }));

  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'kalata-test-'));
  // mkdtemp makes it 0700; as root, PostgreSQL runs as user postgres and must get through.
  await chmod(tmpDir, 0o755);
  const started: { redis?: LocalRedis; postgres?: LocalPostgres } = {};
  const stop = async (): Promise<void> => {
    await Promise.all([started.redis?.stop(), started.postgres?.stop()]);
    await rm(tmpDir, { recursive: true, force: true });
  };

  const [redis, postgres] = await Promise.allSettled([
    needRedis ? startLocalRedis({ dir: path.join(tmpDir, 'redis'), persist: false }) : undefined,
    needPostgres ? startLocalPostgres({ dir: path.join(tmpDir, 'postgres') }) : undefined,
  ]);
  if (redis.status === 'fulfilled' && redis.value) {
    started.redis = redis.value;
    process.env.TEST_REDIS_URL = redis.value.url;
  }
  if (postgres.status === 'fulfilled' && postgres.value) {
    started.postgres = postgres.value;
    process.env.TEST_DATABASE_URL = postgres.value.url;
  }
  const failure = [redis, postgres].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await stop(); // jest skips the teardown when the setup throws
    throw failure.reason;
  }
  globalThis.__kalataStopTestServers = stop;
}

type ResolveFilename = (this: unknown, request: string, ...rest: unknown[]) => string;

/**
 * Jest loads globalSetup with Node's require (transpiled to CommonJS), where
 * moduleNameMapper does not apply, so the `./x.js` specifiers of our ESM
 * TypeScript sources would not resolve. While `load` runs, a relative `.js`
 * specifier that does not resolve is retried as `.ts`.
 */
async function withTsSpecifiers<T>(load: () => Promise<T>): Promise<T> {
  const loader = Module as unknown as { _resolveFilename: ResolveFilename };
  const original = loader._resolveFilename;
  loader._resolveFilename = function (request, ...rest) {
    try {
      return original.call(this, request, ...rest);
    } catch (error) {
      if (!/^\.\.?\/.*\.js$/.test(request)) throw error;
      return original.call(this, request.replace(/\.js$/, '.ts'), ...rest);
    }
  };
  try {
    return await load();
  } finally {
    loader._resolveFilename = original;
  }
}
