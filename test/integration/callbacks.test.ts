/**
 * "Ask for a person" end to end, on real PostgreSQL and Redis: a caller asks
 * to be called back through the Africa's Talking webhook, the request waits
 * in the operators' queue (one per number, the number only encrypted), two
 * operators race to claim it, the claimer reveals the number (audited) and
 * records the outcome (the number is deleted); a request nobody takes is
 * late; retention and a key rotation cover the new table; the simulator's
 * requests are marked and kept out of the queue.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { sql } from 'kysely';
import { rotateKeys } from '../../src/privacy/key-rotation.js';
import { decryptText, encryptText, pseudonymizePhone } from '../../src/privacy/phone.js';
import { callbackCounts, claimCallback, forgetOldCallbackNumbers, hasOpenCallback, insertCallback, listCallbacks } from '../../src/store/callback-store.js';
import { addUser } from '../../src/store/user-store.js';
import { createApp } from '../../src/web/app.js';
import { createCallbackRoutes } from '../../src/web/console/callbacks-routes.js';
import { consoleHeaders, loadSession, sameOriginOnly } from '../../src/web/console/console-auth.js';
import { converse, startHarness, type Harness } from '../support/harness.js';

const PASSWORD = 'a-long-test-password';
const CALLER = '+22376500001';
const CALLER_DIGITS = CALLER.replace(/\D/g, '');
const ASK = ['1', '6', '1', '1']; // French, the call-back option, "voter", yes

let h: Harness;
let server: Server;
/** The console with the call-back routes (mounted before the app, as console-router.ts will mount them). */
let base: string;

beforeAll(async () => {
  h = await startHarness('callbacks');
  await addUser(h.ctx.db, 'awa', 'operator', PASSWORD);
  await addUser(h.ctx.db, 'fatou', 'operator', PASSWORD);
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(consoleHeaders(false), sameOriginOnly, loadSession(h.ctx.db, false), createCallbackRoutes(h.ctx));
  app.use(createApp(h.ctx));
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await h?.close();
});

const rows = () => h.ctx.db.selectFrom('callbacks').selectAll().orderBy('id').execute();

/** Signs in and returns the session cookie. */
async function session(name: string): Promise<string> {
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ name, password: PASSWORD }).toString(),
  });
  expect(res.status).toBe(303);
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

async function csrfOf(cookie: string, path = '/callbacks'): Promise<string> {
  const html = await (await fetch(`${base}${path}`, { headers: { cookie } })).text();
  return /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
}

async function post(cookie: string, path: string, fields: Record<string, string>): Promise<{ status: number; html: string }> {
  const csrf = await csrfOf(cookie);
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: base },
    body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
  });
  return { status: res.status, html: await res.text() };
}

