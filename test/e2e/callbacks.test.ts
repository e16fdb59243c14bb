/**
 * The call-back queue in a real headless Chromium, as operators on election
 * night use it: two callers asked to be called back (one long ago: late);
 * awa sees the queue, claims the oldest, reveals the number with a reason and
 * records the outcome; fatou, on a page loaded before, tries the same one and
 * is told who has it. Every page is checked for CSP violations, page errors
 * and raw codes. Screenshots: test/artifacts/60-callbacks.png, 61-callback.png.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addUser } from '../../src/store/user-store.js';
import { createApp } from '../../src/web/app.js';
import { createCallbackRoutes } from '../../src/web/console/callbacks-routes.js';
import { consoleHeaders, loadSession, sameOriginOnly } from '../../src/web/console/console-auth.js';
import { launchChromium } from '../support/browser.js';
import { rawCodesIn, signIn, watchProblems } from '../support/console-pages.js';
import { converse, startHarness, type Harness } from '../support/harness.js';

const artifacts = join(process.cwd(), 'test', 'artifacts');
const PASSWORD = 'a-long-test-password';
const EARLY = '+22376600001';
const LATER = '+22376600002';
/** The codes this table stores, which must never reach the page either (RAW_CODES has the older ones). */

let h: Harness;
let server: Server;
let base: string;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function operatorPage(name: string): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'fr-FR', timezoneId: 'Africa/Bamako' });
  contexts.push(context);
  const page = await context.newPage();
  const problems = watchProblems(page);
  await signIn(page, base, name, PASSWORD);
  // Only the call-back pages are this file's to judge: signing in lands on the dashboard (and its favicon request).
  await page.goto(`${base}/callbacks`);
  problems.length = 0;
  return { page, problems };
}

/** Raw codes of the older list and of this table's, in the visible text. */
async function codesOn(page: Page): Promise<string[]> {
  // The call-back codes are in RAW_CODES (test/support/console-pages.ts) with the rest.
  return (await rawCodesIn(page)).map((found) => found.split(' in ')[0]!);
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  h = await startHarness('callbacks_e2e');
  await addUser(h.ctx.db, 'awa', 'operator', PASSWORD);
  await addUser(h.ctx.db, 'fatou', 'operator', PASSWORD);
  // The oldest request (about a report), nobody took it for 40 minutes; a newer one in Bambara.
  await converse(h, { sessionId: 'ATUid_cbe_1', phoneNumber: EARLY }, ['1', '6', '2', '1']);
  await h.ctx.db.updateTable('callbacks').set({ created_at: new Date(Date.now() - 40 * 60_000) }).execute();
  await converse(h, { sessionId: 'ATUid_cbe_2', phoneNumber: LATER }, ['2', '98', '6', '1', '98', '1']);
  expect(await h.ctx.db.selectFrom('callbacks').select('id').execute()).toHaveLength(2);
  // The console with the call-back routes, mounted as console-router.ts will mount them.
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(consoleHeaders(false), sameOriginOnly, loadSession(h.ctx.db, false), createCallbackRoutes(h.ctx));
  app.use(createApp(h.ctx));
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await h?.close();
});

