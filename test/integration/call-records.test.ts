/**
 * Call records written in groups (group commit), on PostgreSQL and on the
 * embedded PGlite: many turns in one statement (reports and SMS included),
 * idempotent retries, a report whose reference is taken failing alone and
 * writing nothing, and the call-start facts of many calls in one query.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createBatcher } from '../../src/store/batcher.js';
import { callStartFacts, recordTurns, ReferenceTakenError, type TurnRecord } from '../../src/store/call-log-store.js';
import { createDatabase, isDataError, migrateToLatest, type Db } from '../../src/store/database.js';
import { freshDatabase } from '../support/databases.js';
import { waitFor } from '../support/wait.js';
import { sql } from 'kysely';

function turn(session: string, seq: number, opts: { callId?: string; ended?: boolean; lang?: string; report?: string; phoneHash?: string } = {}): TurnRecord {
  const at = new Date(Date.UTC(2026, 10, 24, 8, 0, seq));
  const callId = opts.callId ?? randomUUID();
  const phoneHash = opts.phoneHash ?? `hash-${session}`;
  return {
    call: {
      id: callId,
      channel: 'africastalking',
      gatewaySessionId: session,
      phoneHash,
      phoneMasked: '+223 76 •• •• 00',
      serviceCode: '*384*123#',
      networkCode: seq % 2 ? '61001' : null,
      language: opts.lang ?? 'fr',
      flowHash: 'abc',
      startedAt: new Date(Date.UTC(2026, 10, 24, 8, 0, 0)),
      updatedAt: at,
      endedAt: opts.ended ? at : null,
      outcome: opts.ended ? 'completed' : null,
      lastNode: `node${seq}`,
      steps: seq,
    },
    steps: [{ seq, node: `node${seq}`, input: seq === 1 ? null : "l'école * 2", screen: 'CON Écran\n1. Oui', screenLength: 16, encoding: 'GSM-7', ended: !!opts.ended, latencyMs: 1.5, at }],
    reports: opts.report ? [{ ref: opts.report, phoneHash, phoneEnc: 'sealed', language: 'fr', fields: { incident: 'vote_buying', region: 'bamako', place: 'Kati' } }] : [],
    sms: opts.report ? [{ dedupeKey: `${opts.report}:ack`, ref: opts.report, phoneHash, phoneEnc: 'sealed', language: 'fr', template: 'report:sms.report_ack', vars: { ref: opts.report } }] : [],
    ...(opts.lang ? { language: { phoneHash, language: opts.lang } } : {}),
  };
}

describe.each([
  ['PostgreSQL', async () => createDatabase({ url: await freshDatabase('call records') })],
  ['PGlite', async () => createDatabase({})],
])('call records on %s', (_name, open) => {
  let db: Db;
  beforeAll(async () => {
    db = await open();
    await migrateToLatest(db);
  }, 60_000);
  afterAll(() => db.destroy());

  it('writes the turns of many calls in one statement, nulls and text intact', async () => {
    const turns = Array.from({ length: 40 }, (_, i) => turn(`many-${i}`, 1 + (i % 3), { lang: i % 4 === 0 ? 'bm' : undefined }));
    await expect(recordTurns(db, turns)).resolves.toEqual(turns.map(() => []));
    const calls = await db.selectFrom('calls').selectAll().where('gateway_session_id', 'like', 'many-%').orderBy('gateway_session_id').execute();
    expect(calls).toHaveLength(40);
    const first = calls.find((c) => c.gateway_session_id === 'many-1')!;
    expect(first).toMatchObject({ network_code: null, ended_at: null, outcome: null, steps: 2, last_node: 'node2' });
    expect(first.updated_at.toISOString()).toBe('2026-11-24T08:00:02.000Z');
    const steps = await db.selectFrom('call_steps').selectAll().where('call_id', '=', first.id).execute();
    expect(steps).toEqual([expect.objectContaining({ seq: 2, input: "l'école * 2", screen: 'CON Écran\n1. Oui', ended: false, latency_ms: 1.5 })]);
    const languages = await db.selectFrom('callers').selectAll().where('phone_hash', 'like', 'hash-many-%').execute();
    expect(languages).toHaveLength(10);
    expect(languages.every((l) => l.language === 'bm')).toBe(true);
  });

  it('moves a call forward, never back, and never doubles a step', async () => {
    const callId = randomUUID();
    await recordTurns(db, [turn('fwd', 1, { callId })]);
    await recordTurns(db, [turn('fwd', 3, { callId, ended: true })]);
    // A late retry of turn 2, and a retry of turn 3:
    await recordTurns(db, [turn('fwd', 2, { callId }), turn('other-fwd', 1)]);
    await recordTurns(db, [turn('fwd', 3, { callId, ended: true })]);
    const call = await db.selectFrom('calls').selectAll().where('gateway_session_id', '=', 'fwd').executeTakeFirstOrThrow();
    expect(call).toMatchObject({ id: callId, steps: 3, outcome: 'completed', last_node: 'node3' });
    const steps = await db.selectFrom('call_steps').select('seq').where('call_id', '=', callId).orderBy('seq').execute();
    expect(steps.map((s) => s.seq)).toEqual([1, 2, 3]);
  });

  it('fails only the turn whose report reference is taken; its batch neighbours are recorded', async () => {
    await recordTurns(db, [turn('ref-owner', 1, { report: 'KA-TAKEN01' })]);
    const write = createBatcher((turns: TurnRecord[]) => recordTurns(db, turns), { isolate: isDataError });
    const results = await Promise.allSettled([
      write(turn('ref-a', 1)),
      write(turn('ref-b', 1, { report: 'KA-TAKEN01' })),
      write(turn('ref-c', 1, { report: 'KA-FRESH01' })),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(ReferenceTakenError);
    expect((results[2] as PromiseFulfilledResult<string[]>).value).toHaveLength(1); // the SMS it queued
    const sessions = await db.selectFrom('calls').select('gateway_session_id').where('gateway_session_id', 'like', 'ref-%').orderBy('gateway_session_id').execute();
    expect(sessions.map((s) => s.gateway_session_id)).toEqual(['ref-a', 'ref-c', 'ref-owner']);
    const fresh = await db.selectFrom('reports').select('ref').where('ref', '=', 'KA-FRESH01').execute();
    expect(fresh).toHaveLength(1);
  });

  it('writes reports and SMS of several turns in the one statement: each turn gets its own SMS ids; a retry adds nothing and raises nothing', async () => {
    const batch = [turn('many-rep-a', 1, { report: 'KA-MANY001' }), turn('many-rep-b', 1), turn('many-rep-c', 1, { report: 'KA-MANY002' })];
    const ids = await recordTurns(db, batch);
    expect(ids.map((x) => x.length)).toEqual([1, 0, 1]);
    const outbox = await db.selectFrom('sms_outbox').select(['id', 'ref', 'call_id', 'status', 'kind']).where('ref', 'in', ['KA-MANY001', 'KA-MANY002']).orderBy('ref').execute();
    expect(outbox.map((m) => [String(m.id), m.ref, m.call_id, m.status, m.kind])).toEqual([
      [ids[0]![0], 'KA-MANY001', batch[0]!.call.id, 'pending', 'followup'],
      [ids[2]![0], 'KA-MANY002', batch[2]!.call.id, 'pending', 'followup'],
    ]);
    const events = await db.selectFrom('sms_events').select(['message_id', 'status']).where('message_id', 'in', outbox.map((m) => m.id)).execute();
    expect(events.map((e) => e.status)).toEqual(['pending', 'pending']);
    const report = await db.selectFrom('reports').selectAll().where('ref', '=', 'KA-MANY001').executeTakeFirstOrThrow();
    expect(report).toMatchObject({ call_id: batch[0]!.call.id, incident: 'vote_buying', region: 'bamako', phone_enc: 'sealed', status: 'new' });
    expect(report.fields).toEqual({ incident: 'vote_buying', region: 'bamako', place: 'Kati' });

    // The same turns again (a retried write): nothing new, no reference "taken" by its own call.
    await expect(recordTurns(db, batch)).resolves.toEqual([[], [], []]);
    const count = await db.selectFrom('sms_outbox').select(db.fn.countAll().as('n')).where('ref', 'in', ['KA-MANY001', 'KA-MANY002']).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(2);
  });

  it('writes nothing of a batch in which a reference belongs to another call, and names the reference', async () => {
    await recordTurns(db, [turn('atomic-owner', 1, { report: 'KA-ATOMIC1' })]);
    const err = await recordTurns(db, [turn('atomic-a', 1, { lang: 'bm', phoneHash: 'hash-atomic' }), turn('atomic-b', 1, { report: 'KA-ATOMIC1' })]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReferenceTakenError);
    expect((err as ReferenceTakenError).ref).toBe('KA-ATOMIC1');
    const calls = await db.selectFrom('calls').select('gateway_session_id').where('gateway_session_id', 'in', ['atomic-a', 'atomic-b']).execute();
    expect(calls).toEqual([]);
    expect(await db.selectFrom('callers').selectAll().where('phone_hash', '=', 'hash-atomic').execute()).toEqual([]);
    const owner = await db.selectFrom('sms_outbox').select('call_id').where('ref', '=', 'KA-ATOMIC1').execute();
    expect(owner).toHaveLength(1);
  });

  it('answers the call-start facts of many calls in one query', async () => {
    await recordTurns(db, [turn('facts-seen', 1, { lang: 'bm', phoneHash: 'hash-facts-1' })]);
    const facts = await callStartFacts(db, [
      { phoneHash: 'hash-facts-1', channel: 'africastalking', gatewaySessionId: 'facts-new' },
      { phoneHash: 'hash-nobody', channel: 'africastalking', gatewaySessionId: 'facts-seen' },
      { phoneHash: 'hash-nobody', channel: 'hubtel', gatewaySessionId: 'facts-seen' },
    ]);
    expect(facts).toEqual([
      { remembered: 'bm', alreadySeen: false },
      { remembered: undefined, alreadySeen: true },
      { remembered: undefined, alreadySeen: false },
    ]);
  });
});

/**
 * Resolves once a statement on this test's database waits on a lock another
 * transaction holds: the second write has provably started before the first
 * commits (a fixed sleep could let it start after, and the test would pass
 * without any race).
 */
