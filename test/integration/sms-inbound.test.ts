/**
 * Africa's Talking SMS callbacks end to end on a real redis-server and a
 * real PostgreSQL, with the SMS worker on and the real `africastalking` SDK
 * (only the AT HTTP API is mocked, with nock): keywords in both languages,
 * report status, STOP/START, the rate-limited fallback, duplicates, bad
 * requests and delivery reports.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { encryptText, pseudonymizePhone } from '../../src/privacy/phone.js';
import { renderSms, SMS_TEXTS } from '../../src/sms/sms-text.js';
import { REPLIES_PER_HOUR } from '../../src/sms/inbound-sms.js';
import { converse, startHarness, type Harness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

// nock 15.0.0 on Node 20 breaks every fetch() POST it lets through ("TypeError: unusable": its
// request listener consumes the Request body before the passthrough clones it), and the harness
// posts the telco callbacks with fetch. So fetch is kept as it was: nock still intercepts
// node:http, which is what the africastalking SDK (axios) uses.
const realFetch = globalThis.fetch;
const { default: nock } = await import('nock');
globalThis.fetch = realFetch;

const AT = 'https://api.sandbox.africastalking.com';
const AT_PATH = '/version1/messaging';
const AT_ENV = { AT_USERNAME: 'sandbox', AT_API_KEY: 'test-key' };
const INBOUND = '/sms/africastalking/inbound';
const DELIVERY = '/sms/africastalking/delivery';

// ---------------------------------------------------------------------------
// The mocked Africa's Talking API: records every message sent.

interface AtCall {
  to: string;
  message: string;
  messageId: string;
}
const atCalls: AtCall[] = [];
/** runs inside the gateway call, before it answers (the message id it will return) */
const atHooks = new Map<string, (messageId: string) => Promise<void>>();
let atIds = 0;
const callsTo = (to: string) => atCalls.filter((c) => c.to === to);

function installAtMock(): void {
  nock(AT)
    .persist()
    .post(AT_PATH)
    .reply(async (req: Request) => {
      const form = new URLSearchParams(await req.text());
      const to = form.get('to') ?? '';
      const messageId = `ATXid_in_${++atIds}`;
      atCalls.push({ to, message: form.get('message') ?? '', messageId });
      await atHooks.get(to)?.(messageId);
      return [201, { SMSMessageData: { Message: 'Sent to 1/1 Total Cost: XOF 25', Recipients: [{ statusCode: 101, number: to, status: 'Success', cost: 'XOF 25', messageId }] } }];
    });
}

// ---------------------------------------------------------------------------
// Helpers


let h: Harness;
let inboundIds = 0;
const nextId = () => `ATSMSid_${Date.now()}_${++inboundIds}`;
const testNumbers = new Set<string>();
const num = (n: number) => {
  const phone = `+2237620${String(n).padStart(4, '0')}`;
  testNumbers.add(phone);
  return phone;
};
const hashOf = (phone: string) => pseudonymizePhone(h.ctx.secrets.phoneHashKey, phone);

/** AT posts an incoming SMS. */
function textIn(from: string, text: string, id = nextId(), extra: Record<string, string> = {}) {
  return h.at({ from, to: '20880', text, date: '2026-11-24 10:00:00', id, linkId: '', ...extra }, INBOUND);
}

/** AT posts a delivery report. */
function deliveryReport(fields: Record<string, string | undefined>) {
  return h.at({ phoneNumber: undefined, networkCode: '61001', retryCount: '0', ...fields }, DELIVERY);
}

