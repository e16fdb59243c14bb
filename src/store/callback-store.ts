/**
 * Call-back requests ("ask for a person", issue 15): a caller asks from the
 * hotline to be called back by an adviser; operators work the queue, oldest
 * first. A request is `waiting` (nobody has it), `claimed` (an operator has
 * it) or `done` (with an outcome). The number is kept encrypted only while
 * someone may call it: recording the outcome deletes it, and the retention
 * loop deletes what is older than PHONE_RETENTION_DAYS whatever the status.
 * The pseudonym stays, so the queue can tell one caller's requests apart.
 *
 * @example
 * const r = await insertCallback(trx, { callId, phoneHash, phoneEnc, language: 'fr', topic: 'voter' });
 * const claim = await claimCallback(db, id, 'awa'); // { ok: true } or { ok: false, claimedBy: 'moussa' }
 */
import { sql } from 'kysely';
import type { Db } from './database.js';

export type CallbackStatus = 'waiting' | 'claimed' | 'done';
export const CALLBACK_STATUSES: readonly CallbackStatus[] = ['waiting', 'claimed', 'done'];
export type CallbackOutcome = 'reached' | 'no_answer' | 'wrong_number' | 'refused' | 'expired';
export const CALLBACK_OUTCOMES: readonly CallbackOutcome[] = ['reached', 'no_answer', 'wrong_number', 'refused', 'expired'];
/** What an operator records; `expired` is the retention loop's (nobody called back in time). */
export const OPERATOR_OUTCOMES: readonly CallbackOutcome[] = ['reached', 'no_answer', 'wrong_number', 'refused'];
/** What stays open: a caller who asks again while one of these exists is told it waits. */
const OPEN: readonly CallbackStatus[] = ['waiting', 'claimed'];

export interface NewCallback {
  callId: string | null;
  phoneHash: string;
  phoneEnc: string;
  language: string;
  topic: string | null;
  simulated?: boolean;
}

/**
 * Files a request, unless this call filed one already (a retried turn) or
 * this number has one open (a second request while the first waits): then
 * nothing is written. Returns whether a row was added.
 */
export async function insertCallback(db: Db, r: NewCallback): Promise<boolean> {
  const rows = await db
    .insertInto('callbacks')
    .values({ call_id: r.callId, phone_hash: r.phoneHash, phone_enc: r.phoneEnc, language: r.language, topic: r.topic, simulated: r.simulated ?? false })
    // Either unique index: one request per call, one open request per number.
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .execute();
  return rows.length > 0;
}

/** Whether this number has a request waiting or being handled (simulator requests count only for the simulator). */
export async function hasOpenCallback(db: Db, phoneHash: string, simulated = false): Promise<boolean> {
  const row = await db
    .selectFrom('callbacks')
    .select('id')
    .where('phone_hash', '=', phoneHash)
    .where('simulated', '=', simulated)
    .where('status', 'in', OPEN as CallbackStatus[])
    .executeTakeFirst();
  return row !== undefined;
}

export interface CallbackRow {
  id: string;
  call_id: string | null;
  language: string;
  topic: string | null;
  status: string;
  claimed_by: string | null;
  claimed_at: Date | null;
  outcome: string | null;
  note: string | null;
  simulated: boolean;
  created_at: Date;
  updated_at: Date;
  done_at: Date | null;
  /** the number is still kept (it can be shown, audited, to call back) */
  has_number: boolean;
  /** `+223 76 •• •• 56`, from the call */
  phone_masked: string | null;
  /** nobody has claimed it within the answer time */
  late: boolean;
}

const lateBefore = (lateAfterMinutes: number, now: Date) => new Date(now.getTime() - lateAfterMinutes * 60_000);

function listQuery(db: Db, lateAfterMinutes: number, now: Date) {
  const cutoff = lateBefore(lateAfterMinutes, now);
  return db
    .selectFrom('callbacks as b')
    .leftJoin('calls as c', 'c.id', 'b.call_id')
    .select([
      'b.id',
      'b.call_id',
      'b.language',
      'b.topic',
      'b.status',
      'b.claimed_by',
      'b.claimed_at',
      'b.outcome',
      'b.note',
      'b.simulated',
      'b.created_at',
      'b.updated_at',
      'b.done_at',
      'c.phone_masked',
      sql<boolean>`b.phone_enc is not null`.as('has_number'),
      sql<boolean>`(b.status = 'waiting' and b.created_at < ${cutoff})`.as('late'),
    ]);
}

export interface CallbackQueue {
  /** waiting and claimed, oldest first */
  open: CallbackRow[];
  /** the latest finished ones, newest first */
  done: CallbackRow[];
}

/**
 * The queue: open requests oldest first (who has which), then the latest
 * finished ones. Simulator requests are left out unless asked.
 */
export async function listCallbacks(db: Db, options: { lateAfterMinutes: number; simulated?: boolean; now?: Date; doneLimit?: number }): Promise<CallbackQueue> {
  const now = options.now ?? new Date();
  const withSimulated = options.simulated === true;
  let open = listQuery(db, options.lateAfterMinutes, now).where('b.status', 'in', OPEN as CallbackStatus[]);
  let done = listQuery(db, options.lateAfterMinutes, now).where('b.status', '=', 'done');
  if (!withSimulated) {
    open = open.where('b.simulated', '=', false);
    done = done.where('b.simulated', '=', false);
  }
  const [openRows, doneRows] = await Promise.all([
    open.orderBy('b.created_at', 'asc').orderBy('b.id', 'asc').limit(500).execute(),
    done.orderBy('b.done_at', 'desc').limit(options.doneLimit ?? 50).execute(),
  ]);
  return { open: openRows, done: doneRows };
}

