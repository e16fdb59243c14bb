/**
 * Triage by several operators at once: one operator holds a report (a claim),
 * gives it back, or an admin takes it over; a priority set by hand; notes.
 * Each is one transaction that writes the report and its history
 * (`report_events`) together.
 *
 * A claim is a conditional UPDATE (`... where claimed_by is null`): when two
 * operators claim at once, PostgreSQL makes the second wait for the first's
 * row lock and re-checks the condition on the row the first committed, so
 * exactly one wins and the other is told who holds it and since when.
 */
import { sql } from 'kysely';
import type { Db } from './database.js';
import type { Priority } from '../flows/triage.js';

/** Statuses an operator works on: a report in one of them can be claimed. */
export const OPEN_STATUSES: readonly string[] = ['new', 'verifying'];
/** Statuses where the work is done: a claim ends when the report reaches one. */
export const CLAIM_ENDS_AT: readonly string[] = ['verified', 'dismissed', 'escalated'];

export interface Holder {
  holder: string;
  since: Date;
}

export type ClaimResult =
  | { ok: true; since: Date; already?: boolean }
  | ({ ok: false; reason: 'held' } & Holder)
  | { ok: false; reason: 'closed'; status: string }
  | { ok: false; reason: 'missing' };

/**
 * Makes `who` the holder of an open report nobody holds.
 *
 * @example
 * const r = await claimReport(db, '42', 'aissata');
 * if (!r.ok && r.reason === 'held') say(`Déjà pris par ${r.holder}`);
 */
export async function claimReport(db: Db, id: string, who: string): Promise<ClaimResult> {
  return db.transaction().execute(async (trx) => {
    const won = await trx
      .updateTable('reports')
      .set({ claimed_by: who, claimed_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('claimed_by', 'is', null)
      .where('status', 'in', OPEN_STATUSES)
      .returning('claimed_at')
      .executeTakeFirst();
    if (won) {
      await trx.insertInto('report_events').values({ report_id: id, user_name: who, kind: 'claim' }).execute();
      return { ok: true as const, since: won.claimed_at! };
    }
    const row = await trx.selectFrom('reports').select(['status', 'claimed_by', 'claimed_at']).where('id', '=', id).executeTakeFirst();
    if (!row) return { ok: false as const, reason: 'missing' as const };
    if (row.claimed_by === who) return { ok: true as const, since: row.claimed_at!, already: true };
    if (row.claimed_by) return { ok: false as const, reason: 'held' as const, holder: row.claimed_by, since: row.claimed_at! };
    return { ok: false as const, reason: 'closed' as const, status: row.status };
  });
}

/** Gives a report back (only its holder can): it shows as « non pris » again. */
export async function releaseReport(db: Db, id: string, who: string): Promise<{ ok: true } | ({ ok: false; reason: 'held' } & Holder) | { ok: false; reason: 'not_held' | 'missing' }> {
  return db.transaction().execute(async (trx) => {
    const gone = await trx
      .updateTable('reports')
      .set({ claimed_by: null, claimed_at: null })
      .where('id', '=', id)
      .where('claimed_by', '=', who)
      .returning('id')
      .executeTakeFirst();
    if (gone) {
      await trx.insertInto('report_events').values({ report_id: id, user_name: who, kind: 'release' }).execute();
      return { ok: true as const };
    }
    const row = await trx.selectFrom('reports').select(['claimed_by', 'claimed_at']).where('id', '=', id).executeTakeFirst();
    if (!row) return { ok: false as const, reason: 'missing' as const };
    if (row.claimed_by) return { ok: false as const, reason: 'held' as const, holder: row.claimed_by, since: row.claimed_at! };
    return { ok: false as const, reason: 'not_held' as const };
  });
}

/**
 * An admin takes an open report for themself, from whoever holds it (an
 * operator gone home with reports in hand). The route audits it.
 */
export async function takeOverReport(db: Db, id: string, admin: string): Promise<{ ok: true; from: string | null } | { ok: false; reason: 'closed'; status: string } | { ok: false; reason: 'missing' }> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('reports').select(['status', 'claimed_by']).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!row) return { ok: false as const, reason: 'missing' as const };
    if (!OPEN_STATUSES.includes(row.status)) return { ok: false as const, reason: 'closed' as const, status: row.status };
    if (row.claimed_by === admin) return { ok: true as const, from: admin };
    await trx.updateTable('reports').set({ claimed_by: admin, claimed_at: sql<Date>`now()` }).where('id', '=', id).execute();
    await trx
      .insertInto('report_events')
      .values({ report_id: id, user_name: admin, kind: row.claimed_by ? 'takeover' : 'claim', detail: row.claimed_by })
      .execute();
    return { ok: true as const, from: row.claimed_by };
  });
}

/**
 * Sets one report's priority by hand (`null`: back to the one its incident
 * type gives). Any operator may: it orders the shared queue, and the history
 * and the audit log say who did it.
 */
export async function setReportPriority(db: Db, id: string, who: string, priority: Priority | null): Promise<{ ok: true; from: string | null; changed: boolean } | { ok: false }> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('reports').select('priority').where('id', '=', id).forUpdate().executeTakeFirst();
    if (!row) return { ok: false as const };
    if (row.priority === priority) return { ok: true as const, from: row.priority, changed: false };
    await trx.updateTable('reports').set({ priority }).where('id', '=', id).execute();
    await trx
      .insertInto('report_events')
      .values({ report_id: id, user_name: who, kind: 'priority', detail: `${row.priority ?? 'auto'} -> ${priority ?? 'auto'}` })
      .execute();
    return { ok: true as const, from: row.priority, changed: true };
  });
}

/** The longest note kept. */
export const NOTE_MAX_LENGTH = 1000;

/**
 * Adds a note to a report's history without changing anything else. Anyone
 * may, holder or not: a colleague who learns something adds it.
 */
export async function addReportNote(db: Db, id: string, who: string, note: string): Promise<boolean> {
  const text = note.trim().slice(0, NOTE_MAX_LENGTH);
  if (!text) return false;
  return db.transaction().execute(async (trx) => {
    const report = await trx.selectFrom('reports').select('id').where('id', '=', id).executeTakeFirst();
    if (!report) return false;
    await trx.insertInto('report_events').values({ report_id: id, user_name: who, kind: 'note', note: text }).execute();
    return true;
  });
}

/** The figures the reports page's tabs show: the open reports `who` holds, and the open ones nobody holds. */
export async function triageCounts(db: Db, who: string): Promise<{ mine: number; unclaimed: number }> {
  const row = await db
    .selectFrom('reports')
    .select([
      sql<string>`count(*) filter (where claimed_by = ${who})`.as('mine'),
      sql<string>`count(*) filter (where claimed_by is null)`.as('unclaimed'),
    ])
    .where('simulated', '=', false)
    .where('status', 'in', OPEN_STATUSES)
    .executeTakeFirstOrThrow();
  return { mine: Number(row.mine), unclaimed: Number(row.unclaimed) };
}