describe('the call-back queue', () => {
  it('an operator sees the queue, claims the oldest, reveals the number with a reason and records the outcome', async () => {
    const awa = await operatorPage('awa');
    const fatou = await operatorPage('fatou');
    const [oldest, newer] = await h.ctx.db.selectFrom('callbacks').select(['id', 'language']).orderBy('created_at').execute();
    await fatou.page.goto(`${base}/callbacks`);

    // The queue, oldest first, the late one flagged, in French.
    await awa.page.goto(`${base}/callbacks`);
    const rowIds = await awa.page.$$eval('#callbacks tr.callback-row', (trs) => trs.map((tr) => tr.getAttribute('data-id')));
    expect(rowIds).toEqual([oldest!.id, newer!.id]);
    const first = awa.page.locator(`#callbacks tr[data-id="${oldest!.id}"]`);
    expect(await first.innerText()).toMatch(/40 min\s+en retard\s+Un signalement\s+français\s+\+223 76 •• •• 01\s+En attente/);
    expect(await awa.page.locator(`#callbacks tr[data-id="${newer!.id}"]`).innerText()).toMatch(/Voter, inscription\s+bambara/);
    expect(await awa.page.locator('#late-count').innerText()).toBe('1');
    await awa.page.screenshot({ path: join(artifacts, '60-callbacks.png'), fullPage: true });
    expect(await codesOn(awa.page)).toEqual([]);

    // Claim: the request's page, with the number still masked.
    await Promise.all([awa.page.waitForURL(`**/callbacks/${oldest!.id}/claim`), first.locator('button:has-text("Prendre")').click()]);
    expect(await awa.page.locator('#message').innerText()).toBe('Demande prise en charge : elle est à vous. Affichez le numéro pour appeler.');
    expect(await awa.page.locator('#claimed-by').innerText()).toMatch(/^awa, le \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/);
    expect(await awa.page.locator('#phone').innerText()).toBe('+223 76 •• •• 01');

    // Fatou, on the queue she loaded before, is told plainly who has it.
    await Promise.all([fatou.page.waitForURL(`**/callbacks/${oldest!.id}/claim`), fatou.page.locator(`#callbacks tr[data-id="${oldest!.id}"] button:has-text("Prendre")`).click()]);
    expect(await fatou.page.locator('#message').innerText()).toBe('Trop tard : awa a déjà pris cette demande.');
    expect(await fatou.page.locator('#held').innerText()).toMatch(/prise par awa/);
    expect(await fatou.page.locator('#reveal-form').count()).toBe(0);
    expect(await codesOn(fatou.page)).toEqual([]);

    // Reveal, with a reason: the number to call, and the reveal in the audit log.
    await awa.page.fill('#reveal-form input[name=reason]', 'rappel demandé par l’appelant');
    await Promise.all([awa.page.waitForURL(`**/callbacks/${oldest!.id}/reveal`), awa.page.click('#reveal-form button')]);
    expect(await awa.page.locator('#phone').innerText()).toBe(EARLY);
    expect(await awa.page.locator('#message').innerText()).toContain('cette consultation est journalisée');
    const audits = await h.ctx.db.selectFrom('audit_log').select(['user_name', 'action', 'detail']).where('action', '=', 'reveal_callback_number').execute();
    expect(audits).toEqual([{ user_name: 'awa', action: 'reveal_callback_number', detail: expect.stringMatching(/^rappel demandé par l’appelant/) }]);
    await awa.page.screenshot({ path: join(artifacts, '61-callback.png'), fullPage: true });
    expect(await codesOn(awa.page)).toEqual([]);

    // The outcome and a note: done, and the number deleted.
    await awa.page.selectOption('#outcome-select', 'no_answer');
    await awa.page.fill('#outcome-form textarea[name=note]', 'messagerie, réessayer demain');
    await Promise.all([awa.page.waitForURL(`**/callbacks/${oldest!.id}/outcome`), awa.page.click('#outcome-form button')]);
    expect(await awa.page.locator('#message').innerText()).toBe('Issue enregistrée. Le numéro est effacé de cette demande.');
    expect(await awa.page.locator('#outcome').innerText()).toMatch(/^Pas de réponse, le /);
    expect(await awa.page.locator('#note').innerText()).toBe('messagerie, réessayer demain');
    expect(await awa.page.locator('#phone').innerText()).toBe('+223 76 •• •• 01');
    expect(await codesOn(awa.page)).toEqual([]);
    const row = await h.ctx.db.selectFrom('callbacks').selectAll().where('id', '=', oldest!.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'done', outcome: 'no_answer', phone_enc: null, claimed_by: 'awa' });

    // Back in the queue: the newer one waits, the finished one is listed with its outcome.
    await awa.page.goto(`${base}/callbacks`);
    expect(await awa.page.$$eval('#callbacks tr.callback-row', (trs) => trs.map((tr) => tr.getAttribute('data-id')))).toEqual([newer!.id]);
    expect(await awa.page.locator('#callbacks-done').innerText()).toMatch(/Un signalement\s+awa\s+Pas de réponse/);
    expect(await codesOn(awa.page)).toEqual([]);

    expect(awa.problems).toEqual([]);
    // The "too late" answer is a 409 on purpose (the claim was refused); nothing else.
    expect(fatou.problems).toEqual(['console error: Failed to load resource: the server responded with a status of 409 (Conflict)']);
  }, 90_000);

  it('is not blind: a raw status put in the page is found', async () => {
    const { page } = await operatorPage('fatou');
    await page.goto(`${base}/callbacks`);
    await page.evaluate(`document.querySelector('main').insertAdjacentHTML('beforeend', '<p>waiting no_answer</p>')`);
    expect(await codesOn(page)).toEqual(['"waiting"', '"no_answer"']);
  }, 30_000);
});
