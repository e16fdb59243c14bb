/**
 * SMS follow-ups end to end on a real redis-server (BullMQ) and a real
 * PostgreSQL, through the real `africastalking` SDK: only the Africa's Talking
 * HTTP API is mocked (nock). Reports filed by USSD, the worker, retries,
 * permanent failures, duplicates, restarts, the outbox relay, privacy of the
 * queue and the logs, the dry-run transport and the metrics.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Job } from 'bullmq';
import { encryptText, maskPhone, pseudonymizePhone } from '../../src/privacy/phone.js';
import { createSmsProcessor } from '../../src/queue/sms-processor.js';
import type { SmsJobData } from '../../src/queue/sms-queue.js';
import { renderSms, SMS_TEXTS } from '../../src/sms/sms-text.js';
import { insertSms } from '../../src/store/sms-store.js';
import { freshRedisPrefix } from '../support/databases.js';
import { startHarness, type Harness } from '../support/harness.js';
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
const SMS_POLICY = { smsAttempts: 3, smsBackoffMs: 100, smsRelayEveryMs: 200 };

// ---------------------------------------------------------------------------
// The mocked Africa's Talking API: records every message, answers per number.

interface AtCall {
  to: string;
  message: string;
  username: string | null;
  apikey: string | null;
}
interface AtReply {
  status: number;
  body: unknown;
  /** the gateway takes this long to answer */
  delayMs?: number;
}
const atCalls: AtCall[] = [];
/** per number: the reply to its n-th call (1-based); success otherwise */
const atPlans = new Map<string, (n: number) => AtReply>();
let atIds = 0;

const recipientsBody = (recipient: Record<string, unknown>) => ({
  SMSMessageData: { Message: 'Sent to 1/1 Total Cost: XOF 25', Recipients: [recipient] },
});
const atSuccess = (to: string): AtReply => ({
  status: 201,
  body: recipientsBody({ statusCode: 101, number: to, status: 'Success', cost: 'XOF 25', messageId: `ATXid_sms_${++atIds}` }),
});
const callsTo = (to: string) => atCalls.filter((c) => c.to === to);

function installAtMock(): void {
  nock(AT)
    .persist()
    .post(AT_PATH)
    .reply(async (req: Request) => {
      const form = new URLSearchParams(await req.text());
      const to = form.get('to') ?? '';
      atCalls.push({ to, message: form.get('message') ?? '', username: form.get('username'), apikey: req.headers.get('apikey') });
      const plan = atPlans.get(to);
      const reply = plan ? plan(callsTo(to).length) : atSuccess(to);
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      return [reply.status, reply.body];
    });
}

// ---------------------------------------------------------------------------
// Helpers


let sessions = 0;
const sessionId = () => `ATUid_sms_${++sessions}_${Date.now()}`;
/** numbers that already chose a language (the next call skips the language menu) */
const knownNumbers = new Set<string>();

/** Files a fraud report by USSD; resolves the reference shown on the END screen. */
async function fileReport(h: Harness, phone: string, lang: 'fr' | 'bm' = 'fr'): Promise<{ ref: string; end: string }> {
  const inputs = ['2', '1', '1', '1', '5', 'Kati', 'Billets distribués au bureau', '1'];
  if (!knownNumbers.has(phone)) inputs.unshift(lang === 'fr' ? '1' : '2');
  const call = { sessionId: sessionId(), phoneNumber: phone, serviceCode: '*384*123#', networkCode: '99999' };
  const typed: string[] = [];
  let res = await h.at({ ...call, text: '' });
  for (const input of inputs) {
    expect(res.body).toMatch(/^CON /);
    typed.push(input);
    res = await h.at({ ...call, text: typed.join('*') });
    expect(res.status).toBe(200);
  }
  knownNumbers.add(phone);
  const ref = /KA-[0-9A-Z]{7}/.exec(res.body)?.[0];
  if (!res.body.startsWith('END ') || !ref) throw new Error(`no reference on the last screen: ${res.body}`);
  return { ref, end: res.body };
}

