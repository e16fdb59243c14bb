/**
 * People who report fraud can be at risk: after a busy session of calls,
 * reports, SMS and console work, no log line holds a raw number or a key,
 * queue jobs hold ids only, and old encrypted numbers are deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { forgetOldNumbers } from '../../src/store/sms-store.js';
import { converse, startHarness, type Harness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

const KEYS = { PHONE_HASH_KEY: 'hash-key-'.repeat(5), DATA_ENCRYPTION_KEY: 'cd'.repeat(32), AT_USERNAME: 'sandbox', AT_API_KEY: 'at-api-key-secret-value' };
const phones = ['+22376400001', '+22366400002', '+22390400003'];
let h: Harness;

beforeAll(async () => {
  h = await startHarness('privacy', { env: { ...KEYS, LOG_LEVEL: 'debug' }, context: { worker: false } });
  for (const [i, phone] of phones.entries()) {
    await converse(h, { sessionId: `ATUid_priv_${i}`, phoneNumber: phone }, ['1', '2', '1', '1', '1', '1', `Kati ${phone}`, `Appelez-moi au ${phone.slice(4)}`, '1']);
    await fetch(`${h.base}/sms/africastalking/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ id: `in-${i}`, from: phone, to: '36000', text: 'STOP', date: '2026-11-24 05:00:00' }).toString(),
    });
  }
});
afterAll(() => h.close());

describe('privacy', () => {
  it('writes no raw number and no key in any log line', () => {
    const logs = h.logs.join('');
    // The scan reads real logs: the session did log its reports and SMS.
    expect(logs).toMatch(/fraud report filed/);
    expect(logs).toMatch(/inbound SMS/);
    for (const phone of phones) {
      expect(logs).not.toContain(phone);
      expect(logs).not.toContain(phone.slice(4)); // the local 8-digit form
    }
    expect(logs).not.toMatch(/\+?223\d{8}/);
    for (const key of Object.values(KEYS).filter((k) => k !== 'sandbox')) expect(logs).not.toContain(key);
  });

  it('puts only message ids in queue jobs', async () => {
    const jobs = await h.ctx.sms.queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) expect(Object.keys(job.data)).toEqual(['messageId']);
    expect(JSON.stringify(jobs.map((j) => j.data))).not.toMatch(/223\d{8}|\d{8}/);
  });

  it('deletes encrypted numbers past their retention, keeping the reports', async () => {
    const before = await h.ctx.db.selectFrom('reports').select('phone_enc').execute();
    expect(before.every((r) => r.phone_enc !== null)).toBe(true);
    await h.ctx.db.updateTable('reports').set({ created_at: new Date(Date.now() - 31 * 24 * 3600 * 1000) }).execute();
    await h.ctx.db.updateTable('sms_outbox').set({ created_at: new Date(Date.now() - 31 * 24 * 3600 * 1000), status: 'sent' }).execute();
    expect(await forgetOldNumbers(h.ctx.db, 30)).toBeGreaterThanOrEqual(phones.length);
    const after = await h.ctx.db.selectFrom('reports').select(['phone_enc', 'ref']).execute();
    expect(after).toHaveLength(phones.length);
    expect(after.every((r) => r.phone_enc === null)).toBe(true);
    const sms = await h.ctx.db.selectFrom('sms_outbox').select('phone_enc').execute();
    expect(sms.every((m) => m.phone_enc === null)).toBe(true);
  });
});

describe('the retention loop (PHONE_RETENTION_DAYS), as the worker runs it', () => {
  it('deletes, by itself, the encrypted numbers older than PHONE_RETENTION_DAYS and keeps the newer', async () => {
    // Reports filed now, then aged: one past a 7-day retention, one within it.
    const first = await startHarness('retention loop', { env: { ...KEYS, PHONE_RETENTION_DAYS: '7' }, context: { worker: false } });
    const refs: string[] = [];
    for (const [i, phone] of ['+22376400011', '+22376400012'].entries()) {
      const replies = await converse(first, { sessionId: `ATUid_ret_${i}`, phoneNumber: phone }, ['1', '2', '1', '1', '1', '1', 'Kati', 'Des billets distribués', '1']);
      refs.push(/KA-[0-9A-Z]{7}/.exec(replies.at(-1)!)![0]);
    }
    const age = (ref: string, days: number) =>
      first.ctx.db.updateTable('reports').set({ created_at: new Date(Date.now() - days * 86_400_000) }).where('ref', '=', ref).execute();
    await age(refs[0]!, 8);
    await age(refs[1]!, 6);
    const databaseUrl = first.databaseUrl!;
    await first.close();
    // A worker on the same database: its relay loop applies the retention at its first pass.
    const worker = await startHarness('retention loop worker', { databaseUrl, env: { ...KEYS, PHONE_RETENTION_DAYS: '7' }, context: { worker: true, smsRelayEveryMs: 100 } });
    try {
      const encrypted = () => worker.ctx.db.selectFrom('reports').select(['ref', 'phone_enc']).where('ref', 'in', refs).execute();
      const rows = await waitFor('the old number to be deleted', encrypted, (r) => r.some((x) => x.ref === refs[0] && x.phone_enc === null), 10_000);
      expect(rows.find((x) => x.ref === refs[1])!.phone_enc).not.toBeNull();
      // The log line is written once the delete has returned: a moment after the row is seen gone.
      const logged = await waitFor('the deletion to be logged', async () => worker.logs.join(''), (l) => /deleted encrypted numbers past their retention/.test(l), 5_000);
      expect(logged).toMatch(/deleted encrypted numbers past their retention/);
    } finally {
      await worker.close();
    }
  });
});
