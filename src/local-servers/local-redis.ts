/**
 * A private `redis-server` child process: what `npm start` uses when REDIS_URL
 * is unset, and what the test setup uses when TEST_REDIS_URL is unset.
 */
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { aptInstall, canAptInstall, findExecutable, spawnManaged, waitUntilReady, withFreePortRetry } from './local-process.js';

export interface LocalRedisOptions {
  /** Working directory of the server (the AOF lives here when persist is true); created if missing. */
  dir: string;
  /** Fixed port; by default a free one is picked (and re-picked if another process grabs it first). */
  port?: number;
  /** true: append-only file in `dir` (survives restarts); false: memory only. */
  persist: boolean;
  /** Receives every line the server prints. */
  log?: (line: string) => void;
  /** a replica of the Redis on this local port */
  replicaOf?: number;
  /** more `--name value` settings (a test's Redis Cluster node) */
  extraArgs?: string[];
}

export interface LocalRedis {
  url: string;
  port: number;
  /** the redis-server process (the bench counts its CPU time) */
  pid: number;
  /** SIGTERM, then waits for the process to exit. Safe to call more than once. */
  stop(): Promise<void>;
}

const REDIS_NOT_INSTALLED =
  'redis-server is not installed: run "sudo apt-get install -y redis-server" or set REDIS_URL';
const READY_TIMEOUT_MS = 10_000;

/** Finds `redis-server`, installing the Debian package first when it is missing and we are root. */
export async function ensureRedisServerBinary(): Promise<string> {
  const extraDirs = ['/usr/bin', '/usr/sbin'];
  const found = await findExecutable('redis-server', extraDirs);
  if (found) return found;
  if (!(await canAptInstall())) throw new Error(REDIS_NOT_INSTALLED);
  await aptInstall('redis-server');
  const installed = await findExecutable('redis-server', extraDirs);
  if (!installed) throw new Error(`redis-server is still missing after "apt-get install -y redis-server"`);
  return installed;
}

export async function startLocalRedis(opts: LocalRedisOptions): Promise<LocalRedis> {
  const binary = await ensureRedisServerBinary();
  const dir = path.resolve(opts.dir);
  await mkdir(dir, { recursive: true });

  return withFreePortRetry(opts.port, async (port) => {
    const args = [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--protected-mode', 'yes',
      '--maxmemory-policy', 'noeviction',
      '--daemonize', 'no',
      '--dir', dir,
      ...(opts.persist ? ['--appendonly', 'yes'] : ['--save', '', '--appendonly', 'no']),
      ...(opts.replicaOf ? ['--replicaof', '127.0.0.1', String(opts.replicaOf)] : []),
      ...(opts.extraArgs ?? []),
    ];
    const proc = await spawnManaged(binary, args, {
      cwd: dir,
      log: opts.log,
      // SIGTERM makes redis flush its AOF before exiting.
      stopSignal: 'SIGTERM',
    });
    // A PONG alone could come from a stranger that grabbed the port first, so
    // the probe also checks that the answering server is our child.
    await waitUntilReady(proc, async () => (await probeRedis(port)) === proc.child.pid, READY_TIMEOUT_MS, `redis-server on 127.0.0.1:${port}`);
    proc.unref();
    return { url: `redis://127.0.0.1:${port}`, port, pid: proc.child.pid!, stop: () => proc.stop() };
  });
}

/**
 * Sends PING and INFO server over raw RESP (a Sentinel answers both too). Resolves the server's process id
 * once it answers PONG; undefined while it refuses, is loading, or is silent.
 */
export function probeRedis(port: number, timeoutMs = 1000): Promise<number | undefined> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const socket = net.connect({ host: '127.0.0.1', port });
    const finish = (pid: number | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(pid);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n'));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const firstEnd = received.indexOf('\r\n');
      if (firstEnd < 0) return;
      if (received.subarray(0, firstEnd).toString() !== '+PONG') return finish(undefined); // e.g. -LOADING
      const headerEnd = received.indexOf('\r\n', firstEnd + 2);
      if (headerEnd < 0) return;
      const header = received.subarray(firstEnd + 2, headerEnd).toString();
      const length = header.startsWith('$') ? Number(header.slice(1)) : NaN;
      if (!Number.isInteger(length) || length < 0) return finish(undefined);
      if (received.length < headerEnd + 2 + length) return;
      const info = received.subarray(headerEnd + 2, headerEnd + 2 + length).toString();
      const pid = /^process_id:(\d+)/m.exec(info)?.[1];
      finish(pid === undefined ? undefined : Number(pid));
    });
    socket.on('error', () => finish(undefined));
    socket.on('close', () => finish(undefined));
  });
}