describe('a caller asks to be called back', () => {
  let id: string;

  it('files one request, the number only encrypted, the topic as chosen', async () => {
    const replies = await converse(h, { sessionId: 'ATUid_cb_1', phoneNumber: CALLER }, ASK);
    expect(replies[2]).toMatch(/^CON Demander qu'un conseiller vous rappelle/);
    expect(replies[3]).toMatch(/gardé chiffré 30 jours au plus/);
    expect(replies[4]).toBe('END Demande enregistrée. Un conseiller essaiera de vous rappeler sur ce téléphone.');
    const [row, ...more] = await rows();
    expect(more).toEqual([]);
    expect(row).toMatchObject({ status: 'waiting', language: 'fr', topic: 'voter', simulated: false, claimed_by: null, phone_hash: pseudonymizePhone(h.ctx.secrets.phoneHashKey, CALLER) });
    expect(decryptText(h.ctx.secrets.dataEncryptionKey, row!.phone_enc!)).toBe(CALLER);
    const call = await h.ctx.db.selectFrom('calls').select('id').where('gateway_session_id', '=', 'ATUid_cb_1').executeTakeFirstOrThrow();
    expect(row!.call_id).toBe(call.id);
    id = row!.id;
  });

  it('never keeps the number in clear: not in any table, not in the logs', async () => {
    const { rows: tables } = await sql<{ t: string }>`select table_name as t from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(h.ctx.db);
    for (const { t } of tables) {
      const { rows: found } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(t)} x where x::text like ${`%${CALLER_DIGITS.slice(3)}%`}`.execute(h.ctx.db);
      expect([t, found[0]!.n]).toEqual([t, 0]);
    }
    expect(h.logs.join('')).not.toContain(CALLER_DIGITS.slice(3));
  });

  it('a retried last turn (the gateway sends it again) files no second request', async () => {
    const again = await h.at({ sessionId: 'ATUid_cb_1', phoneNumber: CALLER, serviceCode: '*384*123#', networkCode: '99999', text: ASK.join('*') });
    expect(again.body).toBe('END Demande enregistrée. Un conseiller essaiera de vous rappeler sur ce téléphone.');
    // And a write of the same call's request again (a turn written twice) adds nothing.
    expect(await insertCallback(h.ctx.db, { callId: (await rows())[0]!.call_id, phoneHash: 'other', phoneEnc: 'x', language: 'fr', topic: null })).toBe(false);
    expect(await rows()).toHaveLength(1);
  });

  it('a second request from the same number while the first waits: no new row, and the caller is told', async () => {
    // The language is remembered now: the home menu comes first.
    const replies = await converse(h, { sessionId: 'ATUid_cb_2', phoneNumber: CALLER }, ['6']);
    expect(replies[1]).toMatch(/^END Une demande de rappel pour ce numéro attend déjà un conseiller/);
    expect(await rows()).toHaveLength(1);
  });

  it('shows in the queue, oldest first, with its topic in words and the number masked', async () => {
    const cookie = await session('awa');
    const html = await (await fetch(`${base}/callbacks`, { headers: { cookie } })).text();
    expect(html).toContain(`href="/callbacks/${id}"`);
    expect(html).toContain('Voter, inscription');
    expect(html).toContain('+223 76 •• •• 01');
    expect(html).not.toContain(CALLER_DIGITS.slice(3));
    expect(html).not.toMatch(/>\s*(waiting|voter)\s*</);
  });

  it('two operators claim at once: one gets it, the other is told plainly who has it', async () => {
    const [awa, fatou] = [await session('awa'), await session('fatou')];
    const answers = await Promise.all([post(awa, `/callbacks/${id}/claim`, {}), post(fatou, `/callbacks/${id}/claim`, {})]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const winner = answers[0]!.status === 200 ? 'awa' : 'fatou';
    const loser = answers.find((a) => a.status === 409)!;
    expect(loser.html).toContain(`Trop tard : ${winner} a déjà pris cette demande.`);
    expect((await rows())[0]).toMatchObject({ status: 'claimed', claimed_by: winner });
    // Put back for the rest of the file (awa works it).
    await h.ctx.db.updateTable('callbacks').set({ claimed_by: 'awa' }).where('id', '=', id).execute();
  });

  it('the store claims atomically: of ten claims at once, one wins', async () => {
    await insertCallback(h.ctx.db, { callId: null, phoneHash: 'race', phoneEnc: encryptText(h.ctx.secrets.dataEncryptionKey, '+22376500099'), language: 'fr', topic: 'other' });
    const raced = (await rows()).find((r) => r.phone_hash === 'race')!;
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => claimCallback(h.ctx.db, raced.id, `op${i}`)));
    expect(claims.filter((c) => c.ok)).toHaveLength(1);
    const winner = (await rows()).find((r) => r.id === raced.id)!.claimed_by;
    expect(claims.filter((c) => !c.ok)).toEqual(Array.from({ length: 9 }, () => ({ ok: false, reason: 'taken', claimedBy: winner, status: 'claimed' })));
    await h.ctx.db.deleteFrom('callbacks').where('id', '=', raced.id).execute();
  });

  it('reveals the number only to its claimer, with a reason, and audits it', async () => {
    const [awa, fatou] = [await session('awa'), await session('fatou')];
    const audits = () => h.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'reveal_callback_number').execute();
    const other = await post(fatou, `/callbacks/${id}/reveal`, { reason: 'je veux voir' });
    expect(other.status).toBe(409);
    expect(other.html).not.toContain(CALLER_DIGITS.slice(3));
    const short = await post(awa, `/callbacks/${id}/reveal`, { reason: 'x' });
    expect(short.status).toBe(400);
    expect(await audits()).toEqual([]);
    const shown = await post(awa, `/callbacks/${id}/reveal`, { reason: 'rappel demandé par l’appelant' });
    expect(shown.status).toBe(200);
    expect(shown.html).toContain(CALLER);
    expect(shown.html).toContain('cette consultation est journalisée');
    const [entry, ...others] = await audits();
    expect(others).toEqual([]);
    expect(entry).toMatchObject({ user_name: 'awa', target: `rappel ${id}` });
    expect(entry!.detail).toMatch(/^rappel demandé par l’appelant \(depuis /);
    expect(h.logs.join('')).not.toContain(CALLER_DIGITS.slice(3));
  });

  it('records the outcome and a note, closes the request and deletes the number', async () => {
    const awa = await session('awa');
    const bad = await post(awa, `/callbacks/${id}/outcome`, { outcome: 'expired' });
    expect(bad.status).toBe(400);
    const done = await post(awa, `/callbacks/${id}/outcome`, { outcome: 'reached', note: 'question sur la carte' });
    expect(done.status).toBe(200);
    expect(done.html).toContain('Joint : appelant rappelé');
    expect((await rows())[0]).toMatchObject({ status: 'done', outcome: 'reached', note: 'question sur la carte', phone_enc: null, claimed_by: 'awa' });
    // Nothing open any more: the caller may ask again.
    expect(await hasOpenCallback(h.ctx.db, pseudonymizePhone(h.ctx.secrets.phoneHashKey, CALLER))).toBe(false);
    const replies = await converse(h, { sessionId: 'ATUid_cb_3', phoneNumber: CALLER }, ['6', '3', '1']);
    expect(replies[3]).toMatch(/^END Demande enregistrée/);
    expect((await rows()).filter((r) => r.status === 'waiting')).toHaveLength(1);
  });
});

