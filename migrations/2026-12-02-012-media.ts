/**
 * Recorded prompts, stored once by id (src/content/media-id.ts): the audio
 * as the voice line plays it (mono MP3, converted and loudness-normalized
 * when it was stored), its length, and the size of the file it came from.
 * Content versions refer to it as `media:<id>`.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('media')
    .addColumn('id', 'text', (c) => c.primaryKey().check(sql`id ~ '^[0-9a-f]{32}$'`))
    .addColumn('audio', 'bytea', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('source_bytes', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('media').execute();
}
