/**
 * Triage by several operators at once: who holds a report and since when, a
 * priority set by hand (null: the one its incident type gives, from
 * flows/triage.yaml), and a history that keeps notes, claims and priority
 * changes beside the status changes (`report_events.kind`).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('reports')
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_at', 'timestamptz')
    .addColumn('priority', 'text', (c) => c.check(sql`priority in ('urgent', 'normal', 'low')`))
    .execute();
  // "Mes signalements" and the "pris / non pris" filters, oldest first.
  await db.schema.createIndex('reports_claimed_idx').on('reports').columns(['claimed_by', 'created_at']).where(sql.ref('claimed_by'), 'is not', null).execute();
  await db.schema.createIndex('reports_unclaimed_idx').on('reports').column('created_at').where(sql<boolean>`claimed_by is null and simulated = false and status in ('new', 'verifying')`).execute();

  // One history for everything done to a report: `status` (from_status -> to_status), `note`, `claim`, `release`, `takeover`, `priority`.
  await db.schema.alterTable('report_events').addColumn('kind', 'text', (c) => c.notNull().defaultTo('status')).addColumn('detail', 'text').execute();
  await db.schema.alterTable('report_events').alterColumn('to_status', (c) => c.dropNotNull()).execute();
  await db.schema.createIndex('report_events_report_idx').on('report_events').columns(['report_id', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('report_events_report_idx').ifExists().execute();
  await db.deleteFrom('report_events' as never).where(sql.ref('to_status'), 'is', null).execute();
  await db.schema.alterTable('report_events').alterColumn('to_status', (c) => c.setNotNull()).execute();
  await db.schema.alterTable('report_events').dropColumn('detail').dropColumn('kind').execute();
  await db.schema.dropIndex('reports_unclaimed_idx').ifExists().execute();
  await db.schema.dropIndex('reports_claimed_idx').ifExists().execute();
  await db.schema.alterTable('reports').dropColumn('priority').dropColumn('claimed_at').dropColumn('claimed_by').execute();
}
