/**
 * Which of a report's fields a caller answered with a recording (the voice
 * line's place and description): their value is the recording's URL at the
 * gateway, which the console plays for operators (never transcribed).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('reports')
    .addColumn('recorded', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('reports').dropColumn('recorded').execute();
}