describe('the answer time', () => {
  it('flags a request nobody took within CALLBACK_ANSWER_MINUTES as late, in the counts and on the page', async () => {
    const minutes = h.ctx.config.callbackAnswerMinutes;
    expect(minutes).toBe(30);
    const open = (await rows()).find((r) => r.status === 'waiting')!;
    expect(await callbackCounts(h.ctx.db, { lateAfterMinutes: minutes })).toMatchObject({ waiting: 1, late: 0 });
    const cookie = await session('fatou');
    expect(await (await fetch(`${base}/callbacks`, { headers: { cookie } })).text()).not.toContain('en retard</strong>');
    const asked = new Date(Date.now() - (minutes + 1) * 60_000);
    await h.ctx.db.updateTable('callbacks').set({ created_at: asked }).where('id', '=', open.id).execute();
    const counts = await callbackCounts(h.ctx.db, { lateAfterMinutes: minutes });
    expect(counts).toEqual({ waiting: 1, late: 1, oldestWaitingAt: asked });
    const html = await (await fetch(`${base}/callbacks`, { headers: { cookie } })).text();
    expect(html).toContain('en retard</strong>');
    expect(html).toMatch(/<b id="late-count">1<\/b>/);
    // A claimed request is someone's: no longer late.
    expect((await claimCallback(h.ctx.db, open.id, 'fatou')).ok).toBe(true);
    expect(await callbackCounts(h.ctx.db, { lateAfterMinutes: minutes })).toEqual({ waiting: 0, late: 0, oldestWaitingAt: null });
  });
});

describe('the simulator', () => {
  it('marks its requests, and the queue and counts leave them out unless asked', async () => {
    const call = async (body: Record<string, unknown>) =>
      (await (await fetch(`${base}/simulator/call`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify(body) })).json()) as {
        call: string;
        screen: { text: string };
        effects: string[];
      };
    const phone = '+22370000042';
    let r = await call({ phone, lang: 'fr' });
    let seq = 0;
    for (const input of ['6', '2', '1']) r = await call({ phone, lang: 'fr', call: r.call, seq: ++seq, input });
    expect(r.screen.text).toMatch(/^Demande enregistrée/);
    expect(r.effects).toEqual(['Demande de rappel mise dans la file des rappels (marquée essai du simulateur)']);
    const simulated = (await rows()).filter((x) => x.simulated);
    expect(simulated).toHaveLength(1);
    expect(simulated[0]).toMatchObject({ topic: 'report', status: 'waiting' });
    const queue = await listCallbacks(h.ctx.db, { lateAfterMinutes: 30 });
    expect(queue.open.some((x) => x.simulated)).toBe(false);
    expect((await listCallbacks(h.ctx.db, { lateAfterMinutes: 30, simulated: true })).open.some((x) => x.simulated)).toBe(true);
    expect((await callbackCounts(h.ctx.db, { lateAfterMinutes: 30 })).waiting).toBe(0);
    await h.ctx.db.deleteFrom('callbacks').where('simulated', '=', true).execute();
  });
});

describe('privacy', () => {
  it('retention forgets the numbers past PHONE_RETENTION_DAYS, and closes what was still open as expired', async () => {
    const old = new Date(Date.now() - 31 * 24 * 3600 * 1000);
    await h.ctx.db.updateTable('callbacks').set({ created_at: old }).execute();
    expect((await rows()).some((r) => r.phone_enc !== null)).toBe(true);
    expect(await forgetOldCallbackNumbers(h.ctx.db, h.ctx.config.phoneRetentionDays)).toBeGreaterThan(0);
    const after = await rows();
    expect(after.every((r) => r.phone_enc === null && r.status === 'done')).toBe(true);
    expect(after.find((r) => r.outcome === 'expired')).toBeDefined();
    // Expired, the caller may ask again.
    const replies = await converse(h, { sessionId: 'ATUid_cb_4', phoneNumber: CALLER }, ['6', '1', '1']);
    expect(replies[3]).toMatch(/^END Demande enregistrée/);
  });

  it('a key rotation re-encrypts and re-keys the call-back requests', async () => {
    const to = { phoneHashKey: randomBytes(32).toString('base64url'), dataEncryptionKey: randomBytes(32).toString('hex') };
    const summary = await rotateKeys(h.ctx.db, { from: h.ctx.secrets, to, otherConnections: 'ignore', dropVoters: true, loseOptouts: true });
    expect(summary.resealed.callbacks).toBe(1);
    const open = (await rows()).find((r) => r.status === 'waiting')!;
    expect(decryptText(to.dataEncryptionKey, open.phone_enc!)).toBe(CALLER);
    expect(() => decryptText(h.ctx.secrets.dataEncryptionKey, open.phone_enc!)).toThrow();
    expect(open.phone_hash).toBe(pseudonymizePhone(to.phoneHashKey, CALLER));
    // The finished ones keep no number: their pseudonym follows the caller's kept number.
    expect((await rows()).every((r) => r.phone_hash === pseudonymizePhone(to.phoneHashKey, CALLER))).toBe(true);
  });
});