/** One request, or undefined. */
export async function callbackDetail(db: Db, id: string, options: { lateAfterMinutes: number; now?: Date }): Promise<CallbackRow | undefined> {
  return listQuery(db, options.lateAfterMinutes, options.now ?? new Date()).where('b.id', '=', id).executeTakeFirst();
}

export type ClaimResult = { ok: true } | { ok: false; reason: 'missing' } | { ok: false; reason: 'taken'; claimedBy: string | null; status: string };

/**
 * Takes a waiting request for `user`. Atomic: of two operators claiming at
 * once, one gets it; the other learns who has it (or that it is done).
 */
export async function claimCallback(db: Db, id: string, user: string, now = new Date()): Promise<ClaimResult> {
  const claimed = await db
    .updateTable('callbacks')
    .set({ status: 'claimed', claimed_by: user, claimed_at: now, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'waiting')
    .returning('id')
    .executeTakeFirst();
  if (claimed) return { ok: true };
  const row = await db.selectFrom('callbacks').select(['status', 'claimed_by']).where('id', '=', id).executeTakeFirst();
  if (!row) return { ok: false, reason: 'missing' };
  return { ok: false, reason: 'taken', claimedBy: row.claimed_by, status: row.status };
}

/** Puts a claimed request back in the queue (by its claimer, or an admin). Returns whether it was. */
export async function releaseCallback(db: Db, id: string, user: string, asAdmin: boolean, now = new Date()): Promise<boolean> {
  let q = db
    .updateTable('callbacks')
    .set({ status: 'waiting', claimed_by: null, claimed_at: null, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'claimed');
  if (!asAdmin) q = q.where('claimed_by', '=', user);
  return (await q.returning('id').executeTakeFirst()) !== undefined;
}

/**
 * The sealed number of a request `user` has claimed (an admin: any open
 * one), for an audited reveal; undefined when not allowed or not kept.
 */
export async function sealedNumberFor(db: Db, id: string, user: string, asAdmin: boolean): Promise<string | undefined> {
  let q = db.selectFrom('callbacks').select('phone_enc').where('id', '=', id).where('status', '=', 'claimed');
  if (!asAdmin) q = q.where('claimed_by', '=', user);
  return (await q.executeTakeFirst())?.phone_enc ?? undefined;
}

/**
 * Records the outcome of a claimed request (by its claimer, or an admin),
 * closes it and deletes the number: a finished request keeps none.
 */
export async function recordCallbackOutcome(
  db: Db,
  id: string,
  input: { user: string; asAdmin: boolean; outcome: CallbackOutcome; note: string | null },
  now = new Date(),
): Promise<boolean> {
  let q = db
    .updateTable('callbacks')
    .set({ status: 'done', outcome: input.outcome, note: input.note, phone_enc: null, done_at: now, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'claimed');
  if (!input.asAdmin) q = q.where('claimed_by', '=', input.user);
  return (await q.returning('id').executeTakeFirst()) !== undefined;
}

/**
 * What the dashboard shows: requests waiting (nobody has them), how many
 * of those are late (older than `lateAfterMinutes`), and since when the
 * oldest waits. Simulator requests are left out.
 *
 * @example
 * const { waiting, late, oldestWaitingAt } = await callbackCounts(db, { lateAfterMinutes: config.callbackAnswerMinutes });
 */
export async function callbackCounts(db: Db, options: { lateAfterMinutes: number; now?: Date }): Promise<{ waiting: number; late: number; oldestWaitingAt: Date | null }> {
  const cutoff = lateBefore(options.lateAfterMinutes, options.now ?? new Date());
  const row = await db
    .selectFrom('callbacks')
    .select([
      sql<number>`count(*)::int`.as('waiting'),
      sql<number>`(count(*) filter (where created_at < ${cutoff}))::int`.as('late'),
      sql<Date | null>`min(created_at)`.as('oldest'),
    ])
    .where('status', '=', 'waiting')
    .where('simulated', '=', false)
    .executeTakeFirstOrThrow();
  return { waiting: Number(row.waiting), late: Number(row.late), oldestWaitingAt: row.oldest ? new Date(row.oldest) : null };
}

/**
 * Retention: deletes the encrypted numbers of requests older than
 * `olderThanDays`, whatever their status. A request still open then is
 * closed as `expired` (it can no longer be called back, and must not keep
 * its caller from asking again). Returns how many numbers were deleted.
 */
export async function forgetOldCallbackNumbers(db: Db, olderThanDays: number, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - olderThanDays * 24 * 3600 * 1000);
  const expired = await db
    .updateTable('callbacks')
    .set({ status: 'done', outcome: 'expired', phone_enc: null, done_at: now, updated_at: now })
    .where('created_at', '<', cutoff)
    .where('status', 'in', OPEN as CallbackStatus[])
    .returning('phone_enc')
    .execute();
  const result = await db.updateTable('callbacks').set({ phone_enc: null }).where('created_at', '<', cutoff).where('phone_enc', 'is not', null).executeTakeFirst();
  return expired.length + Number(result.numUpdatedRows);
}
