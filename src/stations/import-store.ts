/**
 * Console imports in PostgreSQL (`station_imports`, `station_import_chunks`):
 * the web process streams the upload into chunks, the worker streams them
 * back out and records the outcome; the chunks are deleted when the import
 * ends, done or failed (a voters file holds NINA numbers in clear).
 *
 * Statuses: receiving (upload in progress), queued, running, done, failed.
 */
import { sql, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../store/database.js';
import type { Database, StationImportsTable } from '../store/schema.js';
import type { User } from '../store/user-store.js';
import type { FileKind, ImportProblem } from './import-problems.js';
import type { ImportSummary } from './station-import.js';

export type ImportStatus = StationImportsTable['status'];
export type ImportFailure = NonNullable<StationImportsTable['failure']>;
export type StationImportRow = Selectable<StationImportsTable>;

/** Bytes per stored chunk: what each side holds at a time. */
export const CHUNK_BYTES = 256 * 1024;

/** The upload passed its size limit. */
export class UploadTooLargeError extends Error {
  override name = 'UploadTooLargeError';
  constructor(readonly limit: number) {
    super(`the file is larger than ${limit} bytes`);
  }
}

export async function createImport(db: Db, who: User, replace: boolean): Promise<string> {
  const row = await db
    .insertInto('station_imports')
    .values({ status: 'receiving', replace, user_id: who.id, user_name: who.name })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Stores an upload as it arrives, one chunk at a time (the body is read no
 * faster than the database takes it). Resolves the byte count; throws
 * UploadTooLargeError past `maxBytes`, or what the body or the database threw.
 */
/** The import was failed while its file was still arriving (taken for cut off): the upload stops. */
export class UploadAbandonedError extends Error {
  override name = 'UploadAbandonedError';
}

export async function storeUpload(db: Db, id: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<number> {
  let bytes = 0;
  let seq = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const write = async () => {
    if (!pendingBytes) return;
    const data = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await db.insertInto('station_import_chunks').values({ import_id: id, seq: seq++, data }).execute();
    // Still arriving: a slow upload (100 MB over a mobile link) is not taken for one cut off.
    const live = await db.updateTable('station_imports').set({ updated_at: sql`now()` }).where('id', '=', id).where('status', '=', 'receiving').executeTakeFirst();
    if (Number(live.numUpdatedRows) === 0) throw new UploadAbandonedError();
  };
  for await (const piece of body) {
    bytes += piece.byteLength;
    if (bytes > maxBytes) throw new UploadTooLargeError(maxBytes);
    pending.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
    pendingBytes += piece.byteLength;
    if (pendingBytes >= CHUNK_BYTES) await write();
  }
  await write();
  return bytes;
}

/** The upload is whole: the worker may take it. */
export async function markQueued(db: Db, id: string, bytes: number): Promise<void> {
  await db.updateTable('station_imports').set({ status: 'queued', bytes, updated_at: sql`now()` }).where('id', '=', id).where('status', '=', 'receiving').execute();
}

/** The stored file, chunk after chunk, through the import's transaction (see CsvSource). */
export async function* readChunks(trx: Transaction<Database>, id: string): AsyncGenerator<Buffer> {
  for (let seq = 0; ; seq++) {
    const chunk = await trx.selectFrom('station_import_chunks').select('data').where('import_id', '=', id).where('seq', '=', seq).executeTakeFirst();
    if (!chunk) return;
    yield chunk.data;
  }
}

/** Takes a queued import (or one whose run died: BullMQ runs its job again). Undefined when it is not to be run. */
export async function claimImport(db: Db, id: string): Promise<StationImportRow | undefined> {
  return db
    .updateTable('station_imports')
    .set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1), updated_at: sql`now()` }))
    .where('id', '=', id)
    .where('status', 'in', ['queued', 'running'])
    .returningAll()
    .executeTakeFirst();
}

/** Back in the queue: a retry is due, or (`notTried`) another import held the lock, which spends no attempt. */
export async function requeueImport(db: Db, id: string, notTried = false): Promise<void> {
  await db
    .updateTable('station_imports')
    .set((eb) => ({ status: 'queued', updated_at: sql`now()`, ...(notTried ? { attempts: eb('attempts', '-', 1) } : {}) }))
    .where('id', '=', id)
    .where('status', '=', 'running')
    .execute();
}

/** Done: written in the import's own transaction, so the data, the outcome and the file's deletion commit together. */
export async function finishImport(trx: Transaction<Database>, id: string, summary: ImportSummary): Promise<void> {
  await trx
    .updateTable('station_imports')
    .set({ status: 'done', failure: null, kind: summary.kind, rows_done: summary.rows, summary: JSON.stringify(summary), updated_at: sql`now()` })
    .where('id', '=', id)
    .execute();
  await trx.deleteFrom('station_import_chunks').where('import_id', '=', id).execute();
}

/** Failed: the outcome recorded, the file deleted. */
export async function failImport(
  db: Db,
  id: string,
  failure: ImportFailure,
  details: { problems?: ImportProblem[]; total?: number; kind?: FileKind | undefined; rows?: number } = {},
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('station_imports')
      .set({
        status: 'failed',
        failure,
        ...(details.kind ? { kind: details.kind } : {}),
        ...(details.rows !== undefined ? { rows_done: details.rows } : {}),
        ...(details.problems ? { problems: JSON.stringify(details.problems), problem_count: details.total ?? details.problems.length } : {}),
        updated_at: sql`now()`,
      })
      .where('id', '=', id)
      .execute();
    await trx.deleteFrom('station_import_chunks').where('import_id', '=', id).execute();
  });
}

export async function getImport(db: Db, id: string): Promise<StationImportRow | undefined> {
  return db.selectFrom('station_imports').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listImports(db: Db, limit = 10): Promise<StationImportRow[]> {
  return db.selectFrom('station_imports').selectAll().orderBy('id', 'desc').limit(limit).execute();
}

/** Imports queued for longer than `olderThanMs`: their job may be lost (Redis was down, or lost its data). */
export async function staleQueuedImports(db: Db, olderThanMs: number): Promise<string[]> {
  const rows = await db
    .selectFrom('station_imports')
    .select('id')
    .where('status', '=', 'queued')
    .where('updated_at', '<', new Date(Date.now() - olderThanMs))
    .orderBy('id')
    .limit(100)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Uploads cut off without an answer (the web process died mid-upload) are
 * failed; the files of ended imports are deleted, whatever left them
 * behind. Resolves the number of uploads failed.
 */
export async function sweepImports(db: Db, receivingForMs: number): Promise<number> {
  const cut = await db
    .updateTable('station_imports')
    .set({ status: 'failed', failure: 'interrupted', updated_at: sql`now()` })
    .where('status', '=', 'receiving')
    .where('updated_at', '<', new Date(Date.now() - receivingForMs))
    .returning('id')
    .execute();
  await db
    .deleteFrom('station_import_chunks')
    .where('import_id', 'in', (eb) => eb.selectFrom('station_imports').select('id').where('status', 'in', ['done', 'failed']))
    .execute();
  return cut.length;
}
