/**
 * Console imports of polling stations and voters, run off the request path:
 * the web process streams the uploaded file into `station_import_chunks`
 * (1 MiB bytea rows), the worker streams it back out, imports it, records
 * the outcome in `station_imports`, and deletes the chunks (a voters file
 * holds NINA numbers in clear). Chunks rather than one bytea or a large
 * object: each side holds one chunk at a time, both PostgreSQL and PGlite
 * take them as they are, and forgetting the file is a plain DELETE.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('station_imports')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    // stations | voters, once the worker has read the header
    .addColumn('kind', 'text')
    .addColumn('replace', 'boolean', (c) => c.notNull().defaultTo(false))
    // receiving | queued | running | done | failed
    .addColumn('status', 'text', (c) => c.notNull())
    // rejected (bad rows) | technical | interrupted (upload cut) | too_large; null unless failed
    .addColumn('failure', 'text')
    .addColumn('bytes', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_done', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('summary', 'jsonb')
    .addColumn('problems', 'jsonb')
    .addColumn('problem_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('user_id', 'bigint', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('user_name', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('station_imports_status_idx').on('station_imports').columns(['status', 'updated_at']).execute();
  await db.schema
    .createTable('station_import_chunks')
    .addColumn('import_id', 'bigint', (c) => c.notNull().references('station_imports.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', 'bytea', (c) => c.notNull())
    .addPrimaryKeyConstraint('station_import_chunks_pk', ['import_id', 'seq'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('station_import_chunks').execute();
  await db.schema.dropTable('station_imports').execute();
}