const outboxByRef = (h: Harness, ref: string) => h.ctx.db.selectFrom('sms_outbox').selectAll().where('ref', '=', ref).execute();
const outboxById = (h: Harness, id: string) => h.ctx.db.selectFrom('sms_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const eventsOf = (h: Harness, id: string) => h.ctx.db.selectFrom('sms_events').selectAll().where('message_id', '=', id).orderBy('id').execute();

/** Waits for the one follow-up of a report to reach one of `statuses`. */
async function followupOf(h: Harness, ref: string, statuses: string[]) {
  const rows = await waitFor(`the SMS of ${ref} to be ${statuses.join('|')}`, () => outboxByRef(h, ref), (r) => r.length === 1 && statuses.includes(r[0]!.status));
  return rows[0]!;
}

/** A message put in the outbox directly (as the runtime or the inbound handler would). */
async function addMessage(h: Harness, phone: string, key: string, template: string = SMS_TEXTS.help): Promise<string> {
  const id = await insertSms(h.ctx.db, {
    dedupeKey: `test:${key}`,
    kind: 'reply',
    ref: null,
    phoneHash: pseudonymizePhone(h.ctx.secrets.phoneHashKey, phone),
    phoneEnc: encryptText(h.ctx.secrets.dataEncryptionKey, phone),
    language: 'fr',
    template,
    vars: {},
  });
  if (!id) throw new Error('not inserted');
  return id;
}

const fakeJob = (messageId: string, attemptsMade = 0) => ({ data: { messageId }, attemptsMade, opts: { attempts: 3 } }) as unknown as Job<SmsJobData>;

/** Every test number used in this file: none may appear in any log line. */
const testNumbers = new Set<string>();
const num = (n: number) => {
  const phone = `+2237610${String(n).padStart(4, '0')}`;
  testNumbers.add(phone);
  return phone;
};
const allLogs: string[][] = [];

// ---------------------------------------------------------------------------

let h: Harness;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  installAtMock();
  h = await startHarness('sms', { env: AT_ENV, context: { worker: true, ...SMS_POLICY } });
  allLogs.push(h.logs);
});
afterAll(async () => {
  await h?.close();
  nock.cleanAll();
  nock.restore();
  nock.enableNetConnect();
});

describe('a fraud report filed by USSD gets its follow-up SMS through Africa\'s Talking', () => {
  it('in French: one call with the reporter\'s number and the reference of the END screen; the row records the send', async () => {
    const phone = num(1);
    const { ref, end } = await fileReport(h, phone, 'fr');
    expect(end).toContain(`Votre référence: ${ref}`);
    const row = await followupOf(h, ref, ['sent', 'failed']);

    const calls = callsTo(phone);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.username).toBe('sandbox');
    expect(calls[0]!.apikey).toBe('test-key');
    expect(calls[0]!.message).toContain(ref);
    expect(calls[0]!.message).toMatch(/^Kalata: message KA-[0-9A-Z]{7} enregistré\./);
    // Discreet: whoever picks up the phone does not learn that its owner reported fraud.
    expect(calls[0]!.message).not.toMatch(/fraude|signal|incident|nanbara|kofɔ/i);
    expect(calls[0]!.message).toContain('STOP');
    expect(calls[0]!.message).toBe(renderSms(h.ctx.flows.live(), 'fr', 'report:sms.report_ack', { ref }).text);

    expect(row).toMatchObject({
      status: 'sent',
      kind: 'followup',
      language: 'fr',
      transport: 'africastalking',
      gateway_status: 'Success',
      gateway_status_code: 101,
      cost: 'XOF 25',
      text: calls[0]!.message,
      segments: 1,
      encoding: 'GSM-7',
      attempts: 1,
      failure_reason: null,
    });
    expect(row.gateway_message_id).toMatch(/^ATXid_sms_\d+$/);
    expect(row.sent_at).not.toBeNull();
    expect(row.claimed_at).not.toBeNull();

    const events = await eventsOf(h, row.id);
    expect(events.map((e) => e.status)).toContain('sent');
    expect(events.filter((e) => e.status === 'sent')).toHaveLength(1);
    expect(events[events.length - 1]).toMatchObject({ status: 'sent', gateway_message_id: row.gateway_message_id });
  });

  it('in Bambara: the text is the Bambara one, in UCS-2, with the reference', async () => {
    const phone = num(2);
    const { ref, end } = await fileReport(h, phone, 'bm');
    expect(end).toContain(ref);
    const row = await followupOf(h, ref, ['sent', 'failed']);
    const calls = callsTo(phone);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.message).toContain(ref);
    expect(calls[0]!.message).toMatch(/^Kalata: cikan KA-[0-9A-Z]{7} sɔrɔla\./);
    expect(calls[0]!.message).toBe(renderSms(h.ctx.flows.live(), 'bm', 'report:sms.report_ack', { ref }).text);
    expect(row).toMatchObject({ status: 'sent', language: 'bm', text: calls[0]!.message, segments: 1, encoding: 'UCS-2', attempts: 1, cost: 'XOF 25' });
    expect(row.gateway_message_id).toMatch(/^ATXid_sms_\d+$/);
  });
});

