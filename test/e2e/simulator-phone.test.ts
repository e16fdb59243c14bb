/**
 * The simulator as a phone, in a real headless Chromium on real PostgreSQL
 * and Redis, with the SMS worker and its outbox relay running: a call from a
 * test number to a report with a discreet SMS, the call's history, the SMS in
 * the phone's inbox, STATUT <ref> by SMS and its reply, and a whole call in
 * Bambara. The worker runs with a transport that stands for a real gateway
 * (as with Africa's Talking credentials): no simulator SMS may ever reach it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addUser } from '../../src/store/user-store.js';
import { pseudonymizePhone } from '../../src/privacy/phone.js';
import { converse, startHarness, type Harness } from '../support/harness.js';
import { listReports } from '../../src/store/console-queries.js';
import type { SmsTransport } from '../../src/sms/transport.js';
import { launchChromium } from '../support/browser.js';
import { waitFor } from '../support/wait.js';

const artifacts = join(process.cwd(), 'test', 'artifacts');
const PASSWORD = 'a-long-test-password';
const PHONE = '+22370000001';
let h: Harness;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** What the stand-in for a real gateway was asked to send: numbers only. */
const gatewaySent: string[] = [];
const realGateway: SmsTransport = {
  name: 'africastalking',
  async send(to) {
    gatewaySent.push(to);
    return { kind: 'accepted', messageId: `ATXid_${gatewaySent.length}`, status: 'Success', statusCode: 101, cost: 'XOF 0' };
  },
};
/** Everything a page logged as an error, CSP violations included. */
const browserErrors: string[] = [];

/** Polls from here: the console's CSP (no eval) blocks Playwright's in-page predicates. */
const until = (check: () => Promise<boolean>, what: string) => waitFor(what, check, (ok) => ok, 20_000);
const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').replace(/\s+/g, ' ').trim();
const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

/** Types an answer on the keypad (digits) or in the field (text), sends it, and waits for the screen to change. */
async function answer(input: string, expected: string) {
  await page.waitForSelector('#sim-input:not([disabled])');
  const before = await text('#sim-screen');
  if (/^[0-9*#]+$/.test(input)) {
    for (const key of input) await page.click(`.sim-key[data-key="${key}"]`);
    await page.click('#sim-send');
  } else {
    await page.fill('#sim-input', input);
    await page.press('#sim-input', 'Enter');
  }
  await until(async () => (await text('#sim-screen')) !== before, `the screen after ${input}`);
  expect(await text('#sim-screen')).toContain(expected);
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  h = await startHarness('simulator_phone', { context: { worker: true, smsRelayEveryMs: 200, smsTransport: realGateway } });
  await addUser(h.ctx.db, 'awa', 'operator', PASSWORD);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') browserErrors.push(`${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => browserErrors.push(`${page.url()}: ${err.message}`));
  page.on('dialog', () => {
    throw new Error('a dialog opened');
  });
  await page.goto(`${h.base}/login`);
  await page.fill('input[name=name]', 'awa');
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button:has-text("Se connecter")')]);
}, 60_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await h?.close();
});

