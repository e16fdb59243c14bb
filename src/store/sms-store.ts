/**
 * The SMS message log in PostgreSQL. The row is the source of truth: a
 * message is sent at most once because only one worker can move it from
 * `pending|queued|retrying` to `sending`, and a row left in `sending` is never
 * sent again automatically.
 */
import { sql } from 'kysely';
import type { Db } from './database.js';
import { forgetOldCallbackNumbers } from './callback-store.js';

export type SmsStatus = 'pending' | 'queued' | 'sending' | 'retrying' | 'sent' | 'dry_run' | 'failed' | 'opted_out';

/** Statuses from which a message may still be sent. */
export const SENDABLE: readonly SmsStatus[] = ['pending', 'queued', 'retrying'];
/** Statuses a message never leaves. */
export const FINAL: readonly SmsStatus[] = ['sent', 'dry_run', 'failed', 'opted_out'];
/**
 * Delivery statuses that are final: the first one recorded stays, whatever a
 * later (late or forged) report says. AT's list marks Rejected, Success and
 * Failed final (docs.africastalking.com/sms/notifications); Expired is not in
 * that list, but nyaruka/courier's AT handler receives it and maps it to
 * failed, and an SMPP receipt's EXPIRED means the same.
 */
export const FINAL_DELIVERY: ReadonlySet<string> = new Set(['Success', 'Failed', 'Rejected', 'Expired']);
/** Delivery statuses on the way (AT: Sent, Submitted, Buffered): a later one replaces an earlier one until a final one comes. */
export const INTERIM_DELIVERY: ReadonlySet<string> = new Set(['Sent', 'Submitted', 'Buffered']);

/** What a delivery status does to the message: `unknown` ones are kept as events and change nothing. */
export function deliveryStatusKind(status: string): 'final' | 'interim' | 'unknown' {
  return FINAL_DELIVERY.has(status) ? 'final' : INTERIM_DELIVERY.has(status) ? 'interim' : 'unknown';
}

export interface NewSms {
  dedupeKey: string;
  kind: string;
  ref: string | null;
  callId?: string | null;
  phoneHash: string;
  phoneEnc: string;
  language: string;
  template: string;
  vars: Record<string, string>;
}

type Executor = Pick<Db, 'insertInto' | 'updateTable' | 'selectFrom'>;

/** Adds a message to the outbox (idempotent on its dedupe key); returns its id. */
export async function insertSms(db: Executor, m: NewSms): Promise<string | undefined> {
  const row = await db
    .insertInto('sms_outbox')
    .values({
      dedupe_key: m.dedupeKey,
      kind: m.kind,
      ref: m.ref,
      call_id: m.callId ?? null,
      phone_hash: m.phoneHash,
      phone_enc: m.phoneEnc,
      language: m.language,
      template: m.template,
      vars: JSON.stringify(m.vars),
    })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (row) await addSmsEvent(db, row.id, 'pending', m.kind);
  return row?.id;
}

export async function addSmsEvent(db: Executor, messageId: string | null, status: string, detail: string | null, extra: { gatewayMessageId?: string | null; dedupeKey?: string } = {}): Promise<void> {
  await db
    .insertInto('sms_events')
    .values({ message_id: messageId, status, detail, gateway_message_id: extra.gatewayMessageId ?? null, dedupe_key: extra.dedupeKey ?? null })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .execute();
}

/**
 * Takes the right to send: moves the message to `sending` if, and only if,
 * it is still sendable. Returns the row, or undefined when another run has
 * it or it is done.
 */
export async function claimSms(db: Db, id: string) {
  return db
    .updateTable('sms_outbox')
    .set({ status: 'sending', claimed_at: new Date(), attempts: sql<number>`attempts + 1`, updated_at: new Date() })
    .where('id', '=', id)
    .where('status', 'in', SENDABLE as SmsStatus[])
    .returningAll()
    .executeTakeFirst();
}

export async function finishSms(
  db: Db,
  id: string,
  patch: {
    status: SmsStatus;
    reason?: string | null;
    text?: string;
    segments?: number;
    encoding?: string;
    transport?: string;
    gatewayMessageId?: string | null;
    gatewayStatus?: string | null;
    gatewayStatusCode?: number | null;
    cost?: string | null;
  },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('sms_outbox')
      .set({
        status: patch.status,
        updated_at: new Date(),
        ...(patch.reason !== undefined ? { failure_reason: patch.reason } : {}),
        ...(patch.text !== undefined ? { text: patch.text, segments: patch.segments ?? null, encoding: patch.encoding ?? null } : {}),
        ...(patch.transport !== undefined ? { transport: patch.transport } : {}),
        ...(patch.gatewayMessageId !== undefined ? { gateway_message_id: patch.gatewayMessageId } : {}),
        ...(patch.gatewayStatus !== undefined ? { gateway_status: patch.gatewayStatus } : {}),
        ...(patch.gatewayStatusCode !== undefined ? { gateway_status_code: patch.gatewayStatusCode } : {}),
        ...(patch.cost !== undefined ? { cost: patch.cost } : {}),
        ...(patch.status === 'sent' || patch.status === 'dry_run' ? { sent_at: new Date() } : {}),
      })
      .where('id', '=', id)
      .execute();
    await addSmsEvent(trx, id, patch.status, patch.reason ?? patch.gatewayStatus ?? null, { gatewayMessageId: patch.gatewayMessageId ?? null });
    if (patch.gatewayMessageId) {
      // A delivery report can beat this write: adopt any that arrived for this id.
      const early = await trx
        .updateTable('sms_events')
        .set({ message_id: id })
        .where('gateway_message_id', '=', patch.gatewayMessageId)
        .where('message_id', 'is', null)
        .returning(['status', 'detail', 'id'])
        .execute();
      const latest = early
        .sort((a, b) => Number(a.id) - Number(b.id))
        .map((e) => ({ ...e, status: e.status.replace(/^delivery:/, '') }))
        .filter((e) => deliveryStatusKind(e.status) !== 'unknown');
      const final = latest.find((e) => FINAL_DELIVERY.has(e.status)) ?? latest.pop();
      if (final) {
        await trx
          .updateTable('sms_outbox')
          .set({ delivery_status: final.status, ...(final.detail ? { failure_reason: final.detail } : {}) })
          .where('id', '=', id)
          .execute();
      }
    }
  });
}