/** Posts a raw body with any content type. */
async function rawPost(path: string, body: string, contentType: string) {
  const res = await fetch(`${h.base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, body: await res.text() };
}

const inboundRow = (gatewayId: string) => h.ctx.db.selectFrom('sms_inbound').selectAll().where('gateway_id', '=', gatewayId).execute();
const outboxById = (id: string) => h.ctx.db.selectFrom('sms_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const outboxOf = (phone: string) => h.ctx.db.selectFrom('sms_outbox').selectAll().where('phone_hash', '=', hashOf(phone)).orderBy('id').execute();

/** Sends a text and waits until its reply is sent; resolves the reply row and what the gateway got. */
async function textAndReply(from: string, text: string) {
  const id = nextId();
  const res = await textIn(from, text, id);
  expect(res).toEqual({ status: 200, body: 'ok' });
  const [row] = await inboundRow(id);
  expect(row).toBeDefined();
  expect(row!.reply_id).not.toBeNull();
  const reply = await waitFor(`the reply to "${text}"`, () => outboxById(row!.reply_id!), (r) => ['sent', 'failed', 'opted_out', 'dry_run'].includes(r.status));
  const call = atCalls.find((c) => c.messageId === reply.gateway_message_id);
  return { inbound: row!, reply, call };
}

/** Moves a number's messages two hours back, past the hourly reply limit's window. */
const anHourLater = (phone: string) =>
  sql`update sms_inbound set received_at = received_at - interval '2 hours' where phone_hash = ${hashOf(phone)}`.execute(h.ctx.db);

let sessions = 0;
const knownNumbers = new Set<string>();
const CONTACT_CHOICE = { sms: '1', no_sms: '2', no_number: '3' } as const;
let lastSession = '';
/** Files a fraud report by USSD, keeping what `contact` says of the number; resolves the reference on the END screen. */
async function fileReport(phone: string, lang: 'fr' | 'bm' = 'fr', contact: keyof typeof CONTACT_CHOICE = 'sms'): Promise<string> {
  const inputs = ['2', '1', CONTACT_CHOICE[contact], '1', '5', 'Kati', 'Billets distribués au bureau', '1'];
  if (!knownNumbers.has(phone)) inputs.unshift(lang === 'fr' ? '1' : '2');
  lastSession = `ATUid_in_${++sessions}_${Date.now()}`;
  const replies = await converse(h, { sessionId: lastSession, phoneNumber: phone }, inputs);
  knownNumbers.add(phone);
  const last = replies[replies.length - 1]!;
  const ref = /KA-[0-9A-Z]{7}/.exec(last)?.[0];
  if (!last.startsWith('END ') || !ref) throw new Error(`no reference on the last screen: ${last}`);
  return ref;
}
const followupOf = async (ref: string) =>
  (
    await waitFor(
      `the follow-up of ${ref}`,
      () => h.ctx.db.selectFrom('sms_outbox').selectAll().where('ref', '=', ref).execute(),
      (r) => r.length === 1 && ['sent', 'failed', 'opted_out'].includes(r[0]!.status),
    )
  )[0]!;

const text = (lang: 'fr' | 'bm', key: string, vars: Record<string, string> = {}) => renderSms(h.ctx.flows.live(), lang, key, vars).text;

// ---------------------------------------------------------------------------

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  installAtMock();
  h = await startHarness('sms inbound', { env: AT_ENV, context: { worker: true, smsAttempts: 3, smsBackoffMs: 100, smsRelayEveryMs: 200 } });
});
afterAll(async () => {
  await h?.close();
  nock.cleanAll();
  nock.restore();
  nock.enableNetConnect();
});

describe('help keywords, any case or accent, in the sender\'s language', () => {
  const variants = ['aide', 'AIDE', 'Info', 'dɛmɛ', 'Dèmè', 'DEME'];
  const bmNumber = num(2);

  beforeAll(async () => {
    // A USSD call that chooses Bambara: the number now remembers bm.
    const [menu] = await converse(h, { sessionId: `ATUid_in_bm_${Date.now()}`, phoneNumber: bmNumber }, ['2']);
    expect(menu).toMatch(/Bamanankan/);
    knownNumbers.add(bmNumber);
    const caller = await h.ctx.db.selectFrom('callers').select('language').where('phone_hash', '=', hashOf(bmNumber)).executeTakeFirst();
    expect(caller?.language).toBe('bm');
  });

  it.each(variants)('"%s" from an unknown number gets the French help', async (word) => {
    const phone = num(100 + variants.indexOf(word));
    const { inbound, reply, call } = await textAndReply(phone, word);
    expect(inbound).toMatchObject({ keyword: 'help', text: word, to_code: '20880', phone_hash: hashOf(phone) });
    expect(inbound.received_at.toISOString()).toBe('2026-11-24T10:00:00.000Z');
    expect(reply).toMatchObject({ status: 'sent', kind: 'reply', language: 'fr', template: SMS_TEXTS.help, dedupe_key: `in:${inbound.gateway_id}`, attempts: 1 });
    expect(call).toBeDefined();
    expect(call!.to).toBe(phone);
    expect(call!.message).toMatch(/^Kalata: infos sur le vote/);
    expect(call!.message).toBe(text('fr', SMS_TEXTS.help));
    expect(call!.message).not.toContain('{{');
    expect(reply.text).toBe(call!.message);
    expect(callsTo(phone)).toHaveLength(1);
  });

  it.each(variants)('"%s" from a number that chose Bambara gets the Bambara help', async (word) => {
    await anHourLater(bmNumber);
    const before = callsTo(bmNumber).length;
    const { reply, call } = await textAndReply(bmNumber, word);
    expect(reply).toMatchObject({ status: 'sent', language: 'bm', template: SMS_TEXTS.help });
    expect(call!.to).toBe(bmNumber);
    expect(call!.message).toMatch(/^Kalata: \*384\*123# wele\./);
    expect(call!.message).toBe(text('bm', SMS_TEXTS.help));
    expect(callsTo(bmNumber)).toHaveLength(before + 1);
  });

  it('records the reply\'s history from pending to sent', async () => {
    const { reply } = await textAndReply(num(110), 'AIDE');
    const events = await h.ctx.db.selectFrom('sms_events').select(['status', 'detail']).where('message_id', '=', reply.id).orderBy('id').execute();
    expect(events[0]).toEqual({ status: 'pending', detail: 'reply' });
    expect(events[events.length - 1]!.status).toBe('sent');
  });
});

describe('STATUT <reference>', () => {
  const reporter = num(200);
  const stranger = num(201);
  let ref: string;

  beforeAll(async () => {
    ref = await fileReport(reporter);
    expect((await followupOf(ref)).status).toBe('sent');
  });
  // The reporter asks more often than the hourly reply limit allows: each test starts later.
  beforeEach(() => anHourLater(reporter));

  it.each([
    ['the reference as shown', (r: string) => `STATUT ${r}`],
    ['lower case', (r: string) => `statut ${r.toLowerCase()}`],
    ['a space for the dash', (r: string) => `STATUT ${r.replace('-', ' ')}`],
    ['no KA- prefix', (r: string) => `Statut ${r.slice(3)}`],
    ['STATUS, lower-case bare reference', (r: string) => `status ${r.slice(3).toLowerCase()}`],
  ])('the reporter gets the status (%s)', async (_label, message) => {
    const { inbound, reply, call } = await textAndReply(reporter, message(ref));
    expect(inbound.keyword).toBe('status');
    expect(reply).toMatchObject({ status: 'sent', template: SMS_TEXTS.status, vars: { ref, status: 'reçu, pas encore examiné' } });
    expect(call!.to).toBe(reporter);
    expect(call!.message).toBe(`Kalata: message ${ref}: reçu, pas encore examiné.`);
  });

  it('follows the report\'s status as it changes', async () => {
    await h.ctx.db.updateTable('reports').set({ status: 'verified' }).where('ref', '=', ref).execute();
    try {
      const { call } = await textAndReply(reporter, `STATUT ${ref}`);
      expect(call!.message).toBe(`Kalata: message ${ref}: vérifié.`);
    } finally {
      await h.ctx.db.updateTable('reports').set({ status: 'new' }).where('ref', '=', ref).execute();
    }
  });

  it('another number gets "aucun message", exactly as for a reference that does not exist', async () => {
    const other = await textAndReply(stranger, `STATUT ${ref}`);
    expect(other.call!.to).toBe(stranger);
    expect(other.call!.message).toBe(`Kalata: aucun message ${ref} pour ce numéro. Vérifiez votre référence.`);
    expect(other.call!.message).not.toContain('reçu');
    const missing = await textAndReply(reporter, 'STATUT KA-0000000');
    expect(missing.call!.message).toBe('Kalata: aucun message KA-0000000 pour ce numéro. Vérifiez votre référence.');
  });

  it('a Bambara reporter gets the status in Bambara', async () => {
    const bm = num(202);
    const bmRef = await fileReport(bm, 'bm');
    await followupOf(bmRef);
    const { reply, call } = await textAndReply(bm, `STATUT ${bmRef}`);
    expect(reply.language).toBe('bm');
    expect(call!.message).toBe(`Kalata: cikan ${bmRef}: a sɔrɔla, a ma lajɛ fɔlɔ.`);
  });

  it('a bare reference that itself starts with KA (KA-KA7Q4M2 typed as KA7Q4M2) is found', async () => {
    // References are KA- and 7 characters of Crockford base32: about 1 in 1024 starts with "KA".
    const odd = 'KA-KA7Q4M2';
    await h.ctx.db
      .insertInto('reports')
      .values({ ref: odd, call_id: null, phone_hash: hashOf(reporter), phone_enc: encryptText(h.ctx.secrets.dataEncryptionKey, reporter), language: 'fr', fields: JSON.stringify({}), incident: null, region: null })
      .execute();
    const full = await textAndReply(reporter, `STATUT ${odd}`);
    expect(full.call!.message).toBe(`Kalata: message ${odd}: reçu, pas encore examiné.`);
    const bare = await textAndReply(reporter, 'STATUT KA7Q4M2');
    expect(bare.call!.message).toBe(`Kalata: message ${odd}: reçu, pas encore examiné.`);
  });
});

describe('what a report keeps of the number, as the caller chose (issue 13)', () => {
  it('no SMS: the pseudonym only, no SMS, and STATUT answers that phone alone', async () => {
    const reporter = num(210);
    const ref = await fileReport(reporter, 'fr', 'no_sms');
    const report = await h.ctx.db.selectFrom('reports').selectAll().where('ref', '=', ref).executeTakeFirstOrThrow();
    expect(report).toMatchObject({ contact: 'no_sms', phone_hash: hashOf(reporter), phone_enc: null });
    expect(report.call_id).not.toBeNull();
    expect(await h.ctx.db.selectFrom('sms_outbox').select('id').where('ref', '=', ref).execute()).toEqual([]);
    const own = await textAndReply(reporter, `STATUT ${ref}`);
    expect(own.call!.message).toBe(`Kalata: message ${ref}: reçu, pas encore examiné.`);
    const other = await textAndReply(num(211), `STATUT ${ref}`);
    expect(other.call!.message).toBe(`Kalata: aucun message ${ref} pour ce numéro. Vérifiez votre référence.`);
  });

  it('no number: no pseudonym, no sealed number, no link to the call, no SMS, and STATUT answers any phone', async () => {
    const reporter = num(212);
    const ref = await fileReport(reporter, 'fr', 'no_number');
    const report = await h.ctx.db.selectFrom('reports').selectAll().where('ref', '=', ref).executeTakeFirstOrThrow();
    expect(report).toMatchObject({ contact: 'no_number', phone_hash: null, phone_enc: null, call_id: null, incident: 'vote_buying', region: 'segou' });
    // its time is kept to the quarter hour, not to the second of its call
    expect(new Date(report.created_at).getTime() % (15 * 60 * 1000)).toBe(0);
    expect(report.fields).toEqual({ incident: 'vote_buying', region: 'segou', place: 'Kati', description: 'Billets distribués au bureau' });
    expect(await h.ctx.db.selectFrom('sms_outbox').select('id').where('ref', '=', ref).execute()).toEqual([]);
    // The call is logged, but from the choice on it keeps neither what was typed nor what was shown.
    const call = await h.ctx.db.selectFrom('calls').selectAll().where('gateway_session_id', '=', lastSession).executeTakeFirstOrThrow();
    const steps = await h.ctx.db.selectFrom('call_steps').selectAll().where('call_id', '=', call.id).orderBy('seq').execute();
    expect(steps.map((s) => s.node)).toEqual([
      'main.language', 'main.home', 'report.intro', 'report.contact', 'report.incident', 'report.region', 'report.place', 'report.description', 'report.confirm', 'report.submitted_no_number',
    ]);
    // each row is the screen after its input: the contact question is the last one kept
    expect(steps.slice(0, 4).every((s) => s.screen !== '[private]')).toBe(true);
    for (const s of steps.slice(4)) expect({ node: s.node, input: s.input, screen: s.screen }).toEqual({ node: s.node, input: '[private]', screen: '[private]' });
    const transcript = JSON.stringify(steps);
    for (const secret of [ref, 'Kati', 'Billets', 'Ségou']) expect(transcript).not.toContain(secret);
    // nor in the logs next to the call
    expect(h.logs.filter((line) => line.includes(ref) && line.includes(call.id))).toEqual([]);
    // STATUT from a phone that never called
    const anyone = num(213);
    const { reply, call: sent } = await textAndReply(anyone, `STATUT ${ref}`);
    expect(reply.vars).toEqual({ ref, status: 'reçu, pas encore examiné' });
    expect(sent!.to).toBe(anyone);
    expect(sent!.message).toBe(`Kalata: message ${ref}: reçu, pas encore examiné.`);
  });

  it('the database refuses a report without a number that keeps one anyway', async () => {
    await expect(
      h.ctx.db
        .insertInto('reports')
        .values({ ref: 'KA-NNNNNNN', call_id: null, phone_hash: hashOf(num(214)), phone_enc: null, contact: 'no_number', language: 'fr', fields: JSON.stringify({}), incident: null, region: null })
        .execute(),
    ).rejects.toThrow(/reports_no_number_check/);
  });
});

describe('STOP and START', () => {
  const phone = num(300);

  it('STOP is acknowledged; the next report\'s follow-up is not sent', async () => {
    const stop = await textAndReply(phone, 'STOP');
    expect(stop.inbound.keyword).toBe('stop');
    expect(stop.reply).toMatchObject({ status: 'sent', kind: 'optout_ack' });
    expect(stop.call!.message).toBe(text('fr', SMS_TEXTS.stopAck));
    const optout = await h.ctx.db.selectFrom('sms_optouts').selectAll().where('phone_hash', '=', hashOf(phone)).executeTakeFirst();
    expect(optout).toBeDefined();
    expect(callsTo(phone)).toHaveLength(1);

    const ref = await fileReport(phone);
    const followup = await followupOf(ref);
    expect(followup).toMatchObject({ status: 'opted_out', failure_reason: 'the number sent STOP', sent_at: null });
    expect(callsTo(phone)).toHaveLength(1);
    expect(atCalls.some((c) => c.message.includes(ref))).toBe(false);
  });

  it('START is acknowledged; the next report\'s follow-up is sent again', async () => {
    const start = await textAndReply(phone, 'start');
    expect(start.inbound.keyword).toBe('start');
    expect(start.reply).toMatchObject({ status: 'sent', kind: 'optout_ack' });
    expect(start.call!.message).toBe(text('fr', SMS_TEXTS.startAck));
    expect(await h.ctx.db.selectFrom('sms_optouts').selectAll().where('phone_hash', '=', hashOf(phone)).executeTakeFirst()).toBeUndefined();
    expect(callsTo(phone)).toHaveLength(2);

    const ref = await fileReport(phone);
    const followup = await followupOf(ref);
    expect(followup.status).toBe('sent');
    expect(callsTo(phone)).toHaveLength(3);
    expect(callsTo(phone)[2]!.message).toContain(ref);
  });

  it('"Arrêt" (accented) opts out too', async () => {
    const other = num(301);
    const { inbound, reply } = await textAndReply(other, 'Arrêt');
    expect(inbound.keyword).toBe('stop');
    expect(reply.kind).toBe('optout_ack');
    expect(await h.ctx.db.selectFrom('sms_optouts').selectAll().where('phone_hash', '=', hashOf(other)).executeTakeFirst()).toBeDefined();
  });
});

describe('anything else', () => {
  it('gets one short help; a second unknown message within the hour gets no reply', async () => {
    const phone = num(400);
    const first = await textAndReply(phone, 'Bonjour, il y a un problème au bureau 3');
    expect(first.inbound.keyword).toBeNull();
    expect(first.call!.message).toBe(text('fr', SMS_TEXTS.fallback));

    const id = nextId();
    expect(await textIn(phone, 'Vous êtes là ?', id)).toEqual({ status: 200, body: 'ok' });
    const [second] = await inboundRow(id);
    expect(second).toMatchObject({ keyword: null, reply_id: null, text: 'Vous êtes là ?' });
    expect(await outboxOf(phone)).toHaveLength(1);
    expect(callsTo(phone)).toHaveLength(1);

    // A keyword is still answered.
    const help = await textAndReply(phone, 'AIDE');
    expect(help.reply.status).toBe('sent');
    expect(callsTo(phone)).toHaveLength(2);
  });

  it('a message AT posts again because the first attempt was not recorded still gets its one reply', async () => {
    // The database refuses the first attempt (a trigger on this test database); AT retries after the 503.
    const db = h.ctx.db;
    await sql`create sequence test_fail_inbound_seq`.execute(db);
    await sql.raw(`create function test_fail_inbound() returns trigger language plpgsql as $$
      begin
        if new.text = 'panne une fois' and nextval('test_fail_inbound_seq') = 1 then raise exception 'injected failure'; end if;
        return new;
      end $$`).execute(db);
    await sql`create trigger test_fail_inbound before insert on sms_inbound for each row execute function test_fail_inbound()`.execute(db);
    try {
      const phone = num(403);
      const id = nextId();
      expect(await textIn(phone, 'panne une fois', id)).toEqual({ status: 503, body: 'not recorded, try again' });
      expect(await inboundRow(id)).toHaveLength(0);
      expect(await textIn(phone, 'panne une fois', id)).toEqual({ status: 200, body: 'ok' });
      const [row] = await inboundRow(id);
      expect(row).toBeDefined();
      expect(row!.reply_id).not.toBeNull();
      const reply = await waitFor('the reply', () => outboxById(row!.reply_id!), (r) => r.status === 'sent');
      expect(reply.template).toBe(SMS_TEXTS.fallback);
      expect(callsTo(phone)).toHaveLength(1);
    } finally {
      await sql`drop trigger test_fail_inbound on sms_inbound`.execute(db);
      await sql`drop function test_fail_inbound()`.execute(db);
      await sql`drop sequence test_fail_inbound_seq`.execute(db);
    }
  });

  it('the limit is per number', async () => {
    const a = await textAndReply(num(401), 'bonjour');
    const b = await textAndReply(num(402), 'bonjour');
    expect(a.reply.status).toBe('sent');
    expect(b.reply.status).toBe('sent');
  });
});

describe('the same incoming message twice', () => {
  it('is recorded and answered once; the second answer is "duplicate"', async () => {
    const phone = num(500);
    const id = nextId();
    expect(await textIn(phone, 'AIDE', id)).toEqual({ status: 200, body: 'ok' });
    expect(await textIn(phone, 'AIDE', id)).toEqual({ status: 200, body: 'duplicate' });
    const rows = await inboundRow(id);
    expect(rows).toHaveLength(1);
    const reply = await waitFor('the reply', () => outboxById(rows[0]!.reply_id!), (r) => r.status === 'sent');
    expect(reply.dedupe_key).toBe(`in:${id}`);
    expect(await outboxOf(phone)).toHaveLength(1);
    expect(callsTo(phone)).toHaveLength(1);
  });

  it('sent twice at the same moment: one row, one reply', async () => {
    const phone = num(501);
    const id = nextId();
    const answers = await Promise.all([textIn(phone, 'AIDE', id), textIn(phone, 'AIDE', id)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers.map((a) => a.body).sort()).toEqual(['duplicate', 'ok']);
    const rows = await inboundRow(id);
    expect(rows).toHaveLength(1);
    await waitFor('the reply', () => outboxById(rows[0]!.reply_id!), (r) => r.status === 'sent');
    expect(await outboxOf(phone)).toHaveLength(1);
    expect(callsTo(phone)).toHaveLength(1);
  });
});

describe('bad incoming requests', () => {
  it('a missing from is a 400 with the reason', async () => {
    expect(await h.at({ id: nextId(), text: 'AIDE', to: '20880' }, INBOUND)).toEqual({ status: 400, body: 'from is missing' });
  });

  it('a missing id is a 400 with the reason', async () => {
    expect(await h.at({ from: num(600), text: 'AIDE', to: '20880' }, INBOUND)).toEqual({ status: 400, body: 'id is missing' });
  });

  it('a missing text is a 400; an empty text is accepted', async () => {
    expect(await h.at({ from: num(601), id: nextId(), to: '20880' }, INBOUND)).toEqual({ status: 400, body: 'text is missing' });
    expect(await h.at({ from: num(601), id: nextId(), to: '20880', text: '' }, INBOUND)).toEqual({ status: 200, body: 'ok' });
  });

  it('a sender that is not a phone number is a 400', async () => {
    expect(await h.at({ from: 'MTN', id: nextId(), text: 'AIDE' }, INBOUND)).toEqual({ status: 400, body: 'from is not a phone number' });
  });

  it('a field given twice is a 400', async () => {
    const res = await rawPost(INBOUND, `from=${encodeURIComponent(num(602))}&from=${encodeURIComponent(num(603))}&id=${nextId()}&text=AIDE`, 'application/x-www-form-urlencoded');
    expect(res).toEqual({ status: 400, body: 'from is given more than once' });
  });

  it('a body that is not a form is a 415', async () => {
    const res = await rawPost(INBOUND, JSON.stringify({ from: num(604), id: nextId(), text: 'AIDE' }), 'application/json');
    expect(res.status).toBe(415);
    expect(res.body).toBe('expected Content-Type: application/x-www-form-urlencoded');
  });

  it('nothing was recorded nor sent for them', async () => {
    for (const n of [600, 602, 603, 604]) {
      expect(await h.ctx.db.selectFrom('sms_inbound').select('id').where('phone_hash', '=', hashOf(num(n))).execute()).toHaveLength(0);
      expect(callsTo(num(n))).toHaveLength(0);
    }
  });
});

describe('delivery reports', () => {
  const eventsFor = (gatewayMessageId: string) =>
    h.ctx.db.selectFrom('sms_events').selectAll().where('gateway_message_id', '=', gatewayMessageId).where('status', 'like', 'delivery:%').orderBy('id').execute();

  it('Success for a known message sets its delivery status', async () => {
    const phone = num(700);
    const { reply } = await textAndReply(phone, 'AIDE');
    const gid = reply.gateway_message_id!;
    expect(gid).toMatch(/^ATXid_in_\d+$/);
    expect(await deliveryReport({ id: gid, status: 'Success', phoneNumber: phone })).toEqual({ status: 200, body: 'ok' });
    const row = await outboxById(reply.id);
    expect(row.delivery_status).toBe('Success');
    expect(row.status).toBe('sent');
    expect(row.failure_reason).toBeNull();
    const events = await eventsFor(gid);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ message_id: reply.id, status: 'delivery:Success' });
  });

  it('Failed records the failure reason', async () => {
    const phone = num(701);
    const { reply } = await textAndReply(phone, 'AIDE');
    const gid = reply.gateway_message_id!;
    expect(await deliveryReport({ id: gid, status: 'Failed', failureReason: 'UserInBlacklist', phoneNumber: phone })).toEqual({ status: 200, body: 'ok' });
    const row = await outboxById(reply.id);
    expect(row).toMatchObject({ delivery_status: 'Failed', failure_reason: 'UserInBlacklist' });
    const events = await eventsFor(gid);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ message_id: reply.id, status: 'delivery:Failed', detail: 'UserInBlacklist' });
  });

  it('an unknown message id is a 200, kept as an event with no message', async () => {
    const gid = `ATXid_unknown_${Date.now()}`;
    expect(await deliveryReport({ id: gid, status: 'Success', phoneNumber: num(702) })).toEqual({ status: 200, body: 'ok' });
    const events = await eventsFor(gid);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ message_id: null, gateway_message_id: gid, status: 'delivery:Success' });
  });

  it('the same report twice is one event', async () => {
    const phone = num(703);
    const { reply } = await textAndReply(phone, 'AIDE');
    const gid = reply.gateway_message_id!;
    for (let i = 0; i < 2; i++) expect(await deliveryReport({ id: gid, status: 'Success', phoneNumber: phone })).toEqual({ status: 200, body: 'ok' });
    expect(await eventsFor(gid)).toHaveLength(1);
    expect((await outboxById(reply.id)).delivery_status).toBe('Success');
    // And for an unknown id too.
    const unknown = `ATXid_unknown_twice_${Date.now()}`;
    for (let i = 0; i < 2; i++) await deliveryReport({ id: unknown, status: 'Failed', failureReason: 'AbsentSubscriber' });
    expect(await eventsFor(unknown)).toHaveLength(1);
  });

  it('a late Sent after Success keeps Success; Buffered then Success ends Success', async () => {
    const phone = num(704);
    const { reply } = await textAndReply(phone, 'AIDE');
    const gid = reply.gateway_message_id!;
    await deliveryReport({ id: gid, status: 'Buffered' });
    expect((await outboxById(reply.id)).delivery_status).toBe('Buffered');
    await deliveryReport({ id: gid, status: 'Success' });
    expect((await outboxById(reply.id)).delivery_status).toBe('Success');
    expect(await deliveryReport({ id: gid, status: 'Sent' })).toEqual({ status: 200, body: 'ok' });
    expect((await outboxById(reply.id)).delivery_status).toBe('Success');
    expect((await eventsFor(gid)).map((e) => e.status)).toEqual(['delivery:Buffered', 'delivery:Success', 'delivery:Sent']);
  });

  it('a missing id or status is a 400 with the reason; a body that is not a form is a 415', async () => {
    expect(await deliveryReport({ status: 'Success' })).toEqual({ status: 400, body: 'id is missing' });
    expect(await deliveryReport({ id: 'ATXid_x' })).toEqual({ status: 400, body: 'status is missing' });
    expect(await deliveryReport({ id: 'ATXid_x', status: '' })).toEqual({ status: 400, body: 'status is missing' });
    const json = await rawPost(DELIVERY, JSON.stringify({ id: 'ATXid_x', status: 'Success' }), 'application/json');
    expect(json.status).toBe(415);
    expect(await eventsFor('ATXid_x')).toHaveLength(0);
  });

  it('a report that arrives while the send is still being recorded is not lost', async () => {
    // AT may call back as soon as it has the message: here the delivery report is posted from inside the
    // gateway call, before the worker has stored the gateway's message id.
    const phone = num(705);
    let posted: { status: number; body: string } | undefined;
    atHooks.set(phone, async (messageId) => {
      posted = await deliveryReport({ id: messageId, status: 'Success', phoneNumber: phone });
    });
    const { reply } = await textAndReply(phone, 'AIDE');
    expect(posted).toEqual({ status: 200, body: 'ok' });
    expect(reply.status).toBe('sent');
    const events = await eventsFor(reply.gateway_message_id!);
    expect(events).toHaveLength(1);
    expect((await outboxById(reply.id)).delivery_status).toBe('Success');
    expect(events[0]!.message_id).toBe(reply.id);
  });
});

describe('replies per number (issue 12: 20 AIDE gave 20 SMS)', () => {
  const waitSettled = (phone: string) =>
    waitFor('every reply settled', () => outboxOf(phone), (rows) => rows.every((r) => ['sent', 'failed', 'opted_out', 'dry_run'].includes(r.status)));

  it(`20 AIDE sent at once get ${REPLIES_PER_HOUR} replies, and every message is recorded`, async () => {
    const phone = num(800);
    const ids = Array.from({ length: 20 }, () => nextId());
    const answers = await Promise.all(ids.map((id) => textIn(phone, 'AIDE', id)));
    expect(answers.every((a) => a.status === 200 && a.body === 'ok')).toBe(true);
    const rows = await h.ctx.db.selectFrom('sms_inbound').select(['reply_id']).where('phone_hash', '=', hashOf(phone)).execute();
    expect(rows).toHaveLength(20);
    expect(rows.filter((r) => r.reply_id !== null)).toHaveLength(REPLIES_PER_HOUR);
    await waitSettled(phone);
    expect(await outboxOf(phone)).toHaveLength(REPLIES_PER_HOUR);
    expect(callsTo(phone)).toHaveLength(REPLIES_PER_HOUR);
  });

  it('past the limit STOP still stops follow-ups, without an acknowledgement; an hour later replies resume', async () => {
    const phone = num(801);
    for (let i = 0; i < REPLIES_PER_HOUR; i++) await textAndReply(phone, i % 2 ? 'STATUT' : 'AIDE');
    const id = nextId();
    expect(await textIn(phone, 'STOP', id)).toEqual({ status: 200, body: 'ok' });
    expect((await inboundRow(id))[0]).toMatchObject({ keyword: 'stop', reply_id: null });
    expect(await h.ctx.db.selectFrom('sms_optouts').selectAll().where('phone_hash', '=', hashOf(phone)).executeTakeFirst()).toBeDefined();
    await anHourLater(phone);
    const start = await textAndReply(phone, 'START');
    expect(start.reply.template).toBe(SMS_TEXTS.startAck);
  });
});

describe('NINA numbers typed in any message (issue 12)', () => {
  it('a sentence naming the NINA is a lookup, and the number is kept nowhere', async () => {
    const phone = num(810);
    const { inbound, reply } = await textAndReply(phone, 'Mon NINA est 4417 0093 2215 8');
    expect(inbound.keyword).toBe('station');
    expect(inbound.text).toBe('Mon [private]');
    // No voters list in this test: the reply says the search is not available here, never "not on the list".
    expect(reply.template).toBe(SMS_TEXTS.stationNoList);
  });

  it.each(['BUREAUX 44170093221', 'NINA 44170093221', 'nina: 4417-0093-221'])('"%s" is a lookup', async (message) => {
    const phone = num(811 + ['BUREAUX 44170093221', 'NINA 44170093221', 'nina: 4417-0093-221'].indexOf(message));
    const { inbound, reply } = await textAndReply(phone, message);
    expect(inbound.keyword).toBe('station');
    expect(inbound.text).not.toMatch(/\d{3}/);
    expect(reply.template).not.toBe(SMS_TEXTS.fallback);
  });

  // Variants an attack on a live deployment found stored in clear (issue 12 review).
  const leaks = [
    'Mon NINA est 1234,5678,9012',
    'Mon NINA est 1234+5678+9012+345',
    'Bonjour 12345\u201367890\u201312345',
    'Mon NINA est \uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10',
    'N\u2019Ko \u07c1\u07c2\u07c3\u07c4\u07c5\u07c6\u07c7',
    'n b\u025b a f\u025b ka 123456789012345 s\u0254r\u0254',
    'Je suis Awa Traore KA 123456789012345',
    'STATUT 1234 5678 9012 345',
  ];
  it.each(leaks)('"%s" is stored, and answered, without the number', async (message) => {
    const phone = num(840 + leaks.indexOf(message));
    const { inbound, reply } = await textAndReply(phone, message);
    // The number's first six digits, in whatever script and spacing it was typed, appear nowhere.
    const firstDigits = (t: string) => (t.match(/\p{Nd}/gu) ?? []).slice(0, 6).join('');
    const typed = firstDigits(message);
    for (const kept of [inbound.text, reply.text ?? '', JSON.stringify(reply.vars ?? {})]) {
      expect((kept.match(/\p{Nd}/gu) ?? []).join('')).not.toContain(typed);
    }
  });

  it('any other message keeps its words, not the number', async () => {
    const phone = num(815);
    const { inbound } = await textAndReply(phone, 'Achat de votes a Kati, rappelez moi au 76 12 34 56 ou NINA svp 4417009322158');
    expect(inbound.keyword).toBeNull();
    expect(inbound.text).toBe('Achat de votes a Kati, rappelez moi au [private] ou NINA svp [private]');
    // A reference stays readable: STATUT needs it.
    const status = await textAndReply(num(816), 'STATUT KA-1234567');
    expect(status.inbound.text).toBe('STATUT KA-1234567');
  });
});

describe('delivery reports cannot rewrite a final status (issue 12)', () => {
  const sentReply = async (n: number) => (await textAndReply(num(n), 'AIDE')).reply;

  it.each([
    ['Success', 'Failed'],
    ['Failed', 'Success'],
    ['Expired', 'Success'],
    ['Rejected', 'Success'],
  ])('%s then a late or forged %s: the first stays, the second is kept as an event', async (first, second) => {
    const reply = await sentReply(820 + ['Success', 'Failed', 'Expired', 'Rejected'].indexOf(first));
    const gid = reply.gateway_message_id!;
    await deliveryReport({ id: gid, status: first, ...(first === 'Success' ? {} : { failureReason: 'DeliveryFailure' }) });
    expect(await deliveryReport({ id: gid, status: second, failureReason: second === 'Success' ? undefined : 'UserInBlacklist' })).toEqual({ status: 200, body: 'ok' });
    expect((await outboxById(reply.id)).delivery_status).toBe(first);
    const events = await h.ctx.db.selectFrom('sms_events').select('status').where('gateway_message_id', '=', gid).where('status', 'like', 'delivery:%').orderBy('id').execute();
    expect(events.map((e) => e.status)).toEqual([`delivery:${first}`, `delivery:${second}`]);
  });

  it('an interim status still moves to a final one', async () => {
    const reply = await sentReply(830);
    for (const status of ['Buffered', 'Success']) await deliveryReport({ id: reply.gateway_message_id!, status });
    expect((await outboxById(reply.id)).delivery_status).toBe('Success');
  });

  it('two final reports at once: one wins and stays', async () => {
    const reply = await sentReply(831);
    const gid = reply.gateway_message_id!;
    await Promise.all([deliveryReport({ id: gid, status: 'Success' }), deliveryReport({ id: gid, status: 'Failed', failureReason: 'DeliveryFailure' })]);
    const winner = (await outboxById(reply.id)).delivery_status;
    const firstEvent = await h.ctx.db.selectFrom('sms_events').select('status').where('gateway_message_id', '=', gid).where('status', 'like', 'delivery:%').orderBy('id').executeTakeFirstOrThrow();
    expect(`delivery:${winner}`).toBe(firstEvent.status);
  });
});

describe('privacy', () => {
  it('no log line names a test number', () => {
    const logs = h.logs.join('');
    expect(logs).toContain('inbound SMS');
    for (const phone of testNumbers) {
      expect(logs).not.toContain(phone);
      expect(logs).not.toContain(phone.slice(4));
    }
  });
});