describe('the simulator as a phone', () => {
  let ref = '';

  it('calls from a test number, files a report with a discreet SMS, and keeps the whole conversation', async () => {
    await page.goto(`${h.base}/simulator`, { waitUntil: 'load' });
    expect(await page.inputValue('#sim-phone')).toBe(PHONE);
    // Every control has a label.
    for (const id of ['sim-phone', 'sim-lang', 'sim-flow', 'sim-input', 'sim-sms-text']) {
      await expect(page.locator(`label[for="${id}"]`).count()).resolves.toBe(1);
    }
    await page.click('#sim-call');
    await until(async () => (await text('#sim-screen')).startsWith('Kalata: infos sur le vote'), 'the home screen, in French');
    await answer('2', 'Signaler une fraude');
    await answer('1', 'Un SMS de confirmation?');
    await answer('1', "Type d'incident");
    await answer('1', 'Région');
    await answer('5', 'Lieu');
    await answer('Quartier Médine', 'Décrivez');
    await answer('Des billets donnés devant le bureau', 'Envoyer ce signalement?');
    await answer('1', 'KA-');
    ref = /KA-[0-9A-Z]{7}/.exec(await text('#sim-screen'))![0];
    expect(await text('#sim-status')).toBe('Appel terminé');

    // The history: every screen and every key, in order.
    const history = await page.locator('#sim-history li').allTextContents();
    const typed = history.filter((l) => l.startsWith('Touches')).map((l) => l.replace(/^Touches/, ''));
    expect(typed).toEqual(['2', '1', '1', '1', '5', 'Quartier Médine', 'Des billets donnés devant le bureau', '1']);
    expect(history.filter((l) => l.startsWith('Écran') || l.startsWith('Dernier écran'))).toHaveLength(9);
    expect(history[history.length - 1]).not.toContain('{');

    // The effects, in words.
    const effects = await text('#sim-effects');
    expect(effects).toContain(`Signalement ${ref} enregistré (avec SMS discret)`);
    // a real row, for STATUT, but marked: triage and counts leave it out
    const filed = await h.ctx.db.selectFrom('reports').select('simulated').where('ref', '=', ref).executeTakeFirstOrThrow();
    expect(filed.simulated).toBe(true);
    expect((await listReports(h.ctx.db, {})).rows.map((r) => r.ref)).not.toContain(ref);
    expect((await listReports(h.ctx.db, { simulated: true })).rows.map((r) => r.ref)).toContain(ref);
    expect(effects).toContain('SMS discret mis en file');
    expect(effects).not.toMatch(/[{}"]/);
    await shot('30-simulator-phone');
  }, 90_000);

  it('receives the follow-up SMS in the inbox, and it never goes near the worker', async () => {
    await until(async () => (await page.locator('#sim-inbox .sim-sms-in').count()) > 0, 'the follow-up SMS in the inbox');
    expect(await text('#sim-inbox')).toContain(ref);
    const phoneHash = pseudonymizePhone(h.ctx.secrets.phoneHashKey, PHONE);
    // Long enough for the outbox relay (every 200 ms here) to have seen it, were it pending.
    await new Promise((r) => setTimeout(r, 1500));
    const rows = await h.ctx.db.selectFrom('sms_outbox').select(['id', 'status', 'transport', 'attempts', 'text']).where('phone_hash', '=', phoneHash).execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toMatchObject({ status: 'dry_run', transport: 'simulator', attempts: 0 });
    const events = await h.ctx.db
      .selectFrom('sms_events')
      .select('status')
      .where(
        'message_id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    expect(events.map((e) => e.status)).not.toContain('sending');
    const call = await h.ctx.db.selectFrom('calls').select(['channel', 'phone_masked']).where('channel', '=', 'simulator').executeTakeFirstOrThrow();
    expect(call.phone_masked).not.toContain('70000001');
  }, 60_000);

  it('sends STATUT <ref> through the inbound SMS handling and shows the reply', async () => {
    await page.click('.sim-word[data-word="STATUT "]');
    expect(await page.inputValue('#sim-sms-text')).toBe(`STATUT ${ref}`);
    const before = await page.locator('#sim-inbox .sim-sms-in').count();
    await page.click('#sim-sms-send');
    await until(async () => (await page.locator('#sim-inbox .sim-sms-in').count()) > before, 'the reply to STATUT');
    const inbox = await page.locator('#sim-inbox li').allTextContents();
    expect(inbox.some((l) => l.startsWith('Envoyé') && l.includes(`STATUT ${ref}`))).toBe(true);
    expect(inbox[inbox.length - 1]).toContain(ref);
    const recorded = await h.ctx.db.selectFrom('sms_inbound').select(['keyword', 'reply_id']).where('keyword', '=', 'status').executeTakeFirstOrThrow();
    expect(recorded.reply_id).not.toBeNull();
    await page.locator('#sim-inbox').scrollIntoViewIfNeeded();
    await shot('31-simulator-inbox');
  }, 60_000);

  it('honours the language selector in "appel complet"', async () => {
    await page.selectOption('#sim-lang', 'bm');
    await page.selectOption('#sim-flow', '');
    await page.click('#sim-call');
    await until(async () => (await text('#sim-status')).includes('bambara'), 'a call in Bambara');
    expect(await text('#sim-screen')).toBe('Kalata 1. Wote cogo 2. Nanbara kofɔ 3. Wote biro 4. Dɛmɛ 98. Nɔfɛta');
    await answer('2', 'Nanbara kofɔ');
    expect(await text('#sim-meta')).toMatch(/ · \d+ UCS-2$/);
    await page.click('#sim-hangup');
    expect(await text('#sim-status')).toBe('Raccroché');
    await expect(page.locator('#sim-redial').isEnabled()).resolves.toBe(true);
  }, 60_000);

  it('still runs one flow alone, recording nothing, and fits a phone-sized screen', async () => {
    const calls = await h.ctx.db.selectFrom('calls').select('id').execute();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.selectOption('#sim-lang', 'fr');
    await page.selectOption('#sim-flow', 'vote');
    await page.click('#sim-call');
    await until(async () => (await text('#sim-meta')).startsWith('vote.'), 'the vote flow');
    expect(await text('#sim-history')).toContain("rien n'est enregistré");
    await answer('1', '');
    await expect(h.ctx.db.selectFrom('calls').select('id').execute()).resolves.toHaveLength(calls.length);
    await shot('32-simulator-narrow');
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.selectOption('#sim-flow', '');
  }, 60_000);

  it('never lets a simulator SMS reach the gateway, which real calls do reach', async () => {
    // A real caller's report with a discreet SMS: the stand-in gateway gets it.
    const replies = await converse(h, { sessionId: 'ATUid_sim_real', phoneNumber: '+22376300001' }, ['1', '2', '1', '1', '1', '5', 'Kati', 'Des billets', '1']);
    expect(replies[9]).toMatch(/KA-/);
    await until(async () => gatewaySent.length > 0, 'the real caller\'s SMS at the gateway');
    expect(gatewaySent).toEqual(['+22376300001']);
  }, 60_000);

  it("refuses a real caller's number, and never looks a NINA up", async () => {
    await page.fill('#sim-phone', '+22376300001');
    await page.click('#sim-call');
    await until(async () => !(await page.locator('#sim-error').isHidden()), 'the refusal');
    expect(await text('#sim-error')).toContain('vrai service');
    await page.fill('#sim-phone', PHONE);
    await page.fill('#sim-sms-text', 'BUREAU 12345678901234');
    await page.click('#sim-sms-send');
    await until(async () => (await text('#sim-error')).includes('NINA'), 'the NINA refusal');
    const stations = await h.ctx.db.selectFrom('sms_inbound').select('keyword').where('keyword', '=', 'station').execute();
    expect(stations).toEqual([]);
    // The real caller's opt-out state was never touched from here, and no simulator SMS ever left.
    expect(gatewaySent).toEqual(['+22376300001']);
  }, 60_000);

  it('refuses a number that is not one', async () => {
    await page.fill('#sim-phone', '12ab');
    await page.click('#sim-call');
    await until(async () => !(await page.locator('#sim-error').isHidden()), 'the error');
    expect(await text('#sim-error')).toContain("n'est pas un numéro");
  });

  it('logged no page error and no CSP violation', () => {
    // The refused number above is answered with a 400, which the browser logs as a failed load.
    expect(browserErrors.filter((e) => !/status of (400|409)/.test(e))).toEqual([]);
  });
});