async function untilBlocked(db: Db): Promise<void> {
  await waitFor(
    'the second write to wait on the first',
    async () => Number((await sql<{ n: string }>`select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(db)).rows[0]!.n),
    (n) => n > 0,
  );
}

describe('call records written by two connections at once (PostgreSQL)', () => {
  let db: Db;
  beforeAll(async () => {
    db = await createDatabase({ url: await freshDatabase('call records race') });
    await migrateToLatest(db);
  }, 60_000);
  afterAll(() => db.destroy());

  it('the same turn written twice at once (two processes draining the spool) is no taken reference: the second adds nothing', async () => {
    const same = turn('race-same', 1, { report: 'KA-RACE001' });
    let second: Promise<unknown> | undefined;
    await db.transaction().execute(async (trx) => {
      // The first write holds its report row uncommitted; the second waits on it, then must see it is its own call's.
      await recordTurns(trx as unknown as Db, [same]);
      second = recordTurns(db, [same]).catch((err: unknown) => err);
      await untilBlocked(db);
    });
    await expect(second).resolves.toEqual([[]]);
    const rows = await db.selectFrom('sms_outbox').select('id').where('ref', '=', 'KA-RACE001').execute();
    expect(rows).toHaveLength(1);
  });

  it('a reference another call is filing at the same moment is taken: the statement waits for it, then raises', async () => {
    let second: Promise<unknown> | undefined;
    await db.transaction().execute(async (trx) => {
      await recordTurns(trx as unknown as Db, [turn('race-first', 1, { report: 'KA-RACE002' })]);
      second = recordTurns(db, [turn('race-other', 1, { report: 'KA-RACE002' })]).catch((err: unknown) => err);
      await untilBlocked(db);
    });
    const err = await second;
    expect(err).toBeInstanceOf(ReferenceTakenError);
    expect(await db.selectFrom('calls').select('id').where('gateway_session_id', '=', 'race-other').execute()).toEqual([]);
  });
});
