/**
 * Menus as versioned content: each version is the whole of flows/ and
 * locales/ (file path → text), with its hash, author, note and the version it
 * was edited from. One row says which version is live; every process follows
 * it. The repo's files are the seed, imported as the first version.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('content_versions')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('hash', 'text', (c) => c.notNull())
    // The compiled flows' own hash, which calls in progress are pinned to.
    .addColumn('flows_hash', 'text', (c) => c.notNull())
    .addColumn('files', 'jsonb', (c) => c.notNull())
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('based_on', 'bigint', (c) => c.references('content_versions.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('content_versions_hash_idx').on('content_versions').column('hash').execute();
  await db.schema.createIndex('content_versions_flows_hash_idx').on('content_versions').column('flows_hash').execute();
  // One row, always the same: the live version, who made it live and when.
  await db.schema
    .createTable('content_live')
    .addColumn('singleton', 'boolean', (c) => c.primaryKey().defaultTo(true).check(sql`singleton`))
    .addColumn('version_id', 'bigint', (c) => c.notNull().references('content_versions.id'))
    .addColumn('changed_by', 'text', (c) => c.notNull())
    .addColumn('changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('content_live').ifExists().execute();
  await db.schema.dropTable('content_versions').ifExists().execute();
}