describe('gateway failures', () => {
  it('a permanent refusal (403 InvalidPhoneNumber) fails at once: one call, no retry', async () => {
    const phone = num(3);
    atPlans.set(phone, () => ({ status: 201, body: recipientsBody({ statusCode: 403, number: phone, status: 'InvalidPhoneNumber', cost: '0' }) }));
    const { ref } = await fileReport(h, phone);
    const row = await followupOf(h, ref, ['sent', 'failed']);
    expect(row).toMatchObject({ status: 'failed', failure_reason: 'InvalidPhoneNumber', gateway_status_code: 403, attempts: 1, sent_at: null });
    expect(row.text).toContain(ref);
    const job = await h.ctx.sms.queue.getJob(`sms-${row.id}`);
    expect(job).toBeDefined();
    await waitFor('the job to be failed', () => job!.getState(), (s) => s === 'failed');
    const failed = await h.ctx.sms.queue.getJob(`sms-${row.id}`);
    expect(failed!.attemptsMade).toBe(1);
    expect(callsTo(phone)).toHaveLength(1);
    const events = await eventsOf(h, row.id);
    expect(events.map((e) => e.status)).toEqual(['pending', 'failed']);
  });

  it('HTTP 500 then 201: sent on the second attempt', async () => {
    const phone = num(4);
    atPlans.set(phone, (n) => (n === 1 ? { status: 500, body: 'Internal Server Error' } : atSuccess(phone)));
    const { ref } = await fileReport(h, phone);
    const row = await followupOf(h, ref, ['sent', 'failed']);
    expect(row).toMatchObject({ status: 'sent', attempts: 2, gateway_status: 'Success', gateway_status_code: 101 });
    expect(callsTo(phone)).toHaveLength(2);
    expect(callsTo(phone)[0]!.message).toBe(callsTo(phone)[1]!.message);
    const events = await eventsOf(h, row.id);
    expect(events.map((e) => e.status)).toEqual(['pending', 'retrying', 'sent']);
    expect(events[1]!.detail).toBe('HTTP 500');
  });

  it('always HTTP 429: failed after 3 attempts, with the reason', async () => {
    const phone = num(5);
    atPlans.set(phone, () => ({ status: 429, body: 'Too Many Requests' }));
    const { ref } = await fileReport(h, phone);
    const row = await followupOf(h, ref, ['sent', 'failed']);
    expect(row.status).toBe('failed');
    expect(row.failure_reason).toMatch(/^gave up after 3 attempts/);
    expect(row.failure_reason).toContain('HTTP 429');
    expect(row.attempts).toBe(3);
    expect(row.gateway_status_code).toBe(429);
    expect(callsTo(phone)).toHaveLength(3);
    const job = await h.ctx.sms.queue.getJob(`sms-${row.id}`);
    await waitFor('the job to be failed', () => job!.getState(), (s) => s === 'failed');
    expect(callsTo(phone)).toHaveLength(3);
    expect((await eventsOf(h, row.id)).map((e) => e.status)).toEqual(['pending', 'retrying', 'retrying', 'failed']);
  });
});

