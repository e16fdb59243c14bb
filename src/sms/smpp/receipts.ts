/**
 * SMPP delivery receipts: a `deliver_sm` with the receipt bit of esm_class
 * set, whose text is `id:… sub:… dlvrd:… submit date:… done date:… stat:…
 * err:… text:…` (SMPP 3.4 Appendix B) and, on many SMSCs, the
 * `receipted_message_id` and `message_state` TLVs. Mapped to Africa's
 * Talking's delivery statuses, so one outbox row reads the same whatever
 * carried it, and recorded with the same `recordDelivery`.
 *
 * A message of several parts has one outbox row but one SMSC id per part.
 * The row keeps the first part's id (`gateway_message_id`); each part's id is
 * kept as an `smpp_part` event (`gateway_message_id` = `smpp-part:<id>`,
 * detail = the first part's id, the dedupe key ending in `index/total`). A receipt for any part is
 * traced to the row through it: a failed, rejected or expired part makes the
 * message so at once; `Success` is recorded when every part has been
 * delivered; interim statuses are recorded as they come.
 */
import { sql } from 'kysely';
import type { Db } from '../../store/database.js';
import { addSmsEvent, recordDelivery } from '../../store/sms-store.js';

export interface SmppReceipt {
  messageId: string;
  /** the SMPP stat (`DELIVRD`) or message_state name */
  stat: string;
  err: string | null;
}

/** SMPP receipt stat -> AT delivery status. */
const STATUS_OF_STAT: Readonly<Record<string, string>> = {
  DELIVRD: 'Success',
  DELIVERED: 'Success',
  EXPIRED: 'Expired',
  DELETED: 'Failed',
  UNDELIV: 'Failed',
  UNDELIVERABLE: 'Failed',
  REJECTD: 'Rejected',
  REJECTED: 'Rejected',
  ENROUTE: 'Sent',
  ACCEPTD: 'Submitted',
  ACCEPTED: 'Submitted',
  BUFFRED: 'Buffered',
  BUFFERED: 'Buffered',
  SKIPPED: 'Failed',
};
/** message_state TLV (SMPP 3.4 5.3.2.35) -> the stat it stands for */
const STAT_OF_STATE: Readonly<Record<number, string>> = { 1: 'ENROUTE', 2: 'DELIVRD', 3: 'EXPIRED', 4: 'DELETED', 5: 'UNDELIV', 6: 'ACCEPTD', 7: 'UNKNOWN', 8: 'REJECTD', 9: 'SKIPPED' };

/** The AT status for a receipt stat; a stat outside the list is kept as `SMPP:<stat>` (recorded, changes nothing). */
export function deliveryStatusOf(stat: string): string {
  return STATUS_OF_STAT[stat.toUpperCase()] ?? `SMPP:${stat.toUpperCase().slice(0, 20)}`;
}

/**
 * Reads a receipt from its text and TLVs; undefined when it names no message.
 *
 * @example
 * parseReceipt('id:7f3a sub:001 dlvrd:001 submit date:2612011200 done date:2612011201 stat:DELIVRD err:000 text:Kalata');
 * // { messageId: '7f3a', stat: 'DELIVRD', err: '000' }
 */
export function parseReceipt(text: string, tlv: { receiptedMessageId?: string | undefined; messageState?: number | undefined } = {}): SmppReceipt | undefined {
  const field = (name: string) => new RegExp(`(?:^|\\s)${name}:(\\S*)`, 'i').exec(text)?.[1];
  const messageId = (tlv.receiptedMessageId || field('id') || '').trim();
  const stat = field('stat') || (tlv.messageState !== undefined ? STAT_OF_STATE[tlv.messageState] : undefined);
  if (!messageId || !stat || messageId.length > 64) return undefined;
  const err = field('err') ?? null;
  return { messageId, stat: stat.toUpperCase(), err };
}

const partKey = (id: string) => `smpp-part:${id}`;

