/**
 * Triage by two operators at once, in Chromium (issue 15): A claims a report,
 * B sees « Pris par A » and cannot take it (a stale page is told plainly who
 * has it), A's « Mes signalements » lists it, an urgent report sorts first
 * and is marked with a word, and a note goes into the history. Every page is
 * checked for CSP violations, page errors and raw codes.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addUser } from '../../src/store/user-store.js';
import { startHarness, type Harness } from '../support/harness.js';
import { launchChromium } from '../support/browser.js';
import { rawCodesIn, signIn, watchProblems } from '../support/console-pages.js';

const artifacts = join(process.cwd(), 'test', 'artifacts');
const PASSWORD = 'a-long-test-password';
let h: Harness;
let browser: Browser;
const sides: { context: BrowserContext; page: Page; problems: string[] }[] = [];
let urgentId: string;
let normalId: string;

async function report(ref: string, incident: string, minutesAgo: number): Promise<string> {
  const row = await h.ctx.db
    .insertInto('reports')
    .values({
      ref,
      call_id: null,
      phone_hash: null,
      phone_enc: null,
      language: 'fr',
      contact: 'no_number',
      fields: JSON.stringify({ incident, region: 'bamako', place: 'École de Médine', description: 'Des hommes armés devant le bureau' }),
      incident,
      region: 'bamako',
      created_at: new Date(Date.now() - minutesAgo * 60_000),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** The page is clean: no CSP report, no error, no raw code. */
async function clean(side: (typeof sides)[number]): Promise<void> {
  expect([...side.problems, ...(await rawCodesIn(side.page))]).toEqual([]);
  side.problems.length = 0;
}
const shot = (page: Page, name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  h = await startHarness('triage_e2e', { context: { worker: false } });
  await addUser(h.ctx.db, 'aissata', 'operator', PASSWORD);
  await addUser(h.ctx.db, 'boubacar', 'operator', PASSWORD);
  normalId = await report('KA-TRIE001', 'vote_buying', 90);
  urgentId = await report('KA-TRIE002', 'intimidation', 5);
  await report('KA-TRIE003', 'station_closed', 40);
  browser = await launchChromium();
  for (const name of ['aissata', 'boubacar']) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const problems = watchProblems(page);
    await signIn(page, h.base, name, PASSWORD);
    sides.push({ context, page, problems });
  }
}, 60_000);

afterAll(async () => {
  for (const s of sides) await s.context.close();
  await browser?.close();
  await h?.close();
});

describe('two operators triage at once', () => {
  it('sorts the urgent report first and marks it with a word', async () => {
    const a = sides[0]!;
    await a.page.goto(`${h.base}/reports`);
    const rows = a.page.locator('#reports tbody tr');
    await expect(rows.count()).resolves.toBe(3);
    await expect(rows.nth(0).innerText()).resolves.toMatch(/URGENTE[\s\S]*KA-TRIE002[\s\S]*Menaces ou violences/i);
    // The oldest of the others next.
    await expect(rows.nth(1).innerText()).resolves.toContain('KA-TRIE001');
    await expect(rows.nth(2).innerText()).resolves.toContain('KA-TRIE003');
    await expect(a.page.locator('#reports .urgent-mark').count()).resolves.toBe(1);
    await expect(a.page.locator('#tab-unclaimed').innerText()).resolves.toBe('Non pris 3');
    await shot(a.page, '70-reports-triage');
    await clean(a);
  });

  it('A claims; B, on a page loaded before, is told who has it; after a reload B sees it and has no button', async () => {
    const [a, b] = sides as [(typeof sides)[number], (typeof sides)[number]];
    await b.page.goto(`${h.base}/reports/${urgentId}`);
    await a.page.goto(`${h.base}/reports/${urgentId}`);
    await a.page.click('#claim-button');
    await expect(a.page.locator('#claim').innerText()).resolves.toMatch(/Vous vous en occupez depuis \d{2}:\d{2}\./);
    await clean(a);
    await b.page.click('#claim-button');
    await expect(b.page.locator('#message').innerText()).resolves.toMatch(/^Déjà pris par aissata à \d{2}:\d{2}\.$/);
    // The refusal is a 409, which Chromium logs: that one is expected.
    expect(b.problems).toEqual(['console error: Failed to load resource: the server responded with a status of 409 (Conflict)']);
    b.problems.length = 0;
    await expect(rawCodesIn(b.page)).resolves.toEqual([]);
    // Opened again (a reload that does not post the form again).
    await b.page.goto(`${h.base}/reports/${urgentId}`);
    await expect(b.page.locator('#claim').innerText()).resolves.toMatch(/Pris par aissata depuis \d{2}:\d{2}\./);
    await expect(b.page.locator('#claim-button').count()).resolves.toBe(0);
    await expect(b.page.locator('#status-held').innerText()).resolves.toContain('Seul aissata ou un administrateur peut changer son statut');
    await shot(b.page, '71-report-claimed');
    // And in B's list.
    await b.page.goto(`${h.base}/reports`);
    await expect(b.page.locator('#reports tbody tr').nth(0).innerText()).resolves.toMatch(/aissata depuis \d{2}:\d{2}/);
    await clean(b);
  });

  it('B adds a note: it is in the history, the status unchanged', async () => {
    const b = sides[1]!;
    await b.page.goto(`${h.base}/reports/${urgentId}`);
    await b.page.fill('#note-text', 'Le délégué confirme, la gendarmerie est prévenue');
    await b.page.click('button:has-text("Ajouter la note")');
    await expect(b.page.locator('#message').innerText()).resolves.toBe('Note ajoutée à l’historique.');
    await expect(b.page.locator('#status').innerText()).resolves.toBe('Nouveau');
    const lines = await b.page.locator('#history tbody tr').allInnerTexts();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/aissata\s+Pris en charge/);
    expect(lines[1]).toMatch(/boubacar\s+Note\s+Le délégué confirme, la gendarmerie est prévenue/);
    await clean(b);
  });

  it('A’s « Mes signalements » lists it, with its count', async () => {
    const a = sides[0]!;
    await a.page.goto(`${h.base}/reports`);
    await a.page.click('#tab-mine');
    await a.page.waitForURL(/mine=1/);
    await expect(a.page.locator('h1').innerText()).resolves.toBe('Mes signalements');
    await expect(a.page.locator('#tab-mine').innerText()).resolves.toBe('Mes signalements 1');
    const rows = a.page.locator('#reports tbody tr');
    await expect(rows.count()).resolves.toBe(1);
    await expect(rows.nth(0).innerText()).resolves.toMatch(/KA-TRIE002[\s\S]*vous depuis/);
    await shot(a.page, '72-my-reports');
    await clean(a);
    // « Non pris »: the two others.
    await a.page.click('#tab-unclaimed');
    await expect(a.page.locator('#reports tbody tr').count()).resolves.toBe(2);
    expect(normalId).toBeDefined();
    await clean(a);
  });
});