/**
 * Messages to (re)queue: pending ones (Redis was down, or the web process
 * died before enqueueing), and queued or retrying ones with no news for long
 * enough that their job must be gone. Queueing again is safe: the job id is
 * the message's, and a sent message is never claimed again.
 */
export async function pendingSmsIds(db: Db, pendingForMs: number, lostJobAfterMs: number, limit = 500): Promise<string[]> {
  const now = Date.now();
  const rows = await db
    .selectFrom('sms_outbox')
    .select('id')
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'pending'), eb('created_at', '<', new Date(now - pendingForMs))]),
        eb.and([eb('status', 'in', ['queued', 'retrying']), eb('updated_at', '<', new Date(now - lostJobAfterMs))]),
      ]),
    )
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/** Messages waiting for their job (queued or retrying) whose last change is `from` or later, oldest first. */
export async function queuedSmsIdsSince(db: Db, from: Date, limit = 5000): Promise<string[]> {
  const rows = await db.selectFrom('sms_outbox').select('id').where('status', 'in', ['queued', 'retrying']).where('updated_at', '>=', from).orderBy('id').limit(limit).execute();
  return rows.map((r) => r.id);
}

export async function markQueued(db: Db, ids: readonly string[]): Promise<void> {
  if (!ids.length) return;
  await db.updateTable('sms_outbox').set({ status: 'queued', updated_at: new Date() }).where('id', 'in', [...ids]).where('status', '=', 'pending').execute();
}

/**
 * A message left in `sending` longer than `staleMs` belonged to a worker that
 * died during the gateway call: it may or may not have gone out. It is marked
 * failed, visibly, rather than risk sending it twice.
 */
export async function failStaleSending(db: Db, staleMs: number): Promise<number> {
  const rows = await db
    .updateTable('sms_outbox')
    .set({ status: 'failed', failure_reason: 'interrupted during the gateway call: not resent, to avoid a duplicate', updated_at: new Date() })
    .where('status', '=', 'sending')
    .where('claimed_at', '<', new Date(Date.now() - staleMs))
    .returning('id')
    .execute();
  for (const r of rows) await addSmsEvent(db, r.id, 'failed', 'interrupted during the gateway call');
  return rows.length;
}

export async function isOptedOut(db: Executor, phoneHash: string): Promise<boolean> {
  const row = await db.selectFrom('sms_optouts').select('phone_hash').where('phone_hash', '=', phoneHash).executeTakeFirst();
  return row !== undefined;
}

/**
 * Records a delivery report. Unknown message ids are kept too (with no
 * message), duplicates are ignored, a late non-final status never overwrites
 * a final one, and a status outside AT's list (see deliveryStatusKind) is
 * kept as an event only. Returns whether the id matched a message.
 */
export async function recordDelivery(db: Db, report: { gatewayMessageId: string; status: string; failureReason: string | null }): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    // Locked: two reports for one message at once are decided one after the other.
    const message = await trx.selectFrom('sms_outbox').select(['id', 'delivery_status']).where('gateway_message_id', '=', report.gatewayMessageId).forUpdate().executeTakeFirst();
    await addSmsEvent(trx, message?.id ?? null, `delivery:${report.status}`, report.failureReason, {
      gatewayMessageId: report.gatewayMessageId,
      dedupeKey: `dlr:${report.gatewayMessageId}:${report.status}:${report.failureReason ?? ''}`,
    });
    if (!message) return false;
    const current = message.delivery_status;
    // Kept as an event, never as the status: a final status is final, and a status nobody documents means nothing yet.
    if (current && FINAL_DELIVERY.has(current)) return true;
    if (deliveryStatusKind(report.status) === 'unknown') return true;
    await trx
      .updateTable('sms_outbox')
      .set({ delivery_status: report.status, updated_at: new Date(), ...(report.failureReason ? { failure_reason: report.failureReason } : {}) })
      .where('id', '=', message.id)
      .execute();
    return true;
  });
}

/**
 * Retention: the encrypted copy of a number is kept only while it may be
 * needed (follow-ups, a status SMS after triage), then deleted. Messages still
 * waiting to be sent keep theirs. Returns how many copies were deleted.
 */
export async function forgetOldNumbers(db: Db, olderThanDays: number): Promise<number> {
  const cutoff = new Date(Date.now() - olderThanDays * 24 * 3600 * 1000);
  const reports = await db.updateTable('reports').set({ phone_enc: null }).where('created_at', '<', cutoff).where('phone_enc', 'is not', null).executeTakeFirst();
  const sms = await db
    .updateTable('sms_outbox')
    .set({ phone_enc: null })
    .where('created_at', '<', cutoff)
    .where('phone_enc', 'is not', null)
    .where('status', 'in', FINAL as SmsStatus[])
    .executeTakeFirst();
  // Call-back requests: the number of a request past the retention goes too (still open, it is closed as expired).
  const callbacks = await forgetOldCallbackNumbers(db, olderThanDays);
  return Number(reports.numUpdatedRows) + Number(sms.numUpdatedRows) + callbacks;
}
