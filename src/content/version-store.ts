/**
 * Content versions in PostgreSQL, and the one row that says which is live.
 * Publishing is one transaction that locks the live row: a publish based on
 * an older version than the live one is refused (two admins editing at once
 * never overwrite each other), and a version is never live without its row.
 */
import { sql, type ColumnType, type Generated, type Kysely } from 'kysely';
import type { Db } from '../store/database.js';
import type { ContentFiles } from './content-files.js';

type ContentVersionsTable = {
  id: Generated<string>;
  hash: string;
  flows_hash: string;
  files: ColumnType<ContentFiles, string, string>;
  author: string;
  note: string | null;
  based_on: string | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
};

type ContentLiveTable = {
  singleton: ColumnType<boolean, boolean | undefined, boolean>;
  version_id: string;
  changed_by: string;
  changed_at: ColumnType<Date, Date | string | undefined, Date | string>;
};

type ContentTables = {
  content_versions: ContentVersionsTable;
  content_live: ContentLiveTable;
};

type ContentDb = Kysely<ContentTables>;
const tables = (db: Db | ContentDb): ContentDb => (db as Db).withTables<ContentTables>() as unknown as ContentDb;

export interface VersionSummary {
  id: string;
  hash: string;
  flowsHash: string;
  author: string;
  note: string | null;
  basedOn: string | null;
  createdAt: Date;
  live: boolean;
}

export interface Version extends VersionSummary {
  files: ContentFiles;
}

export type PublishOutcome =
  | { kind: 'published'; id: string }
  /** the content is the live version's already: nothing changed */
  | { kind: 'unchanged'; id: string }
  /** based on an older version than the live one: refused, nothing changed */
  | { kind: 'conflict'; liveId: string; basedOn: string | null };

const summaryColumns = ['id', 'hash', 'flows_hash', 'author', 'note', 'based_on', 'created_at'] as const;

function summary(row: { id: string; hash: string; flows_hash: string; author: string; note: string | null; based_on: string | null; created_at: Date }, liveId: string | undefined): VersionSummary {
  return { id: String(row.id), hash: row.hash, flowsHash: row.flows_hash, author: row.author, note: row.note, basedOn: row.based_on === null ? null : String(row.based_on), createdAt: new Date(row.created_at), live: String(row.id) === liveId };
}

/** The live version's id, or undefined on an empty database. */
export async function liveVersionId(db: Db): Promise<string | undefined> {
  const row = await tables(db).selectFrom('content_live').select('version_id').executeTakeFirst();
  return row ? String(row.version_id) : undefined;
}

export async function getVersion(db: Db, id: string): Promise<Version | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  const [row, liveId] = await Promise.all([tables(db).selectFrom('content_versions').selectAll().where('id', '=', id).executeTakeFirst(), liveVersionId(db)]);
  return row ? { ...summary(row, liveId), files: parseFiles(row.files) } : undefined;
}

/** The newest version whose compiled flows have this hash: how a process finds the version a call is pinned to. */
export async function versionByFlowsHash(db: Db, flowsHash: string): Promise<Version | undefined> {
  const row = await tables(db).selectFrom('content_versions').selectAll().where('flows_hash', '=', flowsHash).orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row ? { ...summary(row, await liveVersionId(db)), files: parseFiles(row.files) } : undefined;
}

export async function liveVersion(db: Db): Promise<Version | undefined> {
  const id = await liveVersionId(db);
  return id ? getVersion(db, id) : undefined;
}

/** Newest first. */
export async function listVersions(db: Db, limit = 50): Promise<VersionSummary[]> {
  const [rows, liveId] = await Promise.all([tables(db).selectFrom('content_versions').select(summaryColumns).orderBy('id', 'desc').limit(limit).execute(), liveVersionId(db)]);
  return rows.map((r) => summary(r, liveId));
}

/**
 * Stores `files` as a new version and makes it live, in one transaction.
 * `basedOn`: the version the edit started from; when given and it is not the
 * live one, the publish is refused. (`undefined` publishes over whatever is
 * live: the command line's `publish --dir`, which names no base.)
 */
export async function publishVersion(
  db: Db,
  v: { files: ContentFiles; hash: string; flowsHash: string; author: string; note?: string | null; basedOn?: string | null },
): Promise<PublishOutcome> {
  return tables(db)
    .transaction()
    .execute(async (trx) => {
      await oneAtATime(trx);
      const live = await trx.selectFrom('content_live').select('version_id').forUpdate().executeTakeFirst();
      const liveId = live ? String(live.version_id) : undefined;
      if (v.basedOn !== undefined && liveId !== undefined && v.basedOn !== liveId) return { kind: 'conflict', liveId, basedOn: v.basedOn };
      if (liveId) {
        const current = await trx.selectFrom('content_versions').select('hash').where('id', '=', liveId).executeTakeFirstOrThrow();
        if (current.hash === v.hash) return { kind: 'unchanged', id: liveId };
      }
      const { id } = await trx
        .insertInto('content_versions')
        .values({ hash: v.hash, flows_hash: v.flowsHash, files: JSON.stringify(v.files), author: v.author, note: v.note ?? null, based_on: liveId ?? null })
        .returning('id')
        .executeTakeFirstOrThrow();
      await setLive(trx, String(id), v.author, liveId !== undefined);
      return { kind: 'published', id: String(id) };
    });
}

/** Makes an earlier version live again (a rollback). Returns false if there is no such version. */
export async function makeLive(db: Db, id: string, by: string): Promise<boolean> {
  if (!/^\d{1,18}$/.test(id)) return false;
  return tables(db)
    .transaction()
    .execute(async (trx) => {
      await oneAtATime(trx);
      const live = await trx.selectFrom('content_live').select('version_id').forUpdate().executeTakeFirst();
      const found = await trx.selectFrom('content_versions').select('id').where('id', '=', id).executeTakeFirst();
      if (!found) return false;
      await setLive(trx, id, by, live !== undefined);
      return true;
    });
}

async function setLive(trx: ContentDb, id: string, by: string, exists: boolean): Promise<void> {
  if (exists) await trx.updateTable('content_live').set({ version_id: id, changed_by: by, changed_at: new Date() }).execute();
  else await trx.insertInto('content_live').values({ version_id: id, changed_by: by }).execute();
}

/**
 * Publishes and rollbacks one at a time, across every process: the live row
 * is locked too, but on an empty database there is no row yet to lock (two
 * processes seeding at once would both insert).
 */
async function oneAtATime(trx: ContentDb): Promise<void> {
  await sql`select pg_advisory_xact_lock(${CONTENT_LOCK})`.execute(trx);
}
/** Any constant of ours: the advisory lock that serializes content changes. */
const CONTENT_LOCK = 74_2016_001;

/** JSONB comes back parsed from pg, and as text from some drivers: both read as files. */
function parseFiles(value: unknown): ContentFiles {
  return (typeof value === 'string' ? JSON.parse(value) : value) as ContentFiles;
}
