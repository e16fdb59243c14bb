/**
 * Polling centres and their stations, imported by admins (`npm run stations`),
 * and the optional voter-to-station assignment, keyed by a keyed HMAC of the
 * NINA number: the number itself is never stored.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('polling_centres')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('cercle', 'text', (c) => c.notNull())
    .addColumn('commune', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('address', 'text')
    .addColumn('hours', 'text')
    .addColumn('latitude', 'double precision')
    .addColumn('longitude', 'double precision')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('polling_centres_place_idx').on('polling_centres').columns(['region', 'cercle', 'commune']).execute();
  await db.schema
    .createTable('polling_stations')
    .addColumn('centre_id', 'bigint', (c) => c.notNull().references('polling_centres.id').onDelete('cascade'))
    .addColumn('number', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('polling_stations_pk', ['centre_id', 'number'])
    .execute();
  await db.schema
    .createTable('voter_assignments')
    .addColumn('nina_hash', 'text', (c) => c.primaryKey())
    .addColumn('centre_id', 'bigint', (c) => c.notNull().references('polling_centres.id').onDelete('cascade'))
    .addColumn('station', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('voter_assignments').execute();
  await db.schema.dropTable('polling_stations').execute();
  await db.schema.dropTable('polling_centres').execute();
}
