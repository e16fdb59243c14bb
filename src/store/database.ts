/**
 * The database: a real PostgreSQL server when `DATABASE_URL` is set, embedded
 * PGlite under the data folder otherwise. Code that must run on both always
 * uses the transaction handle inside a transaction: PGlite has one connection,
 * and a query on `db` inside a transaction would wait forever.
 */
import { join } from 'node:path';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { Kysely, Migrator, PostgresDialect, sql, type CompiledQuery, type MigrationProvider, type Transaction } from 'kysely';
import pg from 'pg';
import { migrations } from '../../migrations/index.js';
import { createMultiHostPool, postgresHosts } from './postgres-hosts.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface DatabaseOptions {
  /** `postgres://…`; unset: PGlite */
  url?: string;
  /** PGlite's data folder; unset with no url: in memory */
  pgliteDir?: string;
  poolSize?: number;
}

// Return bigint/int8 (bigserial ids, counts) as strings, numerics as numbers: no precision surprises.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

export async function createDatabase(options: DatabaseOptions): Promise<Db> {
  if (options.url) {
    const settings: pg.PoolConfig = {
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 2000,
      idleTimeoutMillis: 30000,
      // A hung server costs a query at most this long, well inside a USSD
      // step's deadline; the turn is then spooled.
      query_timeout: 2500,
      statement_timeout: 2000,
    };
    // A client losing its server must not crash the process: idle ones report
    // to the pool, and a checked-out one (mid-transaction when PostgreSQL
    // goes away) would emit an unhandled 'error'. The query in flight fails
    // on its own, and the caller's turn is spooled.
    const onClient = (client: pg.PoolClient) => {
      client.on('error', () => {});
      runPreparedByName(client);
    };
    // Several hosts (a primary and its standbys): connections go to the one that answers as asked (postgres-hosts.ts).
    const hosts = postgresHosts(options.url);
    if (hosts) return new Kysely<Database>({ dialect: new PostgresDialect({ pool: createMultiHostPool(hosts, settings, onClient) }) });
    const pool = new pg.Pool({ ...settings, connectionString: options.url });
    pool.on('error', () => {});
    pool.on('connect', onClient);
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGliteDialect } = await import('kysely-pglite-dialect');
  if (options.pgliteDir) mkdirSync(options.pgliteDir, { recursive: true });
  const release = options.pgliteDir ? lockPglite(options.pgliteDir) : () => {};
  const client = options.pgliteDir ? new PGlite(options.pgliteDir) : new PGlite();
  await client.waitReady;
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client) });
  const destroy = db.destroy.bind(db);
  db.destroy = async () => {
    await destroy();
    release();
  };
  return db;
}

/**
 * The hot path's statements (a turn's write, a new call's facts), by name:
 * PostgreSQL parses and plans each once per connection instead of at every
 * commit, and the statement's text is not sent again. Registered with
 * `prepared` below; every other statement runs as before.
 */
const preparedNames = new Map<string, string>();

/** Marks a compiled query as one to run prepared (by name), and returns it. */
export function prepared<R>(query: CompiledQuery<R>): CompiledQuery<R> {
  if (!preparedNames.has(query.sql)) preparedNames.set(query.sql, `kalata_hot_${preparedNames.size + 1}`);
  return query;
}

/**
 * A transaction that may run statements longer than the hotline's 2 s (a
 * station import): raises PostgreSQL's statement timeout for this
 * transaction, and the pool's client-side query timeout with it, until the
 * transaction ends. Call it first in the transaction.
 */
export async function allowLongStatements(trx: Transaction<Database>, seconds: number): Promise<void> {
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error('allowLongStatements: a whole number of seconds');
  await sql.raw(`set local statement_timeout = '${seconds}s'`).execute(trx);
}

const LONG_STATEMENTS = /^set local statement_timeout = '(\d+)s'$/;
const TRANSACTION_END = /^(commit|rollback)$/i;

function runPreparedByName(client: pg.PoolClient): void {
  type Query = (...args: unknown[]) => unknown;
  const query = client.query.bind(client) as Query;
  /** set by allowLongStatements for the rest of its transaction: the client-side timeout, ms */
  let longMs: number | undefined;
  // Kysely's driver calls query(text, values); a registered text goes as a named query.
  (client as unknown as { query: Query }).query = (text: unknown, ...rest: unknown[]) => {
    if (typeof text !== 'string' || !Array.isArray(rest[0])) return query(text, ...rest);
    const long = LONG_STATEMENTS.exec(text);
    if (long) longMs = Number(long[1]) * 1000 + 500;
    const name = preparedNames.get(text);
    const timeout = longMs;
    if (TRANSACTION_END.test(text)) longMs = undefined;
    if (!name && timeout === undefined) return query(text, ...rest);
    return query({ text, values: rest[0], ...(name ? { name } : {}), ...(timeout !== undefined ? { query_timeout: timeout } : {}) }, ...rest.slice(1));
  };
}

/** The embedded database is open in another process: a second one would corrupt it. */
export class DatabaseBusyError extends Error {
  override name = 'DatabaseBusyError';
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * PGlite is one process's database: a second process opening the same folder
 * corrupts it (tried: the first one's writes vanish, the next start fails).
 * A lock file next to the folder, holding the owner's pid, refuses a second
 * opener while the first lives; a dead owner's lock is taken over.
 */
function lockPglite(dir: string): () => void {
  const lock = `${dir}.lock`;
  const mine = String(process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lock, mine, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const owner = Number(readFileSync(lock, 'utf8').trim());
      if (owner && owner !== process.pid && isAlive(owner)) {
        throw new DatabaseBusyError(
          `the embedded database in ${dir} is open in another process (pid ${owner}, probably npm start): stop it first, or use the console while it runs; to run commands alongside the hotline, use PostgreSQL (DATABASE_URL)`,
        );
      }
      unlinkSync(lock); // its owner is gone
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    try {
      if (readFileSync(lock, 'utf8').trim() === mine) unlinkSync(lock);
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  return release;
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** The database the configuration names: DATABASE_URL, or the embedded PGlite in DATA_DIR (what the commands share with `npm start`). */
export function openConfiguredDatabase(config: { databaseUrl?: string | undefined; dataDir: string }): Promise<Db> {
  return createDatabase(config.databaseUrl ? { url: config.databaseUrl } : { pgliteDir: join(config.dataDir, 'pglite') });
}

/** Brings the schema up to date. Throws with the failing migration's error. */
export async function migrateToLatest(db: Kysely<unknown> | Db): Promise<string[]> {
  const migrator = new Migrator({ db: db as Kysely<unknown>, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * True when the database refused the data rather than the connection: a
 * SQLSTATE outside class 08 (connection) and 57 (operator intervention, such
 * as a statement timeout), or an error of ours marked `dataError`.
 */
export function isDataError(err: unknown): boolean {
  const e = err as { code?: unknown; dataError?: unknown };
  if (e.dataError === true) return true;
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && !e.code.startsWith('08') && !e.code.startsWith('57');
}
