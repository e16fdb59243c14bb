/**
 * `kalata_reference_taken(ref)`: raises SQLSTATE KA001. A group of USSD
 * turns is written in one statement (call-log-store.ts); when a report's
 * reference already belongs to another call, the statement calls this, and
 * the error undoes the whole statement, so nothing of the group is written
 * and the turns can be tried again one by one.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function kalata_reference_taken(ref text) returns boolean language plpgsql as $$
    begin
      raise exception using errcode = 'KA001', message = format('reference %s is already taken', ref);
    end
    $$
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists kalata_reference_taken(text)`.execute(db);
}
