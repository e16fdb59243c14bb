/**
 * The Africa's Talking webhook end to end on a real redis-server and a real
 * PostgreSQL: conversations, records, privacy, replays and bad requests.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { decryptText } from '../../src/privacy/phone.js';
import { REFERENCE_PATTERN } from '../../src/runtime/reference.js';
import { converse, startHarness, type Harness } from '../support/harness.js';

let h: Harness;
let n = 0;
const sessionId = () => `ATUid_test_${++n}_${Date.now()}`;

beforeAll(async () => {
  h = await startHarness('ussd webhook');
});
afterAll(async () => {
  await h.close();
});

/** Every text column of every table, as JSON, to search for leaks. */
async function dumpDatabase(): Promise<string> {
  const tables = ['calls', 'call_steps', 'reports', 'callers', 'sms_outbox'];
  const parts: string[] = [];
  for (const t of tables) {
    const rows = await sql<{ j: unknown }>`select row_to_json(x) as j from ${sql.table(t)} x`.execute(h.ctx.db);
    parts.push(JSON.stringify(rows.rows));
  }
  return parts.join('\n');
}

describe('a French caller files a fraud report', () => {
  const phone = '+22376000001';
  let replies: string[];
  let id: string;
  beforeAll(async () => {
    id = sessionId();
    replies = await converse(h, { sessionId: id, phoneNumber: phone }, [
      '1', // Français
      '2', // Signaler une fraude
      '1', // Faire un signalement
      '1', // Oui, SMS discret
      '1', // Achat de votes
      '5', // Ségou
      'Quartier Médine*bureau 4', // a star typed inside free text
      "On distribue de l'argent devant le bureau",
      '1', // Envoyer
    ]);
  });

  it('sees the language menu, then every screen in French, and ends with a reference', () => {
    expect(replies[0]).toMatch(/^CON Kalata\. Langue \/ Kan:\n1\. Français\n2\. Bamanankan$/);
    expect(replies[1]).toMatch(/^CON Kalata: infos sur le vote\n1\. Comment voter/);
    expect(replies[4]).toMatch(/^CON Type d'incident/);
    expect(replies[7]).toMatch(/^CON Décrivez/);
    expect(replies[8]).toMatch(/^CON Envoyer ce signalement\? Achat de votes, Ségou\./);
    const end = replies[9]!;
    expect(end).toMatch(/^END Merci\. Votre référence: KA-[0-9A-Z]{7}\./);
  });

  it('records the report with the star inside the place, and an SMS in the outbox', async () => {
    const ref = /KA-[0-9A-Z]{7}/.exec(replies[9]!)![0];
    expect(ref).toMatch(REFERENCE_PATTERN);
    const report = await h.ctx.db.selectFrom('reports').selectAll().where('ref', '=', ref).executeTakeFirstOrThrow();
    expect(report.fields).toEqual({
      incident: 'vote_buying',
      region: 'segou',
      place: 'Quartier Médine*bureau 4',
      description: "On distribue de l'argent devant le bureau",
    });
    expect(report.language).toBe('fr');
    expect(decryptText(h.ctx.secrets.dataEncryptionKey, report.phone_enc!)).toBe(phone);
    const sms = await h.ctx.db.selectFrom('sms_outbox').selectAll().where('ref', '=', ref).execute();
    expect(sms).toHaveLength(1);
    expect(sms[0]!.template).toBe('report:sms.report_ack');
    expect(sms[0]!.vars).toEqual({ ref });
  });

  it('records the call and each of its steps', async () => {
    const call = await h.ctx.db.selectFrom('calls').selectAll().where('gateway_session_id', '=', id).executeTakeFirstOrThrow();
    expect(call).toMatchObject({ channel: 'africastalking', language: 'fr', outcome: 'completed', steps: 10, service_code: '*384*123#', network_code: '99999', last_node: 'report.submitted' });
    expect(call.ended_at).not.toBeNull();
    expect(call.flow_hash).toBe(h.ctx.flows.live().hash);
    const steps = await h.ctx.db.selectFrom('call_steps').selectAll().where('call_id', '=', call.id).orderBy('seq').execute();
    expect(steps.map((s) => s.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(steps.map((s) => s.node)).toEqual([
      'main.language',
      'main.home',
      'report.intro',
      'report.contact',
      'report.incident',
      'report.region',
      'report.place',
      'report.description',
      'report.confirm',
      'report.submitted',
    ]);
    expect(steps[6]!.input).toBe('5');
    expect(steps[7]!.input).toBe('Quartier Médine*bureau 4');
    for (const s of steps) {
      expect(s.screen_length).toBeGreaterThan(0);
      expect(s.screen_length).toBeLessThanOrEqual(s.encoding === 'GSM-7' ? 182 : 80);
      expect(s.latency_ms).toBeGreaterThanOrEqual(0);
    }
    expect(steps[9]!.ended).toBe(true);
  });

  it('keeps no raw phone number in the database or the logs', async () => {
    const dump = await dumpDatabase();
    expect(dump).not.toContain('76000001');
    expect(h.logs.join('')).not.toMatch(/76000001/);
  });

  it('remembers the language: the next call skips the language menu', async () => {
    const [first] = await converse(h, { sessionId: sessionId(), phoneNumber: phone }, []);
    expect(first).toMatch(/^CON Kalata: infos sur le vote/);
  });
});

describe('a Bambara caller reaches the voting answers', () => {
  it('reads who may vote in Bambara, page by page', async () => {
    const replies = await converse(h, { sessionId: sessionId(), phoneNumber: '+22366000002' }, ['2', '1', '4', '98']);
    expect(replies[1]).toMatch(/^CON Kalata\n1\. Wote cogo/);
    expect(replies[2]).toMatch(/^CON Wote cogo\n1\. Tɔgɔsɛbɛn\n(.+\n){4}6\. Jaabiw$/);
    expect(replies[3]).toMatch(/^CON Malidenw minnu san bɛ 18 bɔ/);
    expect(replies[3]).toMatch(/98\. Nɔfɛta$/);
    expect(replies[4]).toMatch(/^CON tɔgɔ bɛ tɔgɔsɛbɛn kan/);
    for (const r of replies) expect(r.length - 4).toBeLessThanOrEqual(80);
  });
});

describe('gateway behaviour', () => {
  it('answers an identical replay with the stored reply and records nothing twice', async () => {
    const call = { sessionId: sessionId(), phoneNumber: '+22376000003', serviceCode: '*384*123#' };
    const texts = ['', '1', '1*2', '1*2*1', '1*2*1*1', '1*2*1*1*2', '1*2*1*1*2*1', '1*2*1*1*2*1*Kati', '1*2*1*1*2*1*Kati*Urne bourrée avant', '1*2*1*1*2*1*Kati*Urne bourrée avant*1'];
    let last = '';
    for (const text of texts) last = (await h.at({ ...call, text })).body;
    expect(last).toMatch(/^END Merci/);
    const again = await h.at({ ...call, text: texts[texts.length - 1] });
    expect(again).toEqual({ status: 200, body: last });
    const middle = await h.at({ ...call, text: '1*2' });
    expect(middle.status).toBe(200);
    expect(middle.body).toMatch(/^END /); // the call is over: it stays over
    const row = await h.ctx.db.selectFrom('calls').select(['id', 'steps']).where('gateway_session_id', '=', call.sessionId).executeTakeFirstOrThrow();
    expect(row.steps).toBe(10);
    const steps = await h.ctx.db.selectFrom('call_steps').select((eb) => eb.fn.countAll<string>().as('n')).where('call_id', '=', row.id).executeTakeFirstOrThrow();
    expect(Number(steps.n)).toBe(10);
    const reports = await h.ctx.db.selectFrom('reports').select('ref').where('call_id', '=', row.id).execute();
    expect(reports).toHaveLength(1);
  });

  it('replays a mid-call request without stepping twice', async () => {
    const call = { sessionId: sessionId(), phoneNumber: '+22376000004', serviceCode: '*384*123#' };
    await h.at({ ...call, text: '' });
    const first = await h.at({ ...call, text: '1' });
    const replay = await h.at({ ...call, text: '1' });
    expect(replay.body).toBe(first.body);
    const next = await h.at({ ...call, text: '1*1' });
    expect(next.body).toMatch(/^CON Comment voter/);
  });

  it('answers a text that does not extend the previous one with a clean END', async () => {
    const call = { sessionId: sessionId(), phoneNumber: '+22376000005', serviceCode: '*384*123#' };
    await h.at({ ...call, text: '' });
    await h.at({ ...call, text: '1' });
    const res = await h.at({ ...call, text: '2*2' });
    expect(res.status).toBe(200);
    expect(res.body).toBe('END Cet appel est terminé. Recomposez le code pour recommencer. Merci.');
  });

  it('serializes two different steps of one call sent at once', async () => {
    const call = { sessionId: sessionId(), phoneNumber: '+22376000012', serviceCode: '*384*123#' };
    await h.at({ ...call, text: '' });
    const [a, b] = await Promise.all([h.at({ ...call, text: '1' }), h.at({ ...call, text: '2' })]);
    // One of them is the next step; the other does not follow it and is told the call is over.
    const bodies = [a.body, b.body].sort();
    expect(bodies.filter((x) => x.startsWith('CON ')).length).toBe(1);
    const row = await h.ctx.db.selectFrom('calls').select(['id', 'steps', 'language']).where('gateway_session_id', '=', call.sessionId).executeTakeFirstOrThrow();
    expect(row.steps).toBe(2);
    const steps = await h.ctx.db.selectFrom('call_steps').select('input').where('call_id', '=', row.id).orderBy('seq').execute();
    expect(steps).toHaveLength(2);
    const stored = await h.ctx.redis.keys('*ussd:africastalking:' + call.sessionId);
    expect(stored).toHaveLength(1);
  });

  it('answers concurrent replays of the first request with one call and one reply', async () => {
    const call = { sessionId: sessionId(), phoneNumber: '+22376000013', serviceCode: '*384*123#', text: '' };
    const replies = await Promise.all(Array.from({ length: 5 }, () => h.at(call)));
    for (const r of replies) expect(r).toEqual({ status: 200, body: replies[0]!.body });
    expect(replies[0]!.body).toMatch(/^CON /);
    const rows = await h.ctx.db.selectFrom('calls').select('steps').where('gateway_session_id', '=', call.sessionId).execute();
    expect(rows).toEqual([{ steps: 1 }]);
  });

  it('ends cleanly a call whose session was lost, instead of replaying a split text', async () => {
    const call = { sessionId: sessionId(), phoneNumber: '+22376000014', serviceCode: '*384*123#' };
    await converse(h, call, ['1', '2', '1', '1', '1', '1']);
    const keys = await h.ctx.redis.keys(`*ussd:africastalking:${call.sessionId}`);
    await h.ctx.redis.del(...keys);
    const res = await h.at({ ...call, text: '1*2*1*1*1*1*Kati*Sebenikoro' });
    expect(res).toEqual({ status: 200, body: 'END Cet appel est terminé. Recomposez le code pour recommencer. Merci.' });
    const again = await h.at({ ...call, text: '' });
    expect(again.body).toMatch(/^END Cet appel est terminé/);
  });

  it('follows inputs typed in the dial string (*384*123*1*1#)', async () => {
    const res = await h.at({ sessionId: sessionId(), phoneNumber: '+22376000006', serviceCode: '*384*123#', text: '1*1' });
    expect(res.body).toMatch(/^CON Comment voter\n1\. Inscription/);
  });

  it('refuses the same session id from another number', async () => {
    const id = sessionId();
    await h.at({ sessionId: id, phoneNumber: '+22376000007', serviceCode: '*384*123#', text: '' });
    const res = await h.at({ sessionId: id, phoneNumber: '+22376000008', serviceCode: '*384*123#', text: '1' });
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/^END /);
  });

  it('strips NUL, control and zero-width characters from free text before storing it', async () => {
    const call = { sessionId: sessionId(), phoneNumber: '+22376000009', serviceCode: '*384*123#' };
    const replies = await converse(h, call, ['1', '2', '1', '1', '5', '1', 'Ba\u0000ma\u200Bko\r\nrive', 'Des menaces\u202E contre nous', '1']);
    expect(replies[9]).toMatch(/^END Merci/);
    const ref = /KA-[0-9A-Z]{7}/.exec(replies[9]!)![0];
    const report = await h.ctx.db.selectFrom('reports').select('fields').where('ref', '=', ref).executeTakeFirstOrThrow();
    expect(report.fields.place).toBe('Bamako rive');
    expect(report.fields.description).toBe('Des menaces contre nous');
  });

  it('accepts the phone number forms gateways send', async () => {
    for (const phoneNumber of ['76123456', '0022376123456', '22376123456', ' 22376123456', '+33612345678']) {
      const res = await h.at({ sessionId: sessionId(), phoneNumber, serviceCode: '*384*123#', text: '' });
      expect([phoneNumber, res.status]).toEqual([phoneNumber, 200]);
      expect(res.body).toMatch(/^CON /);
    }
  });

  it('serves 200 concurrent callers correctly', async () => {
    const callers = Array.from({ length: 200 }, (_, i) => ({
      sessionId: `ATUid_load_${i}_${Date.now()}`,
      phoneNumber: `+2237${String(1000000 + i).padStart(7, '0')}`,
    }));
    const results = await Promise.all(callers.map((c) => converse(h, c, ['1', '1', '3'])));
    for (const replies of results) {
      expect(replies[1]).toMatch(/^CON Kalata: infos sur le vote/);
      expect(replies[2]).toMatch(/^CON Comment voter/);
      expect(replies[3]).toMatch(/^CON Les bureaux sont ouverts de 8h à 18h/);
    }
    const ids = callers.map((c) => c.sessionId);
    const rows = await h.ctx.db.selectFrom('calls').select(['steps']).where('gateway_session_id', 'in', ids).execute();
    expect(rows).toHaveLength(200);
    expect(rows.every((r) => r.steps === 4)).toBe(true);
  });
});

describe('malformed requests get a 4xx with a plain reason', () => {
  const ok = { sessionId: 'ATUid_bad', phoneNumber: '+22376000010', serviceCode: '*384*123#', text: '' };
  const post = (body: string, contentType = 'application/x-www-form-urlencoded') =>
    fetch(`${h.base}/ussd/africastalking`, { method: 'POST', headers: { 'content-type': contentType }, body }).then(async (r) => ({ status: r.status, body: await r.text() }));

  it.each([
    ['missing sessionId', { ...ok, sessionId: undefined }, 400, 'sessionId is missing'],
    ['empty sessionId', { ...ok, sessionId: '' }, 400, 'sessionId is missing'],
    ['sessionId with a space', { ...ok, sessionId: 'a b' }, 400, 'sessionId must be printable ASCII without spaces'],
    ['sessionId over 128 characters', { ...ok, sessionId: 'x'.repeat(300) }, 400, 'sessionId is longer than 128 characters'],
    ['missing phoneNumber', { ...ok, phoneNumber: undefined }, 400, 'phoneNumber is missing'],
    ['not a phone number', { ...ok, phoneNumber: 'hello' }, 400, 'phoneNumber is not a phone number'],
    ['a 7-digit number', { ...ok, phoneNumber: '7612345' }, 400, 'phoneNumber is not a phone number'],
    ['missing serviceCode', { ...ok, serviceCode: undefined }, 400, 'serviceCode is missing'],
  ])('%s', async (_name, fields, status, reason) => {
    const res = await h.at(fields as Record<string, string | undefined>);
    expect(res).toEqual({ status, body: reason });
  });

  it('a parameter given twice', async () => {
    expect(await post('sessionId=a&sessionId=b&phoneNumber=%2B22376000010&serviceCode=*384*123%23&text=')).toEqual({ status: 400, body: 'sessionId is given more than once' });
  });
  it('a JSON body', async () => {
    expect(await post(JSON.stringify(ok), 'application/json')).toEqual({ status: 415, body: 'expected Content-Type: application/x-www-form-urlencoded' });
  });
  it('no content type', async () => {
    const res = await fetch(`${h.base}/ussd/africastalking`, { method: 'POST', body: new Uint8Array(Buffer.from('sessionId=a')) });
    expect(res.status).toBe(415);
  });
  it('an oversized body', async () => {
    const res = await post(`sessionId=a&phoneNumber=%2B22376000010&serviceCode=x&text=${'1*'.repeat(6000)}`);
    expect(res).toEqual({ status: 413, body: 'request body too large' });
  });
  it('an unencoded + that arrives as a space is still a number', async () => {
    const res = await post('sessionId=plus1&phoneNumber=+22376000011&serviceCode=*384*123%23&text=');
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/^CON /);
  });
  it('no stack trace, ever', async () => {
    const res = await post('%');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.body).not.toMatch(/at .*\.(ts|js):\d+/);
  });
});

