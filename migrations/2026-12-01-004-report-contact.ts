/**
 * What a report keeps of the caller's number, as the caller chose (issue 13):
 * `contact` is `sms` (the encrypted number, for the discreet SMS), `no_sms`
 * (only the keyed pseudonym, so STATUT works from that phone) or `no_number`
 * (neither, and no link to the call: STATUT from any phone). A report filed
 * without a number has no call to tell a retry of its own turn from another
 * report under the same reference, so every filing carries a random `filing`
 * id, and `kalata_reference_taken` looks at it too.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('reports').alterColumn('phone_hash', (c) => c.dropNotNull()).execute();
  await db.schema.alterTable('reports').addColumn('contact', 'text', (c) => c.notNull().defaultTo('sms')).execute();
  await db.schema.alterTable('reports').addColumn('filing', 'uuid').execute();
  await sql`alter table reports add constraint reports_contact_check check (contact in ('sms', 'no_sms', 'no_number'))`.execute(db);
  // Without a number means without one: nothing to reveal, nothing to link.
  await sql`alter table reports add constraint reports_no_number_check check (contact <> 'no_number' or (phone_hash is null and phone_enc is null and call_id is null))`.execute(db);
  await sql`
    create function kalata_reference_taken(taken_ref text, own_call uuid, own_filing uuid) returns boolean
    language plpgsql volatile as $$
    begin
      if exists (select 1 from reports where ref = taken_ref and (call_id = own_call or filing = own_filing)) then
        return false;
      end if;
      raise exception using errcode = 'KA001', message = format('reference %s is already taken', taken_ref);
    end
    $$
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists kalata_reference_taken(text, uuid, uuid)`.execute(db);
  await sql`alter table reports drop constraint if exists reports_no_number_check`.execute(db);
  await sql`alter table reports drop constraint if exists reports_contact_check`.execute(db);
  await db.schema.alterTable('reports').dropColumn('filing').execute();
  await db.schema.alterTable('reports').dropColumn('contact').execute();
}
