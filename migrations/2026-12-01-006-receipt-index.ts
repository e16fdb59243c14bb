/**
 * Delivery receipts (Africa's Talking callbacks, SMPP `deliver_sm`) are
 * matched on the gateway's message id in `sms_events` too: a receipt that
 * came before its send was recorded, and the parts of a long SMPP message.
 * Without an index each receipt read the whole table.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('sms_events_gateway_message_idx').on('sms_events').column('gateway_message_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('sms_events_gateway_message_idx').ifExists().execute();
}
