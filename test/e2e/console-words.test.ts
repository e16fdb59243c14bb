/**
 * Every console page in a real headless Chromium, as an admin sees it after
 * an evening of calls: no CSP violation, no page error, and no stored code,
 * template key or English status in the visible text. Screenshots
 * `20-…png` onward go to test/artifacts/.
 *
 * What may show a code on purpose (left out of the scan): `<code>` elements
 * (version hashes, node ids and text keys on the admin's Menus and Relecture
 * pages, gateway message ids), the simulator's screen and meta line (it is a
 * developer's phone: it shows the engine's node ids), `{{placeholders}}` in
 * the texts to review (the reviewer must keep them), and form values
 * (`<option value>`, hidden inputs: not visible text).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addUser } from '../../src/store/user-store.js';
import { converse, startHarness, type Harness } from '../support/harness.js';
import { launchChromium } from '../support/browser.js';
import { waitFor } from '../support/wait.js';
import { pattern, RAW_CODES, visibleText } from '../support/console-pages.js';

const artifacts = join(process.cwd(), 'test', 'artifacts');
const PASSWORD = 'a-long-test-password';

let h: Harness;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let ref: string;
/** What went wrong on the page being visited: CSP reports, console errors, uncaught errors. */
let problems: string[] = [];

const until = (check: () => Promise<boolean>, what: string) => waitFor(what, check, (ok) => ok, 20_000);

/** Visits a page, waits for it to settle, screenshots it, and returns the codes it shows. */
async function visit(path: string, shot: string, ready?: () => Promise<void>): Promise<string[]> {
  problems = [];
  const res = await page.goto(`${h.base}${path}`, { waitUntil: 'load' });
  expect([path, res?.status()]).toEqual([path, 200]);
  if (ready) await ready();
  await page.screenshot({ path: join(artifacts, `${shot}.png`), fullPage: true });
  const text = await visibleText(page);
  const found = RAW_CODES.filter((code) => pattern(code).test(text)).map((code) => `${path}: "${code.trim()}" in « ${context_(text, code)} »`);
  return [...problems.map((p) => `${path}: ${p}`), ...found];
}
const context_ = (text: string, code: string) => {
  const i = text.search(pattern(code));
  return text.slice(Math.max(0, i - 40), i + code.length + 40).replace(/\s+/g, ' ');
};

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  h = await startHarness('console_words', { context: { worker: true, smsRelayEveryMs: 200 } });
  await addUser(h.ctx.db, 'fatou', 'admin', PASSWORD);
  await addUser(h.ctx.db, 'ibrahim', 'operator', PASSWORD);
  // A finished fraud report (vote buying, Bamako, discreet SMS)…
  const replies = await converse(h, { sessionId: 'ATUid_words_report', phoneNumber: '+22376200001' }, ['1', '2', '1', '1', '1', '1', 'Quartier Médine', 'Des billets contre des cartes', '1']);
  ref = /KA-[0-9A-Z]{7}/.exec(replies[9]!)![0];
  // …an abandoned call (the gateway says it ended half-way)…
  await converse(h, { sessionId: 'ATUid_words_abandoned', phoneNumber: '+22376200002' }, ['1', '1']);
  await h.at({ sessionId: 'ATUid_words_abandoned', phoneNumber: '+22376200002', serviceCode: '*384*123#', networkCode: '99999', status: 'Incomplete', date: '2026-12-01 12:00:00', input: '1*1', durationInMillis: '20000', hopsCount: '3', cost: '0', lastAppResponse: 'CON Comment voter', errorMessage: '' }, '/ussd/africastalking/events');
  // …a call in Bambara, and an SMS from a caller asking for help.
  await converse(h, { sessionId: 'ATUid_words_bambara', phoneNumber: '+22376200003' }, ['2', '1', '1']);
  await fetch(`${h.base}/sms/africastalking/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ id: 'in-words-1', from: '+22376200004', to: '36000', text: 'AIDE', date: '2026-12-01 12:00:00' }).toString(),
  });
  // The worker sends (dry run) the report's SMS and the reply.
  await until(async () => {
    const rows = await h.ctx.db.selectFrom('sms_outbox').select('status').execute();
    return rows.length >= 2 && rows.every((r) => r.status === 'dry_run');
  }, 'the SMS sent in dry run');
  await until(async () => (await h.ctx.db.selectFrom('calls').select('id').execute()).length >= 3, 'the calls recorded');
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'fr-FR', timezoneId: 'Africa/Bamako' });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${h.base}/login`);
  await page.fill('input[name=name]', 'fatou');
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button:has-text("Se connecter")')]);
}, 90_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await h?.close();
});

