/**
 * A real Kalata web process for integration tests: the real app on a free
 * port, a fresh PostgreSQL database (or PGlite) and a fresh Redis key prefix
 * on the test servers, and a helper to post Africa's Talking callbacks.
 */
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/config.js';
import { createContext, type AppContext, type ContextOverrides } from '../../src/context.js';
import { createLogger } from '../../src/logger.js';
import { createDatabase } from '../../src/store/database.js';
import { createApp } from '../../src/web/app.js';
import { freshDatabase, freshRedisPrefix } from './databases.js';

export interface Harness {
  ctx: AppContext;
  databaseUrl?: string;
  base: string;
  /** every log line the process wrote */
  logs: string[];
  /** POSTs an AT USSD callback; returns status and body */
  at(fields: Record<string, string | undefined>, path?: string): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** embedded PGlite (in memory) instead of the PostgreSQL test server */
  pglite?: boolean;
  /** more context overrides (worker, SMS transport and retry policy) */
  context?: ContextOverrides;
  /** reuse a database (a second process on the same data) */
  databaseUrl?: string;
  redisPrefix?: string;
  /** let the app make its own Redis client from REDIS_URL (with its production settings) */
  redisUrl?: string;
  /** let the app make its own Redis clients from its env (REDIS_SENTINELS) */
  ownRedis?: boolean;
}

export async function startHarness(name: string, options: HarnessOptions = {}): Promise<Harness> {
  const databaseUrl = options.pglite ? undefined : (options.databaseUrl ?? (await freshDatabase(name)));
  const config = loadConfig({
    LOG_LEVEL: 'info',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'kalata-harness-')),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const redis = new Redis(options.redisUrl ?? process.env.TEST_REDIS_URL!, { maxRetriesPerRequest: 1 });
  const db = await createDatabase(databaseUrl ? { url: databaseUrl } : {});
  const ctx = await createContext(config, {
    logger: createLogger('info', sink),
    ...(options.redisUrl || options.ownRedis ? {} : { redis }),
    db,
    redisPrefix: options.redisPrefix ?? `${freshRedisPrefix(name)}:`,
    ...options.context,
  });
  const server: Server = createApp(ctx).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    ctx,
    ...(databaseUrl ? { databaseUrl } : {}),
    base,
    logs,
    async at(fields, path = '/ussd/africastalking') {
      const body = new URLSearchParams();
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) body.append(k, v);
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: body.toString(),
      });
      return { status: res.status, body: await res.text() };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await ctx.close();
      await db.destroy();
      redis.disconnect();
    },
  };
}

/** Plays a conversation as AT sends it: cumulative text joined by `*`. */
export async function converse(
  h: Harness,
  call: { sessionId: string; phoneNumber: string; serviceCode?: string },
  inputs: string[],
): Promise<string[]> {
  const replies: string[] = [];
  const typed: string[] = [];
  const send = async () => {
    const res = await h.at({ ...call, serviceCode: call.serviceCode ?? '*384*123#', networkCode: '99999', text: typed.join('*') });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body}`);
    replies.push(res.body);
  };
  await send();
  for (const input of inputs) {
    typed.push(input);
    await send();
  }
  return replies;
}
