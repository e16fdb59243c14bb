/**
 * SMS: the outbox becomes the message log (rendered text, segments, attempts,
 * the gateway's id, cost and statuses), with a status history, inbound
 * messages deduplicated on the gateway's id, and opt-outs.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('sms_outbox')
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('followup'))
    .addColumn('text', 'text')
    .addColumn('segments', 'integer')
    .addColumn('encoding', 'text')
    .addColumn('transport', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('claimed_at', 'timestamptz')
    .addColumn('sent_at', 'timestamptz')
    .addColumn('gateway_message_id', 'text')
    .addColumn('gateway_status', 'text')
    .addColumn('gateway_status_code', 'integer')
    .addColumn('cost', 'text')
    .addColumn('delivery_status', 'text')
    .addColumn('failure_reason', 'text')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('sms_outbox_status_idx').on('sms_outbox').columns(['status', 'created_at']).execute();
  await db.schema.createIndex('sms_outbox_gateway_id_idx').on('sms_outbox').column('gateway_message_id').unique().execute();

  await db.schema
    .createTable('sms_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('message_id', 'bigint', (c) => c.references('sms_outbox.id').onDelete('cascade'))
    .addColumn('gateway_message_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('dedupe_key', 'text', (c) => c.unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('sms_events_message_idx').on('sms_events').column('message_id').execute();

  await db.schema
    .createTable('sms_inbound')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('gateway_id', 'text', (c) => c.notNull().unique())
    .addColumn('phone_hash', 'text', (c) => c.notNull())
    .addColumn('to_code', 'text')
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('keyword', 'text')
    .addColumn('link_id', 'text')
    .addColumn('received_at', 'timestamptz', (c) => c.notNull())
    .addColumn('reply_id', 'bigint', (c) => c.references('sms_outbox.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('sms_optouts')
    .addColumn('phone_hash', 'text', (c) => c.primaryKey())
    .addColumn('opted_out_at', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sms_optouts').ifExists().execute();
  await db.schema.dropTable('sms_inbound').ifExists().execute();
  await db.schema.dropTable('sms_events').ifExists().execute();
  for (const column of ['kind', 'text', 'segments', 'encoding', 'transport', 'attempts', 'claimed_at', 'sent_at', 'gateway_message_id', 'gateway_status', 'gateway_status_code', 'cost', 'delivery_status', 'failure_reason', 'updated_at']) {
    await db.schema.alterTable('sms_outbox').dropColumn(column).execute();
  }
}
