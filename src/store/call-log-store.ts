/**
 * Everything one USSD turn leaves in PostgreSQL, written in one statement:
 * the call row, its step rows, and the records its effects ask for (fraud
 * reports, SMS outbox rows, the caller's language). Several turns share the
 * statement (group commit, see batcher.ts). Every write is idempotent, so a
 * retried turn never duplicates a row.
 */
import { sql } from 'kysely';
import { prepared, type Db } from './database.js';

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
  /** null: filed without a number (no pseudonym either) */
  phoneHash: string | null;
  phoneEnc: string | null;
  language: string;
  fields: Record<string, string>;
  /** the fields answered with a recording (the voice line): their value is the recording's URL */
  recorded?: string[];
  /** what the caller chose to leave: `sms`, `no_sms` or `no_number` (older spooled turns lack it: `sms`) */
  contact?: string;
  /** false: the report is not tied to its call (filed without a number) */
  callLinked?: boolean;
  /** random, per filing: tells a retry of this turn from another report under the same reference */
  filing?: string;
  /** filed from the console's simulator */
  simulated?: boolean;
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

/** The start of the quarter hour `at` falls in. */
function quarterHour(at: Date): Date {
  const quarter = 15 * 60 * 1000;
  return new Date(Math.floor(at.getTime() / quarter) * quarter);
}

/** A report reference minted for this call already belongs to another report. */
export class ReferenceTakenError extends Error {
  override name = 'ReferenceTakenError';
  /** about this turn's data: a batch it spoils is retried turn by turn (see isDataError) */
  readonly dataError = true;
  constructor(readonly ref: string) {
    super(`reference ${ref} is already taken`);
  }
}

/** Writes one turn; returns the ids of the SMS it added to the outbox, to be queued once committed. */
export async function recordTurn(db: Db, turn: TurnRecord): Promise<string[]> {
  return (await recordTurns(db, [turn]))[0]!;
}

/** The last of each key, in order: one multi-row upsert may not touch a row twice. */
function lastByKey<T>(items: readonly T[], key: (item: T) => string, keep: (a: T, b: T) => T = (_a, b) => b): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) {
    const k = key(item);
    const seen = byKey.get(k);
    byKey.set(k, seen === undefined ? item : keep(seen, item));
  }
  return [...byKey.values()];
}

/**
 * Every row any number of turns write, in one statement: the calls, their
 * steps, the callers' language, the fraud reports and the SMS outbox rows
 * (with their first event). The rows travel as JSON parameters and
 * PostgreSQL unpacks them: one round trip, atomic without BEGIN/COMMIT.
 *
 * A report's reference may already belong to another call (references are
 * random). Then the statement calls kalata_reference_taken (migration 006),
 * whose error undoes the whole statement. A reference this call filed
 * already (a retried turn, or the same turn written at the same time by
 * another process) is fine: its rows are all there.
 */
