/**
 * A Redis group as a high-availability deployment runs it, on this machine:
 * a primary, its replicas and three Sentinels (quorum two) watching them.
 * The HA drill and the failover tests kill the primary and let the Sentinels
 * promote a replica; nothing here fails over by itself.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ensureRedisServerBinary, probeRedis, startLocalRedis, type LocalRedis } from './local-redis.js';
import { spawnManaged, waitUntilReady, withFreePortRetry, type ManagedProcess } from './local-process.js';

export interface LocalRedisGroupOptions {
  /** each server's directory goes under it */
  dir: string;
  /** the group's name, as Kalata's REDIS_SENTINEL_NAME */
  name?: string;
  replicas?: number;
  sentinels?: number;
  /** how long the primary stays silent before a Sentinel thinks it down (default 1000 ms; Redis's own: 30 s) */
  downAfterMs?: number;
  /** persist the nodes' data (append-only files) */
  persist?: boolean;
  log?: (line: string) => void;
}

export interface LocalSentinel {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export interface LocalRedisGroup {
  name: string;
  /** the nodes as started: [0] the first primary, then its replicas */
  nodes: LocalRedis[];
  sentinels: LocalSentinel[];
  /** REDIS_SENTINELS for Kalata */
  sentinelList: string;
  /** the port of the node the Sentinels name as primary now */
  primaryPort(): Promise<number>;
  /** Waits until the Sentinels name another primary than `port`, and it answers as one; resolves its port. */
  waitForNewPrimary(port: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startLocalRedisGroup(opts: LocalRedisGroupOptions): Promise<LocalRedisGroup> {
  const name = opts.name ?? 'kalata';
  const dir = path.resolve(opts.dir);
  const started: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    await Promise.all(started.map((s) => s.stop().catch(() => undefined)));
  };
  try {
    const primary = await startLocalRedis({ dir: path.join(dir, 'node-0'), persist: opts.persist ?? false, ...(opts.log ? { log: opts.log } : {}) });
    started.push(primary);
    const nodes = [primary];
    for (let i = 1; i <= (opts.replicas ?? 1); i++) {
      const replica = await startLocalRedis({ dir: path.join(dir, `node-${i}`), persist: opts.persist ?? false, replicaOf: primary.port, ...(opts.log ? { log: opts.log } : {}) });
      started.push(replica);
      nodes.push(replica);
    }
    await Promise.all(nodes.slice(1).map((n) => waitFor(async () => /master_link_status:up/.test(await info(n.port, 'replication')), 10_000, `replica on ${n.port} in sync`)));
    const sentinels: LocalSentinel[] = [];
    for (let i = 0; i < (opts.sentinels ?? 3); i++) {
      const sentinel = await startSentinel(path.join(dir, `sentinel-${i}`), name, primary.port, opts.downAfterMs ?? 1000, opts.log);
      started.push(sentinel);
      sentinels.push(sentinel);
    }
    // Ready once every Sentinel knows the replicas and the other Sentinels (they find each other through the primary).
    const others = sentinels.length - 1;
    await Promise.all(
      sentinels.map((s) =>
        waitFor(
          async () => {
            const fields = (await command(s.port, ['SENTINEL', 'MASTER', name])) as string[];
            const field = (key: string) => Number(fields[fields.indexOf(key) + 1]);
            return field('num-slaves') === nodes.length - 1 && field('num-other-sentinels') === others;
          },
          15_000,
          `Sentinel on ${s.port} to see the group`,
        ),
      ),
    );
    const primaryPort = async () => {
      for (const s of sentinels) {
        const answer = (await command(s.port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name]).catch(() => null)) as [string, string] | null;
        if (answer) return Number(answer[1]);
      }
      throw new Error('no Sentinel answers');
    };
    return {
      name,
      nodes,
      sentinels,
      sentinelList: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
      primaryPort,
      async waitForNewPrimary(old, timeoutMs = 20_000) {
        let found = 0;
        await waitFor(
          async () => {
            const port = await primaryPort().catch(() => old);
            if (port === old) return false;
            found = port;
            return /role:master/.test(await info(port, 'replication').catch(() => ''));
          },
          timeoutMs,
          `the Sentinels to promote a replica of ${old}`,
        );
        return found;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startSentinel(dir: string, name: string, primaryPort: number, downAfterMs: number, log?: (line: string) => void): Promise<LocalSentinel> {
  const binary = await ensureRedisServerBinary();
  await mkdir(dir, { recursive: true });
  return withFreePortRetry(undefined, async (port) => {
    // Sentinel rewrites its file as it learns the group: each one its own.
    const file = path.join(dir, 'sentinel.conf');
    await writeFile(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        'daemonize no',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
        `sentinel failover-timeout ${name} ${Math.max(downAfterMs * 5, 5000)}`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    const proc: ManagedProcess = await spawnManaged(binary, [file, '--sentinel'], { cwd: dir, log, stopSignal: 'SIGTERM' });
    await waitUntilReady(proc, async () => (await probeRedis(port)) === proc.child.pid, 10_000, `redis-sentinel on 127.0.0.1:${port}`);
    proc.unref();
    return { port, pid: proc.child.pid!, stop: () => proc.stop() };
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One command on a fresh connection (a Sentinel, or a node that may be dead): its answer, or a rejection. */
async function command(port: number, args: readonly [string, ...string[]]): Promise<unknown> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, connectTimeout: 1000, commandTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(...args);
  } finally {
    client.disconnect();
  }
}

const info = async (port: number, section: string) => String(await command(port, ['INFO', section]));
