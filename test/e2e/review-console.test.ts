/**
 * The review of the Bambara strings in a real headless Chromium (Debian's,
 * driven by playwright-core), on real PostgreSQL and Redis and a temporary
 * copy of the flows and texts: the Menus page's problems from boot, a
 * reviewer who filters, signs a string off as it is, edits one (live at once
 * for callers), is refused an edit that breaks a screen, and imports a CSV
 * file. No page may log an error (a CSP violation included). Screenshots go
 * to test/artifacts/.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addUser } from '../../src/store/user-store.js';
import { converse, startHarness, type Harness } from '../support/harness.js';
import { contentCopy } from '../support/content.js';
import { launchChromium } from '../support/browser.js';
import { waitFor } from '../support/wait.js';

const artifacts = join(process.cwd(), 'test', 'artifacts');
const PASSWORD = 'a-long-test-password';
let h: Harness;
let browser: Browser;
let flowsDir: string;
let localesDir: string;
/** Everything a page logged as an error, CSP violations included. */
const browserErrors: string[] = [];

async function signIn(name: string): Promise<{ context: BrowserContext; page: Page; cookie: string }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('console', (msg) => {
    // The import's refusal is a 422 the page shows: the one failed request expected.
    if (msg.type() === 'error' && !/status of 422 \(Unprocessable Entity\)/.test(msg.text())) browserErrors.push(`${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => browserErrors.push(`${page.url()}: ${err.message}`));
  await page.goto(`${h.base}/login`);
  await page.fill('input[name=name]', name);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button:has-text("Se connecter")')]);
  const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  return { context, page, cookie };
}

const until = (check: () => Promise<boolean>, what: string) => waitFor(what, check, (ok) => ok, 20_000);
const shot = (page: Page, name: string, fullPage = true) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage });
/** Bambara's sign-offs in the ledger (version 2: one block per language). */
const ledger = () => {
  const data = JSON.parse(readFileSync(join(localesDir, 'review.json'), 'utf8')) as { version: number; signoffs: Record<string, Record<string, { by: string; at: string; hash: string }>> };
  expect(data.version).toBe(2);
  return data.signoffs.bm ?? {};
};
const bmVote = () => JSON.parse(readFileSync(join(localesDir, 'bm', 'vote.json'), 'utf8')) as { menu: { title: string } };

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  ({ FLOWS_DIR: flowsDir, LOCALES_DIR: localesDir } = contentCopy('kalata-review-e2e-'));
  h = await startHarness('review_console', { env: { FLOWS_DIR: flowsDir, LOCALES_DIR: localesDir } });
  await addUser(h.ctx.db, 'awa', 'operator', PASSWORD);
  await addUser(h.ctx.db, 'kadia', 'admin', PASSWORD);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('who may review', () => {
  it('sends an anonymous user to the login page and refuses anonymous changes', async () => {
    for (const path of ['/texts', '/texts.csv', '/texts/edit?id=vote:menu.title']) {
      const res = await fetch(`${h.base}${path}`, { redirect: 'manual', headers: { accept: 'text/html' } });
      expect([path, res.status, res.headers.get('location')?.startsWith('/login?next=')]).toEqual([path, 303, true]);
    }
    for (const path of ['/texts/sign-off', '/texts/import']) {
      const res = await fetch(`${h.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'id=vote:menu.title&signoff=1' });
      expect([path, res.status]).toEqual([path, 401]);
    }
  });

  it('keeps the review from operators (403) and enforces CSRF for admins', async () => {
    const operator = await signIn('awa');
    for (const path of ['/texts', '/texts.csv']) {
      const res = await fetch(`${h.base}${path}`, { headers: { cookie: operator.cookie } });
      expect([path, res.status]).toEqual([path, 403]);
    }
    await expect(operator.page.locator('header a:has-text("Relecture")').count()).resolves.toBe(0);
    await operator.context.close();
    const admin = await signIn('kadia');
    const forged = await fetch(`${h.base}/texts/sign-off`, { method: 'POST', headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: '_csrf=forged&id=vote:menu.title&signoff=1' });
    expect(forged.status).toBe(403);
    const upload = await fetch(`${h.base}/texts/import`, { method: 'POST', headers: { cookie: admin.cookie, 'content-type': 'text/csv' }, body: 'id,bambara,state\r\n' });
    expect(upload.status).toBe(403);
    // A language that is not under review (French is the source) is a plain 400.
    for (const path of ['/texts?lang=fr', '/texts?lang=xx', '/texts.csv?lang=fr', `/texts/edit?lang=zz&id=${encodeURIComponent('vote:menu.title')}`]) {
      const res = await fetch(`${h.base}${path}`, { headers: { cookie: admin.cookie } });
      expect([path, res.status, await res.text()]).toEqual([path, 400, expect.stringMatching(/^Langue inconnue ou sans relecture : « (fr|xx|zz) » \(langues à relire : bm\)\.$/)]);
    }
    expect(ledgerExists()).toBe(false);
    await admin.context.close();
  });
});

