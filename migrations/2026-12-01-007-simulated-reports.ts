/**
 * Reports filed from the console's simulator ("appel complet") are real rows,
 * so that STATUT and the SMS inbox work as for a citizen; they are marked, so
 * that triage, counts and exports leave them out unless asked.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('reports').addColumn('simulated', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('reports').dropColumn('simulated').execute();
}