describe('exactly once', () => {
  it('the same job run twice at once sends once; the second run is skipped', async () => {
    const phone = num(6);
    // Only the first call may succeed; a second one would be visible in atCalls anyway.
    atPlans.set(phone, (n) => (n === 1 ? { ...atSuccess(phone), delayMs: 300 } : { status: 500, body: 'second call' }));
    const id = await addMessage(h, phone, 'duplicate-job');
    // `queued` with no BullMQ job: neither the worker nor the relay touches it.
    await h.ctx.db.updateTable('sms_outbox').set({ status: 'queued' }).where('id', '=', id).execute();
    const process = createSmsProcessor({ db: h.ctx.db, flows: h.ctx.flows, secrets: h.ctx.secrets, transport: h.ctx.smsTransport, logger: h.ctx.logger });
    const results = await Promise.all([process(fakeJob(id)), process(fakeJob(id))]);
    expect([...results].sort()).toEqual(['sent', 'skipped']);
    expect(callsTo(phone)).toHaveLength(1);
    const row = await outboxById(h, id);
    expect(row).toMatchObject({ status: 'sent', attempts: 1 });

    await expect(process(fakeJob(id, 1))).resolves.toBe('skipped');
    expect(callsTo(phone)).toHaveLength(1);
    expect(await outboxById(h, id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('queueing a sent message again sends nothing more', async () => {
    const phone = num(7);
    const { ref } = await fileReport(h, phone);
    const row = await followupOf(h, ref, ['sent', 'failed']);
    expect(row.status).toBe('sent');
    await h.ctx.sms.enqueue(h.ctx.db, [row.id]);
    await h.ctx.sms.queue.add('send', { messageId: row.id }, { jobId: `again-${row.id}` });
    const again = await h.ctx.sms.queue.getJob(`again-${row.id}`);
    await waitFor('the extra job to complete', () => again!.getState(), (s) => s === 'completed');
    expect((await h.ctx.sms.queue.getJob(`again-${row.id}`))!.returnvalue).toBe('skipped');
    expect(callsTo(phone)).toHaveLength(1);
    expect(await outboxById(h, row.id)).toMatchObject({ status: 'sent', attempts: 1 });
  });
});

describe('a message the worker cannot prepare', () => {
  it('is settled as failed with the reason at once, not left in `sending` (where the relay would blame the gateway 2 min later)', async () => {
    const phone = num(10);
    const id = await addMessage(h, phone, 'undecryptable');
    // Sealed under another key: what a worker started with the wrong DATA_ENCRYPTION_KEY sees.
    await h.ctx.db
      .updateTable('sms_outbox')
      .set({ status: 'queued', phone_enc: encryptText(randomBytes(32).toString('hex'), phone) })
      .where('id', '=', id)
      .execute();
    const process = createSmsProcessor({ db: h.ctx.db, flows: h.ctx.flows, secrets: h.ctx.secrets, transport: h.ctx.smsTransport, logger: h.ctx.logger });
    await expect(process(fakeJob(id))).rejects.toThrow();
    expect(callsTo(phone)).toHaveLength(0);
    const row = await outboxById(h, id);
    expect(row.status).toBe('failed');
    expect(row.failure_reason).not.toMatch(/gateway/);
    expect(h.logs.some((l) => l.includes(`"message":"${id}"`))).toBe(true);
  });
});

describe('the outbox relay', () => {
  it('queues and sends a message left pending (a web process that died before queueing it)', async () => {
    const phone = num(8);
    const id = await addMessage(h, phone, 'left-pending');
    await h.ctx.db.updateTable('sms_outbox').set({ created_at: new Date(Date.now() - 60_000) }).where('id', '=', id).execute();
    const row = await waitFor('the pending message to be sent', () => outboxById(h, id), (r) => r.status === 'sent' || r.status === 'failed');
    expect(row).toMatchObject({ status: 'sent', attempts: 1 });
    expect(callsTo(phone)).toHaveLength(1);
    expect(callsTo(phone)[0]!.message).toBe(renderSms(h.ctx.flows.live(), 'fr', SMS_TEXTS.help, {}).text);
  });

  it('queues a report\'s follow-up that could not be queued when it was filed (Redis refused)', async () => {
    const phone = num(9);
    const sms = h.ctx.sms as { enqueue: typeof h.ctx.sms.enqueue };
    const real = sms.enqueue;
    let refused = 0;
    sms.enqueue = async (db, ids) => {
      if (refused === 0) {
        refused += 1;
        throw new Error('Connection is closed.');
      }
      return real(db, ids);
    };
    try {
      const { ref } = await fileReport(h, phone);
      await waitFor('the enqueue to be refused', async () => refused, (n) => n === 1);
      // Committed, not queued: it waits for the relay (messages pending for more than 3 s).
      expect((await outboxByRef(h, ref))[0]!.status).toBe('pending');
      const row = await followupOf(h, ref, ['sent', 'failed']);
      expect(row).toMatchObject({ status: 'sent', attempts: 1 });
      expect(callsTo(phone)).toHaveLength(1);
      expect(h.logs.join('')).toContain('SMS left for the outbox relay');
    } finally {
      sms.enqueue = real;
    }
  });
});

describe('a worker restarted mid-queue', () => {
  const prefix = `${freshRedisPrefix('sms restart')}:`;
  // Two processes of one deployment share its keys (each harness would otherwise generate its own in its data dir).
  const env = { ...AT_ENV, PHONE_HASH_KEY: randomBytes(32).toString('base64url'), DATA_ENCRYPTION_KEY: randomBytes(32).toString('hex') };
  const phones = [num(20), num(21), num(22)];
  let a: Harness;
  let b: Harness | undefined;
  const refs: string[] = [];
  let ids: string[] = [];

  beforeAll(async () => {
    a = await startHarness('sms restart', { env, redisPrefix: prefix, context: { ...SMS_POLICY } });
    aOpen = true;
    allLogs.push(a.logs);
  });
  let aOpen = false;
  afterAll(async () => {
    if (aOpen) await a.close();
    await b?.close();
  });

  it('without a worker, messages wait in the queue and nothing is sent', async () => {
    expect(a.ctx.smsWorker).toBeUndefined();
    for (const phone of phones) refs.push((await fileReport(a, phone)).ref);
    for (const ref of refs) {
      const row = await waitFor(`${ref} to be queued`, () => outboxByRef(a, ref), (r) => r.length === 1 && r[0]!.status === 'queued');
      ids.push(row[0]!.id);
    }
    ids = ids.sort();
    const waiting = await a.ctx.sms.queue.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(waiting.map((j) => j.data.messageId).sort()).toEqual(ids);
    for (const phone of phones) expect(callsTo(phone)).toHaveLength(0);
  });

  it('job payloads carry the message id only: no number, no text, in the job nor anywhere in Redis', async () => {
    const jobs = await a.ctx.sms.queue.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed']);
    expect(jobs.length).toBe(3);
    for (const job of jobs) {
      expect(Object.keys(job.data)).toEqual(['messageId']);
      expect(job.data).toEqual({ messageId: expect.stringMatching(/^\d+$/) });
      expect(job.id).toBe(`sms-${job.data.messageId}`);
      const json = JSON.stringify(job);
      expect(json).not.toContain('+223');
      for (const phone of phones) expect(json).not.toContain(phone.slice(4));
      expect(json).not.toContain('Kalata');
    }
    // Everything BullMQ keeps under this prefix.
    const keys = await a.ctx.redis.keys(`${prefix}bull:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const type = await a.ctx.redis.type(key);
      const dump = type === 'hash' ? JSON.stringify(await a.ctx.redis.hgetall(key)) : type === 'string' ? String(await a.ctx.redis.get(key)) : '';
      expect(dump).not.toContain('+223');
      for (const phone of phones) expect(dump).not.toContain(phone.slice(4));
    }
  });

  it('a new process with a worker on the same database and Redis sends each exactly once', async () => {
    aOpen = false;
    await a.close();
    b = await startHarness('sms restart 2', { env, databaseUrl: a.databaseUrl!, redisPrefix: prefix, context: { worker: true, ...SMS_POLICY } });
    allLogs.push(b.logs);
    for (const ref of refs) {
      const row = await followupOf(b, ref, ['sent', 'failed']);
      expect(row).toMatchObject({ status: 'sent', attempts: 1 });
    }
    for (const [i, phone] of phones.entries()) {
      expect(callsTo(phone)).toHaveLength(1);
      expect(callsTo(phone)[0]!.message).toContain(refs[i]!);
    }
    // A relay pass afterwards finds nothing to do.
    await expect(b.ctx.smsWorker!.relay()).resolves.toBe(0);
    for (const phone of phones) expect(callsTo(phone)).toHaveLength(1);
  });

  it('a message left in `sending` by a dead worker is marked failed by the relay, never sent', async () => {
    const phone = num(23);
    const id = await addMessage(b!, phone, 'stale-sending');
    await b!.ctx.db
      .updateTable('sms_outbox')
      .set({ status: 'sending', attempts: 1, claimed_at: new Date(Date.now() - 10 * 60_000) })
      .where('id', '=', id)
      .execute();
    await b!.ctx.smsWorker!.relay();
    const row = await outboxById(b!, id);
    expect(row.status).toBe('failed');
    expect(row.failure_reason).toMatch(/interrupted during the gateway call/);
    expect((await eventsOf(b!, id)).map((e) => e.status)).toEqual(['pending', 'failed']);
    // Queued again by hand: the claim refuses a failed message.
    await b!.ctx.sms.enqueue(b!.ctx.db, [id]);
    const job = await b!.ctx.sms.queue.getJob(`sms-${id}`);
    await waitFor('the job to complete', () => job!.getState(), (s) => s === 'completed');
    expect((await b!.ctx.sms.queue.getJob(`sms-${id}`))!.returnvalue).toBe('skipped');
    expect(callsTo(phone)).toHaveLength(0);
    expect((await outboxById(b!, id)).status).toBe('failed');
  });

  it('a message in `sending` that is recent is left alone by the relay', async () => {
    const phone = num(24);
    const id = await addMessage(b!, phone, 'fresh-sending');
    await b!.ctx.db.updateTable('sms_outbox').set({ status: 'sending', attempts: 1, claimed_at: new Date() }).where('id', '=', id).execute();
    await b!.ctx.smsWorker!.relay();
    expect((await outboxById(b!, id)).status).toBe('sending');
    expect(callsTo(phone)).toHaveLength(0);
  });
});

describe('without an Africa\'s Talking account (dry run)', () => {
  let d: Harness;
  beforeAll(async () => {
    d = await startHarness('sms dry run', { context: { worker: true, ...SMS_POLICY } });
    allLogs.push(d.logs);
  });
  afterAll(async () => {
    await d?.close();
  });

  it('records the text as dry_run, logs it with a masked number, and calls no gateway', async () => {
    const phone = num(30);
    const before = atCalls.length;
    const { ref } = await fileReport(d, phone);
    const row = await followupOf(d, ref, ['dry_run', 'sent', 'failed']);
    expect(row).toMatchObject({ status: 'dry_run', transport: 'dry-run', gateway_message_id: null, attempts: 1, segments: 1, encoding: 'GSM-7' });
    expect(row.text).toBe(renderSms(d.ctx.flows.live(), 'fr', 'report:sms.report_ack', { ref }).text);
    expect(row.sent_at).not.toBeNull();
    expect(atCalls.length).toBe(before);
    expect(callsTo(phone)).toHaveLength(0);

    const masked = maskPhone(phone);
    expect(masked).toBe('+223 76 •• •• 30');
    const line = d.logs.find((l) => l.includes('dry-run SMS') && l.includes(ref));
    expect(line).toBeDefined();
    const entry = JSON.parse(line!) as { msg: string; to: string; ref: string };
    expect(entry.msg).toContain(row.text!);
    expect(entry.to).toBe(masked);
    expect(entry.ref).toBe(ref);
  });
});

describe('metrics', () => {
  it('/metrics exposes the queue depth and the messages by status', async () => {
    const { ref } = await fileReport(h, num(40));
    expect((await followupOf(h, ref, ['sent', 'failed'])).status).toBe('sent');
    const byStatus = async () =>
      Object.fromEntries(
        (await h.ctx.db.selectFrom('sms_outbox').select((eb) => ['status', eb.fn.countAll<string>().as('n')]).groupBy('status').execute()).map((r) => [r.status, Number(r.n)]),
      );
    const before = await byStatus();
    const res = await fetch(`${h.base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(await byStatus()).toEqual(before);
    expect(before.sent).toBeGreaterThan(0);

    expect(text).toMatch(/^# TYPE kalata_sms_queue_jobs gauge$/m);
    for (const state of ['waiting', 'active', 'delayed', 'failed', 'completed']) {
      expect(text).toMatch(new RegExp(`^kalata_sms_queue_jobs\\{state="${state}"\\} \\d+$`, 'm'));
    }
    expect(text).toMatch(/^kalata_sms_queue_jobs\{state="completed"\} [1-9]\d*$/m);
    expect(text).toMatch(/^# TYPE kalata_sms_messages gauge$/m);
    for (const [status, n] of Object.entries(before)) expect(text).toContain(`kalata_sms_messages{status="${status}"} ${n}\n`);
    expect(text).toMatch(/^kalata_sms_sends_total\{outcome="accepted"\} [1-9]\d*$/m);
  });
});

describe('privacy', () => {
  it('no log line of any process names a test number', () => {
    expect(testNumbers.size).toBeGreaterThan(10);
    const logs = allLogs.map((l) => l.join('')).join('');
    expect(logs.length).toBeGreaterThan(0);
    for (const phone of testNumbers) {
      expect(logs).not.toContain(phone);
      expect(logs).not.toContain(phone.slice(4)); // the 8 national digits
    }
  });
});

describe('the default retry policy (no override)', () => {
  let d: Harness;
  beforeAll(async () => {
    d = await startHarness('sms default policy', { context: { worker: false } });
  });
  afterAll(() => d.close());

  it('a follow-up is queued for 6 attempts with exponential backoff from 30 s, as the README says', async () => {
    const { ref } = await fileReport(d, '+22376009901');
    const [row] = await waitFor(`${ref} to be queued`, () => outboxByRef(d, ref), (r) => r.length === 1 && r[0]!.status === 'queued');
    const job = await d.ctx.sms.queue.getJob(`sms-${row!.id}`);
    expect(job?.opts).toMatchObject({ attempts: 6, backoff: { type: 'exponential', delay: 30_000 } });
  });
});
