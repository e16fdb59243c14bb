/**
 * What the gateway says when a session ends (Africa's Talking's end-of-session
 * notification): its status, the duration and hops it counted, and the cost.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('calls')
    .addColumn('telco_status', 'text')
    .addColumn('telco_duration_ms', 'integer')
    .addColumn('telco_hops', 'integer')
    .addColumn('telco_cost', 'text')
    .addColumn('telco_error', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const c of ['telco_error', 'telco_cost', 'telco_hops', 'telco_duration_ms', 'telco_status']) {
    await db.schema.alterTable('calls').dropColumn(c).execute();
  }
}
