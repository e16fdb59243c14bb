/**
 * Keys that change must not break things silently (issue 12).
 *
 * `key_fingerprints`: one keyed fingerprint per key (an HMAC of a fixed label
 * under the key, see src/privacy/key-fingerprints.ts; never the key or a hash
 * of it). Every process compares its keys with these at start and refuses to
 * run on a mismatch.
 *
 * `sms_optout_numbers`: the encrypted number of each opt-out, kept as long as
 * the opt-out stands (START deletes it, with the opt-out). An opt-out is only
 * a pseudonym, which a new PHONE_HASH_KEY cannot recompute; with the number
 * kept, `npm run keys -- rotate` re-keys it, and a caller who sent STOP never
 * gets a follow-up again because a key changed. STOP writes it (see
 * src/sms/inbound-sms.ts); existing opt-outs get the newest copy still kept
 * in the outbox or on a report.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('key_fingerprints')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('sms_optout_numbers')
    .addColumn('phone_hash', 'text', (c) => c.primaryKey().references('sms_optouts.phone_hash').onDelete('cascade').onUpdate('cascade'))
    .addColumn('phone_enc', 'text', (c) => c.notNull())
    .execute();
  await sql`
    insert into sms_optout_numbers (phone_hash, phone_enc)
    select distinct on (o.phone_hash) o.phone_hash, kept.phone_enc
    from sms_optouts o
    join (
      select phone_hash, phone_enc, created_at from sms_outbox where phone_enc is not null
      union all
      select phone_hash, phone_enc, created_at from reports where phone_enc is not null
    ) kept on kept.phone_hash = o.phone_hash
    order by o.phone_hash, kept.created_at desc
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sms_optout_numbers').ifExists().execute();
  await db.schema.dropTable('key_fingerprints').ifExists().execute();
}
