/**
 * A throwaway PostgreSQL cluster (initdb + a `postgres` child process) for
 * tests and tools when TEST_DATABASE_URL is unset. Test settings: no fsync,
 * trust auth, TCP on 127.0.0.1 only, no unix socket.
 */
import { chmod, chown, mkdir, readFile, readdir, realpath, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import {
  aptInstall,
  canAptInstall,
  findExecutable,
  isExecutableFile,
  isRoot,
  spawnManaged,
  waitUntilReady,
  withFreePortRetry,
  type ManagedProcess,
} from './local-process.js';

export interface LocalPostgresOptions {
  /** The cluster's data directory: must be missing or empty; deleted by stop(). Its parents must be searchable by user postgres when running as root. */
  dir: string;
  /** Fixed port; by default a free one is picked. */
  port?: number;
  /** Receives every line initdb and the server print. */
  log?: (line: string) => void;
  /** Commits reach the disk (fsync, synchronous commit), as in production; default off, for tests. */
  durable?: boolean;
}

export interface LocalPostgres {
  /** Superuser URL of database `postgres`. */
  url: string;
  port: number;
  /** the postmaster, parent of every backend (the bench counts their CPU time) */
  pid: number;
  /** Immediate shutdown, then removes the data directory. Safe to call more than once. */
  stop(): Promise<void>;
  /** CREATE DATABASE `name` (lowercase letters, digits, _); resolves its URL. */
  createDatabase(name: string): Promise<string>;
}

export interface PostgresBinaries {
  binDir: string;
  initdb: string;
  postgres: string;
}

const POSTGRES_NOT_INSTALLED =
  'PostgreSQL is not installed: run "sudo apt-get install -y postgresql" or set DATABASE_URL';
const READY_TIMEOUT_MS = 30_000;
const DEBIAN_VERSIONS_DIR = '/usr/lib/postgresql';

/** Finds initdb and postgres, installing the Debian package first when they are missing and we are root. */
export async function ensurePostgresBinaries(): Promise<PostgresBinaries> {
  const found = await findPostgresBinaries();
  if (found) return found;
  if (!(await canAptInstall())) throw new Error(POSTGRES_NOT_INSTALLED);
  await aptInstall('postgresql');
  const installed = await findPostgresBinaries();
  if (!installed) throw new Error(`PostgreSQL is still missing after "apt-get install -y postgresql"`);
  return installed;
}

/** initdb on PATH first (its real directory, so postgres matches its version), then Debian's newest version. */
async function findPostgresBinaries(): Promise<PostgresBinaries | undefined> {
  const candidates: string[] = [];
  const onPath = await findExecutable('initdb');
  if (onPath) candidates.push(path.dirname(await realpath(onPath)));
  const versions = await readdir(DEBIAN_VERSIONS_DIR).catch(() => [] as string[]);
  versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .forEach((v) => candidates.push(path.join(DEBIAN_VERSIONS_DIR, v, 'bin')));
  for (const binDir of candidates) {
    const initdb = path.join(binDir, 'initdb');
    const postgres = path.join(binDir, 'postgres');
    if ((await isExecutableFile(initdb)) && (await isExecutableFile(postgres))) return { binDir, initdb, postgres };
  }
  return undefined;
}

export async function startLocalPostgres(opts: LocalPostgresOptions): Promise<LocalPostgres> {
  const bins = await ensurePostgresBinaries();
  const dataDir = path.resolve(opts.dir);
  // initdb and postgres refuse to run as root: then they run as user postgres.
  const owner = isRoot() ? await postgresUser() : undefined;
  await prepareDataDir(dataDir, owner);

  try {
    await runToEnd(bins.initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync'], 'initdb', dataDir, owner, opts.log);

    const { proc, port } = await serve(bins, dataDir, owner, opts);
    return localPostgresHandle(proc, port, dataDir);
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** Runs `postgres` on an initialized data directory, on a free port (or opts.port), until it answers as ours. */
async function serve(bins: PostgresBinaries, dataDir: string, owner: UnixOwner | undefined, opts: Pick<LocalPostgresOptions, 'port' | 'log' | 'durable'>) {
  return withFreePortRetry(opts.port, async (port) => {
    const settings = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: '', // TCP only: no socket file, no socket path length limit
      ...(opts.durable ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
      max_connections: '200',
    };
    const args = ['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    // SIGQUIT is an immediate shutdown (what `pg_ctl stop -m immediate` sends).
    const proc = await spawnManaged(bins.postgres, args, {
      cwd: path.dirname(dataDir),
      log: opts.log,
      stopSignal: 'SIGQUIT',
      ...owner,
    });
    const url = databaseUrl(port, 'postgres');
    await waitUntilReady(proc, () => isOurServer(url, dataDir), READY_TIMEOUT_MS, `postgres on 127.0.0.1:${port}`);
    proc.unref();
    return { proc, port };
  });
}

/** Runs a PostgreSQL tool (as the data directory's owner) and throws with its output unless it exits 0. */
async function runToEnd(binary: string, args: string[], what: string, dataDir: string, owner: UnixOwner | undefined, log: ((line: string) => void) | undefined): Promise<void> {
  const child = await spawnManaged(binary, args, { cwd: path.dirname(dataDir), log, stopSignal: 'SIGTERM', ...owner });
  if ((await child.exited).code !== 0) {
    const { how, output } = await child.describeExit();
    throw new Error(`${what} failed (${how})${output ? `:\n${output}` : ''}`);
  }
}

export interface LocalStandby extends LocalPostgres {
  /** `pg_ctl promote`: the standby leaves recovery and takes writes; resolves once it does. */
  promote(): Promise<void>;
}

/**
 * A streaming standby of a local primary, as a deployment makes one:
 * `pg_basebackup -R` (a copy, with standby.signal and the primary's address),
 * then `postgres` on the copy. Hot standby: it answers reads.
 */
export async function startLocalStandby(opts: {
  dir: string;
  primary: LocalPostgres;
  log?: (line: string) => void;
  /** the primary's commits wait for this standby (synchronous_standby_names): a failover loses no committed write. The primary must be durable (synchronous_commit on). */
  synchronous?: boolean;
}): Promise<LocalStandby> {
  const bins = await ensurePostgresBinaries();
  const dataDir = path.resolve(opts.dir);
  const owner = isRoot() ? await postgresUser() : undefined;
  await prepareDataDir(dataDir, owner);
  const run = (binary: string, args: string[], what: string) => runToEnd(path.join(bins.binDir, binary), args, what, dataDir, owner, opts.log);
  try {
    await run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(opts.primary.port), '-U', 'postgres', '-D', dataDir, '-R', '-X', 'stream', '--checkpoint=fast', '--no-sync'], 'pg_basebackup');
    const { proc, port } = await serve(bins, dataDir, owner, {});
    const handle = localPostgresHandle(proc, port, dataDir);
    if (opts.synchronous) {
      const client = new pg.Client({ connectionString: opts.primary.url });
      await client.connect();
      try {
        await client.query(`alter system set synchronous_standby_names = '*'`);
        await client.query('select pg_reload_conf()');
        for (let i = 0; ; i++) {
          const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from pg_stat_replication where sync_state in ('sync', 'quorum')`);
          if (rows[0]!.n > 0) break;
          if (i > 100) throw new Error('the standby did not become synchronous within 10 s');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        await client.end();
      }
    }
    return {
      ...handle,
      async promote() {
        await run('pg_ctl', ['promote', '-w', '-D', dataDir], 'pg_ctl promote');
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

function localPostgresHandle(proc: ManagedProcess, port: number, dataDir: string): LocalPostgres {
  let stopping: Promise<void> | undefined;
  return {
    url: databaseUrl(port, 'postgres'),
    port,
    pid: proc.child.pid!,
    stop: () =>
      (stopping ??= (async () => {
        await proc.stop();
        await rm(dataDir, { recursive: true, force: true });
      })()),
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
        throw new Error(`invalid database name ${JSON.stringify(name)}: use lowercase letters, digits and _`);
      }
      const client = new pg.Client({ connectionString: databaseUrl(port, 'postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return databaseUrl(port, name);
    },
  };
}

function databaseUrl(port: number, database: string): string {
  return `postgres://postgres@127.0.0.1:${port}/${database}`;
}

/** Whether `url` answers and is served from `dataDir` (not by a stranger that took the port first). */
async function isOurServer(url: string, dataDir: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => {}); // a dying server must not crash us with an unhandled 'error'
  try {
    await client.connect();
    const result = await client.query<{ data_directory: string }>('SHOW data_directory');
    return result.rows[0]?.data_directory === dataDir;
  } catch {
    return false; // refused, or "the database system is starting up"
  } finally {
    await client.end().catch(() => {});
  }
}

interface UnixOwner {
  uid: number;
  gid: number;
}

async function postgresUser(): Promise<UnixOwner> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const fields = passwd
    .split('\n')
    .map((line) => line.split(':'))
    .find((f) => f[0] === 'postgres');
  if (!fields || fields.length < 4) {
    throw new Error('running as root, but there is no "postgres" user to run PostgreSQL as: install the postgresql package');
  }
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** Creates an empty data directory (0700), owned by `owner` when given, after checking that owner can reach it. */
async function prepareDataDir(dataDir: string, owner: UnixOwner | undefined): Promise<void> {
  await mkdir(path.dirname(dataDir), { recursive: true }); // usual modes: the mode below would apply to parents too
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if ((await readdir(dataDir)).length > 0) {
    throw new Error(`PostgreSQL data directory ${dataDir} is not empty`);
  }
  if (!owner) return;
  await chown(dataDir, owner.uid, owner.gid);
  await chmod(dataDir, 0o700);
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    const s = await stat(dir);
    const searchable = s.uid === owner.uid ? s.mode & 0o100 : s.gid === owner.gid ? s.mode & 0o010 : s.mode & 0o001;
    if (!searchable) {
      throw new Error(
        `PostgreSQL data directory ${dataDir} is out of reach of user postgres: ${dir} is not searchable (chmod o+x, or use a directory under /tmp)`,
      );
    }
    if (dir === path.dirname(dir)) break;
  }
}
