/**
 * Indexes for the limits read on every inbound SMS (one number's messages and
 * replies in the last hour) and for the audit log's filter by action (every
 * number revealed, newest first).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('sms_inbound_phone_idx').on('sms_inbound').columns(['phone_hash', 'received_at']).execute();
  await db.schema.createIndex('sms_outbox_phone_idx').on('sms_outbox').columns(['phone_hash', 'created_at']).execute();
  await db.schema.createIndex('audit_log_action_idx').on('audit_log').columns(['action', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of ['audit_log_action_idx', 'sms_outbox_phone_idx', 'sms_inbound_phone_idx']) await db.schema.dropIndex(index).ifExists().execute();
}