describe('every console page, in French and CSP-clean', () => {
  it('shows no raw code, no English and no CSP violation on any page', async () => {
    const report = await h.ctx.db.selectFrom('reports').select('id').where('ref', '=', ref).executeTakeFirstOrThrow();
    const call = await h.ctx.db.selectFrom('calls').select('id').where('gateway_session_id', '=', 'ATUid_words_report').executeTakeFirstOrThrow();
    const sms = await h.ctx.db.selectFrom('sms_outbox').select('id').where('ref', '=', ref).executeTakeFirstOrThrow();
    const charts = async () => {
      await until(async () => ((await page.evaluate('window.Chart ? Object.keys(window.Chart.instances).length : 0')) as number) >= 6, 'the charts');
    };
    const pages: [string, string, (() => Promise<void>)?][] = [
      ['/', '20-dashboard'],
      ['/calls', '21-calls'],
      [`/calls/${call.id}`, '22-call'],
      ['/reports', '23-reports'],
      [`/reports/${report.id}`, '24-report'],
      ['/sms', '25-sms'],
      [`/sms/${sms.id}`, '26-sms-message'],
      ['/analytics', '27-analytics', charts],
      ['/flows', '28-menus'],
      ['/texts', '29-relecture'],
      ['/stations', '30-stations'],
      ['/accounts', '31-comptes'],
      ['/audit', '32-journal'],
      ['/simulator', '33-simulator'],
    ];
    const found: string[] = [];
    for (const [path, shot, ready] of pages) found.push(...(await visit(path, shot, ready)));
    expect(found).toEqual([]);
  }, 120_000);

  it('is not blind: an inline style and a raw code put in a page are both reported', async () => {
    problems = [];
    await page.goto(`${h.base}/`);
    // Markup parsed in the page: the CSP refuses the style attribute and says so on the console.
    await page.evaluate(`document.querySelector('main').insertAdjacentHTML('beforeend', '<p style="color: red">vote_buying sms:status</p><code>completed</code>')`);
    await until(async () => problems.some((p) => /Content Security Policy/i.test(p)), 'the CSP report');
    const text = await visibleText(page);
    expect(RAW_CODES.filter((code) => pattern(code).test(text))).toEqual(['vote_buying', 'sms:']);
  });

  it('says what each call, report and SMS is in words', async () => {
    await page.goto(`${h.base}/calls`);
    const calls = (await page.locator('#calls tbody').innerText()).replace(/\s+/g, ' ');
    for (const word of ['Terminé', 'Abandonné', 'bambara', 'français']) expect(calls).toContain(word);
    const call = await h.ctx.db.selectFrom('calls').select('id').where('gateway_session_id', '=', 'ATUid_words_report').executeTakeFirstOrThrow();
    await page.goto(`${h.base}/calls/${call.id}`);
    await expect(page.locator('main > p').first().innerText()).resolves.toMatch(/en français · .* · terminé ·/);
    await page.goto(`${h.base}/reports`);
    await expect(page.locator('#reports tbody').innerText()).resolves.toMatch(/Achat de votes\s+District de Bamako/);
    const report = await h.ctx.db.selectFrom('reports').select('id').where('ref', '=', ref).executeTakeFirstOrThrow();
    await page.goto(`${h.base}/reports/${report.id}`);
    await expect(page.locator('#report-sms').innerText()).resolves.toMatch(new RegExp(`Confirmation de signalement\\s+Kalata: message ${ref} enregistré[\\s\\S]*Non envoyé \\(mode essai\\)`));
    await expect(page.locator('#footer').innerText()).resolves.toBe('Heures affichées : heure de Bamako (GMT).');
    // Dates read as in Bamako: 01/12/2026 16:36.
    await expect(page.locator('#history tbody, main table').first().innerText()).resolves.toMatch(/\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}/);
  });

  it('filters with selects built from the flows, keeping the codes in the address', async () => {
    await page.goto(`${h.base}/reports`);
    await page.selectOption('#filter-region', { label: 'District de Bamako' });
    await Promise.all([page.waitForURL(/region=bamako/), page.click('button:has-text("Filtrer")')]);
    await expect(page.locator('#reports tbody tr').count()).resolves.toBe(1);
    await page.goto(`${h.base}/calls`);
    await page.selectOption('#filter-outcome', { label: 'Abandonné' });
    await page.selectOption('#filter-lang', { label: 'français' });
    await Promise.all([page.waitForURL(/outcome=abandoned/), page.click('button:has-text("Filtrer")')]);
    expect(page.url()).toMatch(/lang=fr/);
    await expect(page.locator('#calls tbody tr').count()).resolves.toBe(1);
    const options = await page.locator('#filter-node option').allInnerTexts();
    expect(options).toContain('Comment voter');
    await page.goto(`${h.base}/sms`);
    await page.selectOption('#filter-sms-status', { label: 'Non envoyé (mode essai)' });
    await Promise.all([page.waitForURL(/status=dry_run/), page.click('button:has-text("Filtrer")')]);
    await expect(page.locator('#outbox tbody tr').count()).resolves.toBeGreaterThanOrEqual(2);
  });

  it('gives an operator who opens an admin page a French page in the layout, with a 403', async () => {
    const other = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'fr-FR', timezoneId: 'Africa/Bamako' });
    const p = await other.newPage();
    await p.goto(`${h.base}/login`);
    await p.fill('input[name=name]', 'ibrahim');
    await p.fill('input[name=password]', PASSWORD);
    await Promise.all([p.waitForURL((u) => !u.pathname.startsWith('/login')), p.click('button:has-text("Se connecter")')]);
    const res = await p.goto(`${h.base}/audit`);
    expect(res?.status()).toBe(403);
    await expect(p.locator('#forbidden').innerText()).resolves.toMatch(/réservée aux administrateurs/);
    await expect(p.locator('header .who').innerText()).resolves.toContain('ibrahim');
    await p.screenshot({ path: join(artifacts, '34-forbidden.png'), fullPage: true });
    await other.close();
  });
});