function ledgerExists(): boolean {
  try {
    ledger();
    return true;
  } catch {
    return false;
  }
}

describe("a reviewer's session", () => {
  let context: BrowserContext;
  let page: Page;
  let cookie: string;
  beforeAll(async () => {
    ({ context, page, cookie } = await signIn('kadia'));
  }, 60_000);
  afterAll(async () => {
    await context.close();
  });

  it('sees the problems found at boot on the Menus page, one per line with its severity, before any publish', async () => {
    expect(h.ctx.publisher.last()).toBeUndefined();
    await page.goto(`${h.base}/flows`);
    const items = page.locator('#problems li');
    expect(await items.count()).toBeGreaterThan(3);
    const lines = await items.allTextContents();
    for (const line of lines) expect(line).toMatch(/^(Erreur|Avertissement) \S+:\d+:\d+ \S/);
    expect(lines.some((l) => /textes en Bamanankan sur \d+ attendent la relecture d’un locuteur/.test(l))).toBe(true);
    await expect(page.locator('#problem-counts').textContent()).resolves.toMatch(/^0 erreur\(s\), \d+ avertissement\(s\)\./);
    // The page goes on with every screen: the first view is what matters here.
    await shot(page, '11-menus-problems', false);
  });

  it('filters by state and by file, and signs a string off as it is', async () => {
    await page.click('header a:has-text("Relecture")');
    await page.waitForURL(/\/texts$/);
    // The first language under review by default, named as languages.yaml names it.
    await expect(page.locator('h1').textContent()).resolves.toBe('Relecture : Bamanankan');
    await expect(page.locator('#filter-lang').inputValue()).resolves.toBe('bm');
    const draftBefore = Number(await page.locator('#count-draft').textContent());
    expect(draftBefore).toBeGreaterThan(100);
    await page.selectOption('#filter-state', 'draft');
    await page.selectOption('#filter-ns', 'vote');
    await Promise.all([page.waitForURL(/state=draft&ns=vote/), page.click('#review-filters button')]);
    const ids = await page.locator('#texts tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    expect(ids.length).toBeGreaterThan(5);
    expect(ids.every((id) => id?.startsWith('vote:'))).toBe(true);
    const row = page.locator('tr[data-id="vote:menu.register"]');
    await Promise.all([page.waitForURL(/done=vote%3Amenu\.register/), row.locator('button:has-text("Valider tel quel")').click()]);
    await expect(page.locator('#review-message').textContent()).resolves.toBe('« vote:menu.register » est enregistré.');
    // Signed off, it has left the "to review" list, filters kept.
    await expect(page.locator('tr[data-id="vote:menu.register"]').count()).resolves.toBe(0);
    await expect(page.locator('#filter-state').inputValue()).resolves.toBe('draft');
    await expect(page.locator('#count-draft').textContent()).resolves.toBe(String(draftBefore - 1));
    await shot(page, '13-texts-list');
    await page.selectOption('#filter-state', 'reviewed');
    await page.click('#review-filters button');
    await page.waitForURL(/state=reviewed/);
    const signed = page.locator('tr[data-id="vote:menu.register"]');
    await expect(signed.textContent()).resolves.toMatch(/relu\s*kadia, \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}/);
    expect(ledger()['vote:menu.register']).toMatchObject({ by: 'kadia', hash: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const audited = await h.ctx.db.selectFrom('audit_log').select(['user_name', 'target', 'detail']).where('action', '=', 'review_text').execute();
    expect(audited).toEqual([{ user_name: 'kadia', target: 'bm/vote:menu.register', detail: 'relu tel quel' }]);
  });

  it('edits a Bambara string beside its French and its screens, signs it off, and callers hear it at once', async () => {
    await page.goto(`${h.base}/texts?ns=vote`);
    await page.click('tr[data-id="vote:menu.title"] a:has-text("Relire et corriger")');
    await page.waitForURL(/\/texts\/edit\?lang=bm&id=vote%3Amenu\.title$/);
    await expect(page.locator('#french').textContent()).resolves.toBe('Comment voter');
    // The screen as the caller sees it, in French and both Bambara spellings, with its pages.
    const screen = page.locator('table.preview').first();
    await expect(screen.locator('td[data-column="fr"] .screen').first().textContent()).resolves.toMatch(/^Comment voter\n1\. /);
    await expect(screen.locator('td[data-column="standard"] .page-count').textContent()).resolves.toMatch(/^\d pages?$/);
    await expect(screen.locator('td[data-column="gsm7"] .screen').first().textContent()).resolves.not.toMatch(/[ɛɔɲŋƐƆƝŊ]/);
    await page.fill('#text', 'Wote kɛcogo');
    await page.click('#save-sign-off');
    await until(async () => /^Texte enregistré et relu\. Publié : version [0-9a-f]{16}\.$/.test((await page.locator('#edit-message').textContent()) ?? ''), 'the saved message');
    await expect(page.locator('#state').textContent()).resolves.toBe('relu');
    await expect(page.locator('#reviewed-by').textContent()).resolves.toMatch(/^par kadia, le /);
    await expect(page.locator('td[data-column="standard"] .screen').first().textContent()).resolves.toMatch(/^Wote kɛcogo\n/);
    await expect(page.locator('td[data-column="gsm7"] .screen').first().textContent()).resolves.toMatch(/^Wote kècogo\n/);
    await shot(page, '10-texts-review');
    expect(bmVote().menu.title).toBe('Wote kɛcogo');
    expect(ledger()['vote:menu.title']!.by).toBe('kadia');
    // Live: a caller in Bambara who opens "how to vote" reads the new title.
    const replies = await converse(h, { sessionId: 'ATUid_review_live', phoneNumber: '+22376200001' }, ['2', '1']);
    expect(replies[2]).toMatch(/^CON Wote kɛcogo\n/);
    const audited = await h.ctx.db.selectFrom('audit_log').select(['user_name', 'detail']).where('action', '=', 'edit_text').where('target', '=', 'bm/vote:menu.title').execute();
    expect(audited).toEqual([{ user_name: 'kadia', detail: 'modifié et relu' }]);
    // The simulator opens on that flow in Bambara.
    await page.click('#simulator-links a');
    await page.waitForURL(/\/simulator\?lang=bm&flow=vote$/);
    await until(async () => /^Wote kɛcogo/.test((await page.locator('#sim-screen').textContent()) ?? ''), 'the simulator on the vote menu');
  });

  it('refuses an edit that breaks a screen or drops a placeholder, shows why, and writes nothing', async () => {
    const before = readFileSync(join(localesDir, 'bm', 'vote.json'), 'utf8');
    const ledgerBefore = readFileSync(join(localesDir, 'review.json'), 'utf8');
    await page.goto(`${h.base}/texts/edit?id=${encodeURIComponent('vote:menu.results')}`);
    await page.fill('#text', `Jaabiw ${'ɛ'.repeat(90)}`);
    await page.click('#save-sign-off');
    await page.waitForSelector('#edit-problems');
    await expect(page.locator('#edit-message').textContent()).resolves.toBe('Refusé : rien n’est enregistré.');
    await expect(page.locator('#edit-problems').textContent()).resolves.toMatch(/la vérification des menus échoue[\s\S]*flows\/vote\.yaml:\d+:\d+ option "6\. Jaabiw ɛ+" of "vote\.menu" \(bm, standard spelling\) does not fit a screen/);
    // What the reviewer typed stays in the box, to be shortened.
    await expect(page.locator('#text').inputValue()).resolves.toBe(`Jaabiw ${'ɛ'.repeat(90)}`);
    await page.goto(`${h.base}/texts/edit?id=${encodeURIComponent('variables:where_to_check')}`);
    await page.fill('#text', 'i ka meri {{ref}}');
    await page.click('#save-sign-off');
    await expect(page.locator('#edit-problems').textContent()).resolves.toContain('les emplacements {{…}} doivent être ceux du français (inconnu en français : {{ref}})');
    await shot(page, '12-texts-refused');
    expect(readFileSync(join(localesDir, 'bm', 'vote.json'), 'utf8')).toBe(before);
    expect(readFileSync(join(localesDir, 'review.json'), 'utf8')).toBe(ledgerBefore);
  });

  it('exports a CSV and imports it back edited: a bad file is refused row by row, a good one applied', async () => {
    const res = await fetch(`${h.base}/texts.csv?ns=keywords`, { headers: { cookie } });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const csv = (await res.text()).replace(/^\uFEFF/, '');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('"id","kind","french","bm","state","reviewed_by","reviewed_at"');
    expect(res.headers.get('content-disposition')).toMatch(/filename="?kalata-relecture-bm\.csv"?$/);
    expect(lines).toHaveLength(6);
    const dir = mkdtempSync(join(tmpdir(), 'kalata-review-csv-'));
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, `${lines[0]}\r\n"keywords:nope","keyword","x","y","reviewed","",""\r\n${lines[1]!.replace('"draft"', '"reviewed"')}\r\n`);
    await page.goto(`${h.base}/texts`);
    await page.click('#import-box summary');
    await page.setInputFiles('#review-file', bad);
    await page.click('#review-import-button');
    await until(async () => /^Import refusé/.test((await page.locator('#review-import-status').textContent()) ?? ''), 'the refusal');
    await expect(page.locator('#review-import-problems li').allTextContents()).resolves.toEqual(['ligne 2 : identifiant inconnu « keywords:nope »']);
    expect(ledger()['keywords:help']).toBeUndefined();
    const good = join(dir, 'good.csv');
    const help = lines.find((l) => l.startsWith('"keywords:help"'))!;
    const station = lines.find((l) => l.startsWith('"keywords:station"'))!;
    writeFileSync(good, `${lines[0]}\r\n${help.replace('"draft"', '"relu"')}\r\n${station}\r\n`);
    await page.setInputFiles('#review-file', good);
    await page.click('#review-import-button');
    await until(async () => /^Import enregistré : 0 texte\(s\) modifié\(s\), 1 relu\(s\)\./.test((await page.locator('#review-import-status').textContent()) ?? ''), 'the import');
    await page.click('#review-import-refresh');
    await page.selectOption('#filter-ns', 'keywords');
    await page.click('#review-filters button');
    await expect(page.locator('tr[data-id="keywords:help"]').textContent()).resolves.toMatch(/relu\s*kadia/);
    await expect(page.locator('tr[data-id="keywords:station"]').textContent()).resolves.toMatch(/à relire/);
    expect(ledger()['keywords:help']!.by).toBe('kadia');
    const audited = await h.ctx.db.selectFrom('audit_log').select(['action', 'detail']).where('action', 'in', ['import_texts', 'export_texts']).orderBy('id').execute();
    expect(audited).toEqual([
      { action: 'export_texts', detail: 'lang=bm&ns=keywords' },
      { action: 'import_texts', detail: 'bm : refusé (1 problème(s))' },
      { action: 'import_texts', detail: 'bm : 0 modifié(s), 1 relu(s)' },
    ]);
  });

  it('still lists the problems one per line after a publish, and the audit log names the review actions in French', async () => {
    expect(h.ctx.publisher.last()).toBeDefined();
    await page.goto(`${h.base}/flows`);
    const lines = await page.locator('#problems li').allTextContents();
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(line).toMatch(/^(Erreur|Avertissement) /);
    // The sign-offs are counted: one vote text fewer awaits review.
    expect(lines.some((l) => /locales\/bm\/vote\.json:1:1 (\d+) textes en Bamanankan sur (\d+)/.test(l))).toBe(true);
    await page.goto(`${h.base}/audit`);
    const audit = (await page.locator('#audit').textContent()) ?? '';
    for (const label of ['Texte relu (relecture)', 'Texte modifié (relecture)', 'Import de relectures (CSV)', 'Export des textes à relire']) expect(audit).toContain(label);
    expect(audit).not.toMatch(/\b(review_text|edit_text|import_texts|export_texts)\b/);
  });

  it('logged no error in the browser, CSP violations included', () => {
    expect(browserErrors).toEqual([]);
  });
});