async function writeTurns(db: Db, turns: readonly TurnRecord[]): Promise<{ id: string; dedupe_key: string }[]> {
  // Two turns of one call never share a batch (the session lock orders them); if they did, the furthest one wins.
  const calls = lastByKey(
    turns.map((t) => t.call),
    (c) => `${c.channel}\u0000${c.gatewaySessionId}`,
    (a, b) => (b.steps >= a.steps ? b : a),
  ).map((c) => ({
    id: c.id,
    channel: c.channel,
    gateway_session_id: c.gatewaySessionId,
    phone_hash: c.phoneHash,
    phone_masked: c.phoneMasked,
    service_code: c.serviceCode,
    network_code: c.networkCode,
    language: c.language,
    flow_hash: c.flowHash,
    started_at: c.startedAt,
    updated_at: c.updatedAt,
    ended_at: c.endedAt,
    outcome: c.outcome,
    last_node: c.lastNode,
    steps: c.steps,
  }));
  const steps = turns.flatMap((t) =>
    t.steps.map((s) => ({
      call_id: t.call.id,
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
  );
  const languages = lastByKey(
    turns.flatMap((t) => (t.language ? [{ phone_hash: t.language.phoneHash, language: t.language.language, updated_at: t.call.updatedAt }] : [])),
    (l) => l.phone_hash,
  );
  const reports = turns.flatMap((t) =>
    t.reports.map((r) => ({
      ref: r.ref,
      call_id: r.callLinked === false ? null : t.call.id,
      phone_hash: r.phoneHash,
      phone_enc: r.phoneEnc,
      language: r.language,
      fields: r.fields,
      recorded: r.recorded ?? [],
      incident: r.fields.incident ?? null,
      region: r.fields.region ?? null,
      contact: r.contact ?? 'sms',
      filing: r.filing ?? null,
      // Without a number, the time is kept to the quarter hour: not to the second of the call that filed it.
      created_at: r.callLinked === false ? quarterHour(t.call.updatedAt) : null,
      simulated: r.simulated ?? false,
    })),
  );
  const sms = turns.flatMap((t) =>
    t.sms.map((m) => ({
      dedupe_key: m.dedupeKey,
      kind: 'followup',
      ref: m.ref,
      call_id: t.call.id,
      phone_hash: m.phoneHash,
      phone_enc: m.phoneEnc,
      language: m.language,
      template: m.template,
      vars: m.vars,
    })),
  );
  // Foreign keys are checked at the end of the statement, once the calls are in.
  const query = sql<{ id: string; dedupe_key: string }>`
    with written_calls as (
      insert into calls (id, channel, gateway_session_id, phone_hash, phone_masked, service_code, network_code,
                         language, flow_hash, started_at, updated_at, ended_at, outcome, last_node, steps)
      select id, channel, gateway_session_id, phone_hash, phone_masked, service_code, network_code,
             language, flow_hash, started_at, updated_at, ended_at, outcome, last_node, steps
      from json_populate_recordset(null::calls, ${JSON.stringify(calls)})
      on conflict (channel, gateway_session_id) do update
        set language = excluded.language, updated_at = excluded.updated_at, ended_at = excluded.ended_at,
            outcome = excluded.outcome, last_node = excluded.last_node, steps = excluded.steps
        -- A late retry of an older turn never winds the call back.
        where calls.steps < excluded.steps
    ), written_steps as (
      insert into call_steps (call_id, seq, node, input, screen, screen_length, encoding, ended, latency_ms, created_at)
      select call_id, seq, node, input, screen, screen_length, encoding, ended, latency_ms, created_at
      from json_populate_recordset(null::call_steps, ${JSON.stringify(steps)})
      on conflict (call_id, seq) do nothing
    ), written_callers as (
      insert into callers (phone_hash, language, updated_at)
      select phone_hash, language, updated_at from json_populate_recordset(null::callers, ${JSON.stringify(languages)})
      on conflict (phone_hash) do update set language = excluded.language, updated_at = excluded.updated_at
    ), new_reports as (
      select * from json_to_recordset(${JSON.stringify(reports)})
        as r(ref text, call_id uuid, phone_hash text, phone_enc text, language text, fields jsonb, recorded jsonb, incident text, region text, contact text, filing uuid, created_at timestamptz, simulated boolean)
    ), written_reports as (
      insert into reports (ref, call_id, phone_hash, phone_enc, language, fields, recorded, incident, region, contact, filing, created_at, simulated)
      select ref, call_id, phone_hash, phone_enc, language, fields, coalesce(recorded, '[]'::jsonb), incident, region, contact, filing, coalesce(created_at, now()), coalesce(simulated, false) from new_reports
      on conflict (ref) do nothing
      returning ref, call_id, filing
    ), written_sms as (
      insert into sms_outbox (dedupe_key, kind, ref, call_id, phone_hash, phone_enc, language, template, vars)
      select dedupe_key, kind, ref, call_id, phone_hash, phone_enc, language, template, vars
      from json_to_recordset(${JSON.stringify(sms)})
        as s(dedupe_key text, kind text, ref text, call_id uuid, phone_hash text, phone_enc text, language text, template text, vars jsonb)
      on conflict (dedupe_key) do nothing
      returning id, dedupe_key, kind
    ), written_events as (
      insert into sms_events (message_id, status, detail) select id, 'pending', kind from written_sms
    )
    select id::text as id, dedupe_key from written_sms
    union all
    -- Not written, and not this call's in the statement's snapshot: the function looks again
    -- (a concurrent write of this same turn may just have committed it) and raises if it is
    -- another call's. CASE makes sure the function is called only then.
    select null, r.ref from new_reports r
    where case
      when not exists (select 1 from written_reports w where w.ref = r.ref and (w.call_id = r.call_id or w.filing = r.filing))
       and not exists (select 1 from reports x where x.ref = r.ref and (x.call_id = r.call_id or x.filing = r.filing))
      then kalata_reference_taken(r.ref, r.call_id, r.filing)
      else false
    end
  `;
  const { rows } = await db.executeQuery(prepared(query.compile(db)));
  return rows;
}

/**
 * Writes several turns at once (group commit, see batcher.ts), in one
 * statement. Returns, per turn, the ids of the SMS it added to the outbox (a
 * retried turn adds none: its messages are there already). A report
 * reference already taken fails the whole batch with ReferenceTakenError (a
 * data error: the batcher then writes the turns one by one).
 */
export async function recordTurns(db: Db, turns: readonly TurnRecord[]): Promise<string[][]> {
  if (!turns.length) return [];
  let written: { id: string; dedupe_key: string }[];
  try {
    written = await writeTurns(db, turns);
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    const taken = e.code === 'KA001' ? /reference (\S+) is already taken/.exec(String(e.message)) : null;
    if (taken) throw new ReferenceTakenError(taken[1]!);
    throw err;
  }
  const turnOf = new Map(turns.flatMap((t, i) => t.sms.map((m) => [m.dedupeKey, i] as const)));
  const smsIds: string[][] = turns.map(() => []);
  for (const row of written) smsIds[turnOf.get(row.dedupe_key)!]!.push(row.id);
  return smsIds;
}

/** The language a caller chose on an earlier call, if any. */
export async function rememberedLanguage(db: Db, phoneHash: string): Promise<string | undefined> {
  const row = await db.selectFrom('callers').select('language').where('phone_hash', '=', phoneHash).executeTakeFirst();
  return row?.language;
}

export interface CallStartKey {
  phoneHash: string;
  channel: string;
  gatewaySessionId: string;
}

export interface CallStartFacts {
  /** the language the caller chose on an earlier call */
  remembered: string | undefined;
  /** this gateway session id was already recorded (then its Redis session was lost) */
  alreadySeen: boolean;
}

/**
 * What new calls need to know, for any number of them in one round trip: the
 * caller's remembered language, and whether this gateway session id was
 * already recorded (its Redis session was then lost, and it must not start
 * again from a split text).
 */
export async function callStartFacts(db: Db, keys: readonly CallStartKey[]): Promise<CallStartFacts[]> {
  const json = JSON.stringify(keys.map((k, i) => ({ i, phone_hash: k.phoneHash, channel: k.channel, session: k.gatewaySessionId })));
  const query = sql<{ i: number; remembered: string | null; seen: boolean }>`
    select k.i,
           (select language from callers where phone_hash = k.phone_hash) as remembered,
           exists (select 1 from calls where channel = k.channel and gateway_session_id = k.session) as seen
    from json_to_recordset(${json}) as k(i int, phone_hash text, channel text, session text)
  `;
  const { rows } = await db.executeQuery(prepared(query.compile(db)));
  const facts: CallStartFacts[] = keys.map(() => ({ remembered: undefined, alreadySeen: false }));
  for (const r of rows) facts[r.i] = { remembered: r.remembered ?? undefined, alreadySeen: r.seen };
  return facts;
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
