/**
 * Everything one USSD turn leaves in PostgreSQL, written in one transaction:
 * the call row, its step rows, and the records its effects ask for (fraud
 * reports, SMS outbox rows, the caller's language). Every write is
 * idempotent, so a retried turn never duplicates a row.
 */
import { sql } from 'kysely';
import type { Db } from './database.js';
import { insertSms } from './sms-store.js';

export interface CallRow {
  id: string;
  channel: string;
  gatewaySessionId: string;
  phoneHash: string;
  /** `+223 76 •• •• 56`, what operators see */
  phoneMasked: string;
  serviceCode: string;
  networkCode: string | null;
  language: string;
  flowHash: string;
  startedAt: Date;
  updatedAt: Date;
  endedAt: Date | null;
  outcome: string | null;
  lastNode: string;
  steps: number;
}

export interface StepRow {
  seq: number;
  node: string;
  input: string | null;
  screen: string;
  screenLength: number;
  encoding: string;
  ended: boolean;
  latencyMs: number;
  at: Date;
}

export interface ReportRow {
  ref: string;
  phoneHash: string;
  phoneEnc: string | null;
  language: string;
  fields: Record<string, string>;
}

export interface OutboxRow {
  dedupeKey: string;
  ref: string | null;
  phoneHash: string;
  phoneEnc: string;
  language: string;
  template: string;
  vars: Record<string, string>;
}

export interface TurnRecord {
  call: CallRow;
  steps: StepRow[];
  reports: ReportRow[];
  sms: OutboxRow[];
  language?: { phoneHash: string; language: string };
}

/** A report reference minted for this call already belongs to another report. */
export class ReferenceTakenError extends Error {
  override name = 'ReferenceTakenError';
  constructor(readonly ref: string) {
    super(`reference ${ref} is already taken`);
  }
}

/** Writes the turn; returns the ids of the SMS it added to the outbox, to be queued once committed. */
export async function recordTurn(db: Db, turn: TurnRecord): Promise<string[]> {
  const { call } = turn;
  const smsIds: string[] = [];
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('calls')
      .values({
        id: call.id,
        channel: call.channel,
        gateway_session_id: call.gatewaySessionId,
        phone_hash: call.phoneHash,
        phone_masked: call.phoneMasked,
        service_code: call.serviceCode,
        network_code: call.networkCode,
        language: call.language,
        flow_hash: call.flowHash,
        started_at: call.startedAt,
        updated_at: call.updatedAt,
        ended_at: call.endedAt,
        outcome: call.outcome,
        last_node: call.lastNode,
        steps: call.steps,
      })
      .onConflict((oc) =>
        oc
          .columns(['channel', 'gateway_session_id'])
          .doUpdateSet({
            language: call.language,
            updated_at: call.updatedAt,
            ended_at: call.endedAt,
            outcome: call.outcome,
            last_node: call.lastNode,
            steps: call.steps,
          })
          // A late retry of an older turn never winds the call back.
          .where('calls.steps', '<', call.steps),
      )
      .execute();
    if (turn.steps.length) {
      await trx
        .insertInto('call_steps')
        .values(
          turn.steps.map((s) => ({
            call_id: call.id,
            seq: s.seq,
            node: s.node,
            input: s.input,
            screen: s.screen,
            screen_length: s.screenLength,
            encoding: s.encoding,
            ended: s.ended,
            latency_ms: s.latencyMs,
            created_at: s.at,
          })),
        )
        .onConflict((oc) => oc.columns(['call_id', 'seq']).doNothing())
        .execute();
    }
    for (const r of turn.reports) {
      const inserted = await trx
        .insertInto('reports')
        .values({
          ref: r.ref,
          call_id: call.id,
          phone_hash: r.phoneHash,
          phone_enc: r.phoneEnc,
          language: r.language,
          fields: JSON.stringify(r.fields),
          incident: r.fields.incident ?? null,
          region: r.fields.region ?? null,
        })
        .onConflict((oc) => oc.column('ref').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) {
        const existing = await trx.selectFrom('reports').select('call_id').where('ref', '=', r.ref).executeTakeFirst();
        // The same call retrying its turn is fine; another call's report under this reference is not.
        if (existing?.call_id !== call.id) throw new ReferenceTakenError(r.ref);
      }
    }
    for (const m of turn.sms) {
      const id = await insertSms(trx, {
        dedupeKey: m.dedupeKey,
        kind: 'followup',
        ref: m.ref,
        callId: call.id,
        phoneHash: m.phoneHash,
        phoneEnc: m.phoneEnc,
        language: m.language,
        template: m.template,
        vars: m.vars,
      });
      if (id) smsIds.push(id);
    }
    if (turn.language) {
      await trx
        .insertInto('callers')
        .values({ phone_hash: turn.language.phoneHash, language: turn.language.language, updated_at: call.updatedAt })
        .onConflict((oc) => oc.column('phone_hash').doUpdateSet({ language: turn.language!.language, updated_at: call.updatedAt }))
        .execute();
    }
  });
  return smsIds;
}

/** The language a caller chose on an earlier call, if any. */
export async function rememberedLanguage(db: Db, phoneHash: string): Promise<string | undefined> {
  const row = await db.selectFrom('callers').select('language').where('phone_hash', '=', phoneHash).executeTakeFirst();
  return row?.language;
}

/**
 * What a new call needs to know, in one round trip: the caller's remembered
 * language, and whether this gateway session id was already recorded (then
 * its Redis session was lost, and it must not start again from a split text).
 */
export async function callStartFacts(db: Db, phoneHash: string, channel: string, gatewaySessionId: string) {
  const row = await db
    .selectNoFrom((eb) => [
      eb.selectFrom('callers').select('language').where('phone_hash', '=', phoneHash).as('remembered'),
      eb.selectFrom('calls').select('language').where('channel', '=', channel).where('gateway_session_id', '=', gatewaySessionId).as('seen'),
    ])
    .executeTakeFirst();
  return { remembered: row?.remembered ?? undefined, alreadySeen: row?.seen != null };
}

/**
 * Closes a call with what the gateway reports at its end. Idempotent: a
 * repeated notification writes the same values. A call the engine did not
 * finish is marked abandoned. Returns false for a session never recorded.
 */
export async function recordCallEnd(
  db: Db,
  end: { channel: string; gatewaySessionId: string; status: string; durationMs: number | null; hops: number | null; cost: string | null; error: string | null },
): Promise<boolean> {
  const rows = await db
    .updateTable('calls')
    .set((eb) => ({
      telco_status: end.status,
      telco_duration_ms: end.durationMs,
      telco_hops: end.hops,
      telco_cost: end.cost,
      telco_error: end.error,
      outcome: eb.fn.coalesce('outcome', eb.val('abandoned')),
      ended_at: eb.fn.coalesce('ended_at', eb.val(new Date())),
    }))
    .where('channel', '=', end.channel)
    .where('gateway_session_id', '=', end.gatewaySessionId)
    .returning('id')
    .execute();
  return rows.length > 0;
}
