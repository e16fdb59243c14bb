/**
 * `kalata_reference_taken(ref, call_id)`: a group of USSD turns is written in
 * one statement (call-log-store.ts), which calls this for a report whose
 * reference it could not insert and did not see as this call's own. The
 * statement's snapshot is from its start, so the function looks again, with a
 * fresh one: a concurrent write of the same turn (two processes draining the
 * spool, a retried request) may have just committed the report for this very
 * call, which is fine (false). Otherwise the reference belongs to another
 * call, and it raises SQLSTATE KA001, which undoes the whole statement:
 * nothing of the group is written, and the turns can be tried again one by
 * one.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function kalata_reference_taken(taken_ref text, own_call uuid) returns boolean
    language plpgsql volatile as $$
    begin
      if exists (select 1 from reports where ref = taken_ref and call_id = own_call) then
        return false;
      end if;
      raise exception using errcode = 'KA001', message = format('reference %s is already taken', taken_ref);
    end
    $$
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists kalata_reference_taken(text, uuid)`.execute(db);
}
