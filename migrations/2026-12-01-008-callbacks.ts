/**
 * Call-back requests (issue 15, "ask for a person"): a caller asks the hotline
 * to have an adviser call back. The number is kept encrypted (`phone_enc`)
 * only while it is needed: it is deleted once the outcome is recorded, and by
 * the retention loop after PHONE_RETENTION_DAYS whatever the status (a
 * request still open then is closed as `expired`: it can no longer be called
 * back, and it must not keep the caller from asking again). One
 * request per call (a retried turn adds none) and one open request per number
 * (asking again while one waits adds none).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('callbacks')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('call_id', 'uuid', (c) => c.references('calls.id').onDelete('set null').unique())
    .addColumn('phone_hash', 'text', (c) => c.notNull())
    .addColumn('phone_enc', 'text')
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('topic', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('waiting'))
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_at', 'timestamptz')
    .addColumn('outcome', 'text')
    .addColumn('note', 'text')
    .addColumn('simulated', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('done_at', 'timestamptz')
    .execute();
  await sql`alter table callbacks add constraint callbacks_status_check check (status in ('waiting', 'claimed', 'done'))`.execute(db);
  await sql`alter table callbacks add constraint callbacks_outcome_check check (outcome is null or outcome in ('reached', 'no_answer', 'wrong_number', 'refused', 'expired'))`.execute(db);
  // Waiting: nobody has it. Claimed: someone has it, since when. Done: an outcome, and no number any more.
  await sql`
    alter table callbacks add constraint callbacks_state_check check (
      (status = 'waiting' and claimed_by is null and outcome is null)
      or (status = 'claimed' and claimed_by is not null and claimed_at is not null and outcome is null)
      or (status = 'done' and outcome is not null and phone_enc is null and done_at is not null)
    )
  `.execute(db);
  await sql`create unique index callbacks_one_open_idx on callbacks (phone_hash, simulated) where status in ('waiting', 'claimed')`.execute(db);
  await db.schema.createIndex('callbacks_queue_idx').on('callbacks').columns(['status', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('callbacks').ifExists().execute();
}
