/**
 * The one wiring point: builds every service from the config with plain
 * factories. Tests pass overrides (their own database, Redis, clock, logger).
 */
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import type { Config } from './config/config.js';
import type { CompiledFlows } from './engine/types.js';
import { createFlowRegistry, type FlowRegistry } from './flows/flow-registry.js';
import { loadFlows } from './flows/flow-set.js';
import { createLogger, type Logger } from './logger.js';
import { loadSecrets, type Secrets } from './privacy/secrets.js';
import { createUssdRuntime, type UssdRuntime } from './runtime/ussd-runtime.js';
import { createDatabase, migrateToLatest, type Db } from './store/database.js';
import { startLocalRedis } from './store/local-redis.js';
import { createSessionStore } from './store/session-store.js';

export interface AppContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Db;
  readonly redis: Redis;
  readonly flows: FlowRegistry;
  readonly secrets: Secrets;
  readonly ussd: UssdRuntime;
  /** where the embedded services run, for the start-up banner */
  readonly embedded: { database?: string; redis?: string };
  readiness(): Promise<Record<string, 'ok' | string>>;
  close(): Promise<void>;
}

export interface ContextOverrides {
  logger?: Logger;
  db?: Db;
  redis?: Redis;
  flows?: CompiledFlows;
  secrets?: Secrets;
  /** Redis key prefix, so that tests and deployments can share a server */
  redisPrefix?: string;
  now?: () => number;
  /** run migrations on start (default true) */
  migrate?: boolean;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * @example
 * const ctx = await createContext(loadConfig());
 * createApp(ctx).listen(ctx.config.port);
 */
export async function createContext(config: Config, overrides: ContextOverrides = {}): Promise<AppContext> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const cleanups: (() => Promise<void>)[] = [];
  const embedded: AppContext['embedded'] = {};
  try {
    // Flows first: an invalid flow stops the process before anything starts.
    const flows = overrides.flows ?? loadFlows({ flowsDir: config.flowsDir, localesDir: config.localesDir, limits: config.limits, spelling: config.bambaraSpelling });
    const secrets = overrides.secrets ?? loadSecrets(config);

    let redis = overrides.redis;
    if (!redis) {
      let url = config.redisUrl;
      if (!url) {
        const local = await startLocalRedis({ dir: join(config.dataDir, 'redis'), persist: true });
        cleanups.push(() => local.stop());
        url = local.url;
        embedded.redis = url;
      }
      const client = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, connectTimeout: 3000, lazyConnect: false });
      client.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
      cleanups.push(async () => {
        await client.quit().catch(() => client.disconnect());
      });
      redis = client;
    }

    let db = overrides.db;
    if (!db) {
      const pgliteDir = join(config.dataDir, 'pglite');
      db = await createDatabase(config.databaseUrl ? { url: config.databaseUrl } : { pgliteDir });
      if (!config.databaseUrl) embedded.database = pgliteDir;
      const created = db;
      cleanups.push(() => created.destroy());
    }
    if (overrides.migrate !== false) await migrateToLatest(db);

    const registry = createFlowRegistry(flows);
    const sessions = createSessionStore(redis, { prefix: overrides.redisPrefix ?? 'kalata:', ttlSeconds: config.sessionTtlSeconds });
    const ussd = createUssdRuntime({
      flows: registry,
      sessions,
      db,
      secrets,
      logger,
      defaultLanguage: config.defaultLanguage,
      ...(overrides.now ? { now: overrides.now } : {}),
    });
    const database = db;
    const redisClient = redis;
    return {
      config,
      logger,
      db: database,
      redis: redisClient,
      flows: registry,
      secrets,
      ussd,
      embedded,
      async readiness() {
        const [r, d] = await Promise.allSettled([
          withTimeout(redisClient.ping(), 500),
          withTimeout(sql`select 1`.execute(database), 1000),
        ]);
        const status = (s: PromiseSettledResult<unknown>) => (s.status === 'fulfilled' ? 'ok' : String((s.reason as Error)?.message ?? s.reason));
        return { redis: status(r), database: status(d) };
      },
      async close() {
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
      },
    };
  } catch (err) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    throw err;
  }
}
