/**
 * Every turn of a call updates its `calls` row (last node, steps, time). With
 * room left in each page, PostgreSQL writes the new row version beside the old
 * one without touching the table's four indexes (a HOT update: none of the
 * updated columns is indexed). New pages keep 30% free; existing rows are left
 * where they are.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table calls set (fillfactor = 70)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table calls reset (fillfactor)`.execute(db);
}