/** Keeps the link from one part's SMSC id to its message's first id (see the file's comment). */
export async function recordPart(db: Db, part: { id: string; firstId: string; index: number; total: number }): Promise<void> {
  // detail: the first id, exactly (matched with =); the index and total ride in the dedupe key.
  await addSmsEvent(db, null, 'smpp_part', part.firstId, {
    gatewayMessageId: partKey(part.id),
    dedupeKey: `${partKey(part.id)}:${part.index}/${part.total}`,
  });
}

async function partOf(db: Db, id: string): Promise<{ first: string; index: number; total: number } | undefined> {
  const row = await db.selectFrom('sms_events').select(['detail', 'dedupe_key']).where('gateway_message_id', '=', partKey(id)).where('status', '=', 'smpp_part').executeTakeFirst();
  const count = /:(\d+)\/(\d+)$/.exec(row?.dedupe_key ?? '');
  if (!row?.detail || !count) return undefined;
  return { first: row.detail, index: Number(count[1]), total: Number(count[2]) };
}

async function isKnownId(db: Db, id: string): Promise<boolean> {
  if (await db.selectFrom('sms_outbox').select('id').where('gateway_message_id', '=', id).executeTakeFirst()) return true;
  return (await partOf(db, id)) !== undefined;
}

/**
 * The id as submit_sm_resp gave it. Some SMSCs answer submit_sm with a hex id
 * and write the receipt's `id:` in decimal (or the other way round): when the
 * id as received matches nothing, its other base is tried.
 */
async function resolveId(db: Db, id: string): Promise<string> {
  if (await isKnownId(db, id)) return id;
  const others: string[] = [];
  try {
    if (/^\d{1,30}$/.test(id)) others.push(BigInt(id).toString(16), BigInt(id).toString(16).toUpperCase());
    if (/^[0-9a-f]{1,24}$/i.test(id)) others.push(BigInt(`0x${id}`).toString(10));
  } catch {
    /* not a number after all */
  }
  for (const other of others) if (other !== id && (await isKnownId(db, other))) return other;
  return id;
}

/**
 * Records one receipt. Returns whether it matched a message.
 *
 * @example
 * await recordSmppReceipt(db, { messageId: '7f3a', stat: 'DELIVRD', err: '000' });
 */
export async function recordSmppReceipt(db: Db, receipt: SmppReceipt): Promise<boolean> {
  const id = await resolveId(db, receipt.messageId);
  const status = deliveryStatusOf(receipt.stat);
  const reason = status === 'Success' || status === 'Sent' || status === 'Submitted' || status === 'Buffered' ? null : `SMPP ${receipt.stat}${receipt.err ? ` err:${receipt.err}` : ''}`;
  const part = await partOf(db, id);
  if (!part) return recordDelivery(db, { gatewayMessageId: id, status, failureReason: reason });

  // One part of several: kept as its own event, then the message's status from all of them.
  const row = await db.selectFrom('sms_outbox').select('id').where('gateway_message_id', '=', part.first).executeTakeFirst();
  await addSmsEvent(db, row?.id ?? null, `smpp_part_delivery:${status}`, `part ${part.index}/${part.total}${reason ? `: ${reason}` : ''}`, {
    gatewayMessageId: partKey(id),
    dedupeKey: `smpp-dlr:${id}:${status}:${receipt.err ?? ''}`,
  });
  if (status !== 'Success') {
    return recordDelivery(db, { gatewayMessageId: part.first, status, failureReason: reason ? `part ${part.index}/${part.total}: ${reason}` : null });
  }
  const delivered = await db
    .selectFrom('sms_events as p')
    .innerJoin('sms_events as d', 'd.gateway_message_id', 'p.gateway_message_id')
    .select(sql<string>`count(distinct p.gateway_message_id)`.as('n'))
    .where('p.status', '=', 'smpp_part')
    .where('p.detail', '=', part.first)
    .where('d.status', '=', 'smpp_part_delivery:Success')
    .executeTakeFirstOrThrow();
  if (Number(delivered.n) >= part.total) return recordDelivery(db, { gatewayMessageId: part.first, status: 'Success', failureReason: null });
  return row !== undefined;
}
