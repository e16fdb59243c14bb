/**
 * The webhook's guards (path secret, service-code allowlist) and its promise
 * that a failing dependency still gets the caller a localized END.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { converse, startHarness, type Harness } from '../support/harness.js';

const call = { sessionId: 'ATUid_guard', phoneNumber: '+22376000020', serviceCode: '*384*123#', text: '' };

describe('WEBHOOK_SECRET and USSD_SERVICE_CODES', () => {
  const secret = 'a-long-secret-of-32-characters-x';
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('guards', { env: { WEBHOOK_SECRET: secret, USSD_SERVICE_CODES: '*384*123#, *384*124#' } });
  });
  afterAll(() => h.close());

  it('answers 404 on the bare path and on a wrong secret', async () => {
    expect((await h.at(call)).status).toBe(404);
    expect((await h.at(call, '/ussd/africastalking/wrong-secret-of-32-characters-xx')).status).toBe(404);
    expect((await h.at(call, `/ussd/africastalking/${secret}x`)).status).toBe(404);
  });

  it('serves the path with the secret', async () => {
    const res = await h.at({ ...call, sessionId: 'ATUid_guard_ok' }, `/ussd/africastalking/${secret}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/^CON Kalata/);
  });

  it('refuses a service code that is not ours', async () => {
    const res = await h.at({ ...call, sessionId: 'ATUid_guard_code', serviceCode: '*999#' }, `/ussd/africastalking/${secret}`);
    expect(res).toEqual({ status: 403, body: 'serviceCode is not served here' });
    const other = await h.at({ ...call, sessionId: 'ATUid_guard_code2', serviceCode: '*384*124#' }, `/ussd/africastalking/${secret}`);
    expect(other.status).toBe(200);
  });
});

describe('a failing dependency', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('failing db');
  });
  afterAll(() => h.close());

  it('keeps serving the caller when the database is gone, and says so on /readyz', async () => {
    await h.at({ ...call, sessionId: 'ATUid_fail_1' });
    await h.ctx.db.destroy();
    const res = await h.at({ ...call, sessionId: 'ATUid_fail_2' });
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/^CON /);
    const ready = await fetch(`${h.base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'degraded', checks: { redis: 'ok', database: 'down' } });
  });

  it('logs the outage without the phone number', () => {
    const lines = h.logs.join('');
    expect(lines).toMatch(/database unavailable: turn spooled/);
    expect(lines).not.toMatch(/76000020/);
  });
});

describe('a report reference that is already taken', () => {
  let h: Harness;
  const refs = ['KA-AAAAAAA', 'KA-AAAAAAA', 'KA-BBBBBBB'];
  beforeAll(async () => {
    h = await startHarness('ref collision', { context: { mintReference: () => refs.shift() ?? 'KA-CCCCCCC' } });
  });
  afterAll(() => h.close());

  it('gets the second caller a fresh reference, and both reports are kept', async () => {
    const path = ['1', '2', '1', '1', '1', '1', 'Kati', 'Des billets distribués', '1'];
    const first = await converse(h, { sessionId: 'ATUid_ref_1', phoneNumber: '+22376000031' }, path);
    const second = await converse(h, { sessionId: 'ATUid_ref_2', phoneNumber: '+22376000032' }, path);
    expect(first[9]).toMatch(/KA-AAAAAAA/);
    expect(second[9]).toMatch(/KA-BBBBBBB/);
    const reports = await h.ctx.db.selectFrom('reports').select(['ref']).orderBy('ref').execute();
    expect(reports.map((r) => r.ref)).toEqual(['KA-AAAAAAA', 'KA-BBBBBBB']);
    const sms = await h.ctx.db.selectFrom('sms_outbox').select(['ref']).orderBy('ref').execute();
    expect(sms.map((r) => r.ref)).toEqual(['KA-AAAAAAA', 'KA-BBBBBBB']);
  });
});

describe('rate limits, shared in Redis', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('rate limits', { env: { RATE_LIMIT_PER_PHONE: '5', RATE_LIMIT_PER_IP: '0' } });
  });
  afterAll(() => h.close());

  it('answers a number over its per-minute limit with a polite END, other numbers unaffected', async () => {
    const call = { sessionId: 'ATUid_rate_1', phoneNumber: '+22376000041', serviceCode: '*384*123#' };
    const texts = ['', '1', '1*1', '1*1*1', '1*1*1*0'];
    for (const text of texts) expect((await h.at({ ...call, text })).body).toMatch(/^CON /);
    const over = await h.at({ ...call, text: '1*1*1*0*2' });
    expect(over).toEqual({ status: 200, body: 'END Trop de demandes en peu de temps. Rappelez dans une minute. Merci.' });
    const other = await h.at({ sessionId: 'ATUid_rate_2', phoneNumber: '+22376000042', serviceCode: '*384*123#', text: '' });
    expect(other.body).toMatch(/^CON /);
  });
});

describe('a per-address limit', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('ip limits', { env: { RATE_LIMIT_PER_PHONE: '0', RATE_LIMIT_PER_IP: '3' } });
  });
  afterAll(() => h.close());

  it('counts every number calling from one address', async () => {
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push((await h.at({ sessionId: `ATUid_ip_${i}`, phoneNumber: `+2237600005${i}`, serviceCode: '*384*123#', text: '' })).body);
    expect(replies.slice(0, 3).every((r) => r.startsWith('CON '))).toBe(true);
    expect(replies[3]).toMatch(/^END Trop de demandes/);
  });
});
