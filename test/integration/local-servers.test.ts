/**
 * Starts and stops real redis-server and PostgreSQL processes through
 * src/local-servers/local-redis.ts and local-postgres.ts (besides the pair that the
 * global setup started), and checks the test setup's environment.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startLocalPostgres } from '../../src/local-servers/local-postgres.js';
import { ensureRedisServerBinary, startLocalRedis } from '../../src/local-servers/local-redis.js';
import { freshDatabase, freshRedisPrefix } from '../support/databases.js';

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kalata-local-servers-'));
  await chmod(tmp, 0o755); // reachable by user postgres when we run as root
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The error code of a plain TCP connect to 127.0.0.1:port ('connected' if it succeeds). */
function tcpConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

async function withRedis<T>(url: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

async function withPg<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

describe('global setup', () => {
  test('exports TEST_REDIS_URL and TEST_DATABASE_URL to the test files, and both answer', async () => {
    const redisUrl = process.env.TEST_REDIS_URL;
    const databaseUrl = process.env.TEST_DATABASE_URL;
    expect(redisUrl).toMatch(/^redis:\/\//);
    expect(databaseUrl).toMatch(/^postgres(ql)?:\/\//);
    await withRedis(redisUrl!, async (redis) => expect(await redis.ping()).toBe('PONG'));
    await withPg(databaseUrl!, async (client) => {
      expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    });
  });

  test('freshDatabase creates distinct, empty, connectable databases', async () => {
    const [a, b] = await Promise.all([freshDatabase('Local Servers!'), freshDatabase('local-servers')]);
    expect(a).not.toBe(b);
    for (const url of [a, b]) {
      const name = new URL(url).pathname.slice(1);
      expect(name).toMatch(/^local_servers_[0-9a-f]{10}$/);
      await withPg(url, async (client) => {
        expect((await client.query('select current_database() as db')).rows[0].db).toBe(name);
        const tables = await client.query(`select count(*)::int as n from pg_tables where schemaname = 'public'`);
        expect(tables.rows[0].n).toBe(0);
      });
    }
  });

  test('freshRedisPrefix is unique and made of safe characters', () => {
    const a = freshRedisPrefix('Sessions: FR');
    expect(a).toMatch(/^sessions-fr-[0-9a-f]{10}$/);
    expect(freshRedisPrefix('Sessions: FR')).not.toBe(a);
    expect(freshRedisPrefix('42')).toMatch(/^t-42-[0-9a-f]{10}$/);
  });
});

describe('startLocalRedis', () => {
  test('finds the redis-server binary', async () => {
    const binary = await ensureRedisServerBinary();
    expect(path.basename(binary)).toBe('redis-server');
    expect((await stat(binary)).isFile()).toBe(true);
  });

  test('starts a private in-memory server with the required settings, and stop() stops it', async () => {
    const server = await startLocalRedis({ dir: path.join(tmp, 'redis-memory'), persist: false });
    try {
      expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
      expect(server.url).not.toBe(process.env.TEST_REDIS_URL);
      await withRedis(server.url, async (redis) => {
        expect(await redis.ping()).toBe('PONG');
        expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
        expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
        expect(await redis.config('GET', 'save')).toEqual(['save', '']);
        expect(await redis.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
      });
    } finally {
      await server.stop();
    }
    expect(await tcpConnect(server.port)).toBe('ECONNREFUSED');
    await server.stop(); // a second stop is harmless
  });

  test('persist: true keeps data in an append-only file across restarts', async () => {
    const dir = path.join(tmp, 'redis-persist');
    const first = await startLocalRedis({ dir, persist: true });
    await withRedis(first.url, async (redis) => {
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      await redis.set('kalata:test', 'kept');
    });
    await first.stop();
    expect(await tcpConnect(first.port)).toBe('ECONNREFUSED');

    const second = await startLocalRedis({ dir, persist: true });
    try {
      await withRedis(second.url, async (redis) => expect(await redis.get('kalata:test')).toBe('kept'));
    } finally {
      await second.stop();
    }
  });

  test('a taken fixed port is an error carrying the server output, not a silent success', async () => {
    const taken = Number(new URL(process.env.TEST_REDIS_URL!).port);
    await expect(
      startLocalRedis({ dir: path.join(tmp, 'redis-conflict'), persist: false, port: taken }),
    ).rejects.toThrow(/exited before accepting connections[\s\S]*Address already in use/);
  });

  test('log receives the server output', async () => {
    const lines: string[] = [];
    const server = await startLocalRedis({ dir: path.join(tmp, 'redis-log'), persist: false, log: (line) => lines.push(line) });
    await server.stop();
    expect(lines.join('\n')).toMatch(/Ready to accept connections/);
  });
});

describe('startLocalPostgres', () => {
  test('starts a throwaway cluster, creates databases, and stop() stops it and removes its directory', async () => {
    const dir = path.join(tmp, 'postgres');
    const server = await startLocalPostgres({ dir });
    try {
      expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
      expect(server.url).not.toBe(process.env.TEST_DATABASE_URL);
      await withPg(server.url, async (client) => {
        expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
        const settings = await client.query<{ name: string; setting: string }>(
          `select name, setting from pg_settings
           where name in ('fsync', 'synchronous_commit', 'full_page_writes', 'max_connections', 'listen_addresses')
           order by name`,
        );
        expect(Object.fromEntries(settings.rows.map((r) => [r.name, r.setting]))).toEqual({
          fsync: 'off',
          full_page_writes: 'off',
          listen_addresses: '127.0.0.1',
          max_connections: '200',
          synchronous_commit: 'off',
        });
      });

      const url = await server.createDatabase('kalata_local_servers');
      expect(url).toBe(`postgres://postgres@127.0.0.1:${server.port}/kalata_local_servers`);
      await withPg(url, async (client) => {
        expect((await client.query('select current_database() as db')).rows[0].db).toBe('kalata_local_servers');
      });
      await expect(server.createDatabase('Robert"; drop')).rejects.toThrow(/invalid database name/);
    } finally {
      await server.stop();
    }
    expect(await tcpConnect(server.port)).toBe('ECONNREFUSED');
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    await server.stop(); // a second stop is harmless
  });

  test('refuses a data directory that is not empty, and leaves it alone', async () => {
    const dir = path.join(tmp, 'postgres-busy');
    const server = await startLocalPostgres({ dir });
    try {
      await expect(startLocalPostgres({ dir })).rejects.toThrow(/is not empty/);
      await withPg(server.url, async (client) => expect((await client.query('select 1 as one')).rowCount).toBe(1));
    } finally {
      await server.stop();
    }
  });
});