describe('Redis round trips', () => {
  // Its own harness, with the spool's 2-s drain timer out of the way: a drain's
  // XRANGE that happens to fall inside the step is not the step's.
  let quiet: Harness;
  beforeAll(async () => {
    quiet = await startHarness('ussd round trips', { context: { spoolDrainEveryMs: 3_600_000 } });
  });
  afterAll(async () => {
    await quiet?.close();
  });
  it('takes two per step: lock-and-load, then save-and-unlock', async () => {
    const h = quiet;
    const call = { sessionId: sessionId(), phoneNumber: '+22376000015', serviceCode: '*384*123#' };
    await h.at({ ...call, text: '' });
    await h.at({ ...call, text: '1' });
    const redis = h.ctx.redis as unknown as { sendCommand: (cmd: { name: string }) => unknown };
    const original = redis.sendCommand.bind(redis);
    const sent: string[] = [];
    redis.sendCommand = (cmd) => {
      sent.push(cmd.name);
      return original(cmd);
    };
    try {
      const res = await h.at({ ...call, text: '1*1' });
      expect(res.body).toMatch(/^CON Comment voter/);
    } finally {
      redis.sendCommand = original;
    }
    expect(sent).toEqual(['evalsha', 'evalsha']);
  });
});

describe("AT's end-of-session notification", () => {
  const post = (fields: Record<string, string>) =>
    fetch(`${h.base}/ussd/africastalking/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() }).then(async (r) => ({ status: r.status, body: await r.text() }));

  it('closes an abandoned call with the telco status, duration and hops, once however often it comes', async () => {
    const call = { sessionId: sessionId(), phoneNumber: '+22376000016', serviceCode: '*384*123#' };
    await converse(h, call, ['1', '2', '1', '1']);
    const fields = { sessionId: call.sessionId, serviceCode: '*384*123#', networkCode: '99999', phoneNumber: call.phoneNumber, status: 'Incomplete', durationInMillis: '41230', hopsCount: '4', input: '1*2*1*1', lastAppResponse: 'CON Type', errorMessage: 'USER_TIMEOUT', cost: 'XOF 0.00', date: '2026-11-24 05:30:00' };
    expect(await post(fields)).toEqual({ status: 200, body: 'ok' });
    expect(await post(fields)).toEqual({ status: 200, body: 'ok' });
    const row = await h.ctx.db.selectFrom('calls').selectAll().where('gateway_session_id', '=', call.sessionId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ outcome: 'abandoned', telco_status: 'Incomplete', telco_duration_ms: 41230, telco_hops: 4, telco_cost: 'XOF 0.00', telco_error: 'USER_TIMEOUT' });
    expect(row.ended_at).not.toBeNull();
    expect(h.logs.join('')).not.toContain('76000016');
  });

  it('keeps the outcome of a call that reached its end', async () => {
    const call = { sessionId: sessionId(), phoneNumber: '+22376000017', serviceCode: '*384*123#' };
    await converse(h, call, ['1', '2', '1', '1', '1', '1', 'Kati', 'Des billets distribués', '1']);
    await post({ sessionId: call.sessionId, status: 'Success', durationInMillis: '60000', hopsCount: '9' });
    const row = await h.ctx.db.selectFrom('calls').select(['outcome', 'telco_status']).where('gateway_session_id', '=', call.sessionId).executeTakeFirstOrThrow();
    expect(row).toEqual({ outcome: 'completed', telco_status: 'Success' });
  });

  it('accepts an unknown session, and refuses an unreadable notification with a reason', async () => {
    expect(await post({ sessionId: 'ATUid_never_seen', status: 'Failed' })).toEqual({ status: 200, body: 'ok' });
    expect(await post({ status: 'Failed' })).toEqual({ status: 400, body: 'sessionId is missing' });
  });
});
