/**
 * The menu editor in a real headless Chromium, on a process that follows the
 * content versions in PostgreSQL (issue 16, item 4):
 *
 * - an edit with an error shows inline, at its line, as it is typed, and a
 *   publish of it is refused (nothing changes);
 * - a valid edit of a French text previews in the editor's phone, publishes
 *   with a note, reaches a real USSD call, shows in the history and the
 *   audit log; a rollback brings the old text back;
 * - two admins on the same version: the second publish is refused (409) with
 *   what the first changed, nothing of it goes live, and re-applying the
 *   draft on the new version publishes both edits;
 * - no CSP violation or page error anywhere; French and English.
 *
 * Screenshots `80-editor-…png` onward go to test/artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addUser } from '../../src/store/user-store.js';
import { launchChromium } from '../support/browser.js';
import { signIn, watchProblems } from '../support/console-pages.js';
import { contentCopy } from '../support/content.js';
import { converse, startHarness, type Harness } from '../support/harness.js';

const artifacts = join(process.cwd(), 'test', 'artifacts');
const PASSWORD = 'a-long-test-password';

let h: Harness;
let browser: Browser;
const contexts: BrowserContext[] = [];
let calls = 0;

/** A page of a new browser (its own cookies and sessionStorage), signed in as `name`. */
async function editorAs(name: string, width = 1280, height = 900): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height }, locale: 'fr-FR', timezoneId: 'Africa/Bamako' });
  contexts.push(context);
  const page = await context.newPage();
  pageProblems.set(page, watchProblems(page));
  page.on('dialog', (d) => void d.accept());
  await signIn(page, h.base, name, PASSWORD);
  await openEditor(page);
  return page;
}
/** What went wrong on each page (CSP reports, console errors, uncaught errors): read at the end of each test. */
const pageProblems = new Map<Page, string[]>();
/**
 * The problems so far, emptied as they are read. Chromium logs each 4xx a
 * script receives; the refusals this test provokes on purpose (409, 422, 400,
 * 403) are answers the page shows, not problems.
 */
const allProblems = () => {
  const found = [...pageProblems.values()].flatMap((seen) => seen.splice(0));
  return found.filter((p) => !/Failed to load resource: the server responded with a status of 4(00|03|09|22) /.test(p));
};

async function openEditor(page: Page) {
  const res = await page.goto(`${h.base}/editor`);
  expect(res?.status()).toBe(200);
  await checked(page);
}
/** Waits for the check of the draft as it is now. */
async function checked(page: Page, errors = false) {
  // (waitForFunction evaluates a string, which the console's CSP refuses: locators only.)
  await page.locator(`#editor-status.${errors ? 'error' : 'ok'}`).waitFor();
}

/** The home screen a new caller hears after choosing French, through the real webhook. */
async function homeScreen(): Promise<string> {
  const n = ++calls;
  const replies = await converse(h, { sessionId: `ATUid_editor_${n}`, phoneNumber: `+2237660${String(n).padStart(4, '0')}` }, ['1']);
  return replies[1]!;
}

const liveId = async () => String((await h.ctx.db.selectFrom('content_live' as never).select('version_id' as never).executeTakeFirstOrThrow() as { version_id: string }).version_id);
const versionCount = async () => ((await h.ctx.db.selectFrom('content_versions' as never).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()) as { n: number | string }).n;

/** Types into the open file's line holding `text`: at its end, after `back` Backspaces. */
async function editLine(page: Page, text: string, back: number, typed: string) {
  await page.locator('.cm-line', { hasText: text }).first().click();
  await page.keyboard.press('End');
  for (let i = 0; i < back; i++) await page.keyboard.press('Backspace');
  await page.keyboard.type(typed);
}

async function publish(page: Page, note: string) {
  await page.fill('#editor-note', note);
  await page.click('#editor-publish');
}

const screenShows = (page: Page, start: string) => page.locator('#preview-screen', { hasText: start }).waitFor();

/** POSTs `body` (JSON, or a raw string) from the page, with or without the page's CSRF token. */
const postFrom = (page: Page, path: string, body: unknown, csrf = true) =>
  page.evaluate(`(async () => {
    const headers = { 'content-type': 'application/json' };
    if (${csrf}) headers['x-csrf-token'] = document.getElementById('editor-script').dataset.csrf;
    const r = await fetch(${JSON.stringify(path)}, { method: 'POST', headers, body: ${JSON.stringify(typeof body === 'string' ? body : JSON.stringify(body))} });
    return [r.status, await r.text()];
  })()`) as Promise<[number, string]>;

/** A screenshot of the window (the whole page is thousands of pixels of texts), scrolled to `at` if given. */
async function shot(page: Page, name: string, at?: string) {
  if (at) await page.locator(at).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

const textCell = (page: Page, key: string, lang: string) => page.getByLabel(`${key} en ${lang}`, { exact: true });

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  h = await startHarness('menu_editor', { env: { ...contentCopy('kalata-editor-') } });
  await addUser(h.ctx.db, 'fatou', 'admin', PASSWORD);
  await addUser(h.ctx.db, 'awa', 'admin', PASSWORD);
  await addUser(h.ctx.db, 'ibrahim', 'operator', PASSWORD);
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await h?.close();
});

describe('the menu editor', () => {
  it('shows an error inline at its line as it is typed, and refuses to publish it', async () => {
    expect(h.ctx.content).toBeDefined();
    const page = await editorAs('fatou');
    await expect(page.locator('#editor-open-file').innerText()).resolves.toBe('flows/main.yaml');
    await editLine(page, 'language: fr, next: home', 'home }'.length, 'nowhere_at_all }');
    await checked(page, true);
    // The lint mark sits on the edited line, and the gutter says so.
    const line = page.locator('.cm-line', { hasText: 'nowhere_at_all' });
    await expect(line.locator('.cm-lintRange-error').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('.cm-lint-marker-error').count()).resolves.toBeGreaterThan(0);
    // The problems list names the same line.
    const lineNumber = (await page.evaluate(`document.getElementById('editor-data').textContent`)) as string;
    const expected = JSON.parse(lineNumber).files['flows/main.yaml'].split('\n').findIndex((l: string) => l.includes('language: fr, next: home')) + 1;
    const listed = await page.locator('#editor-problems li.problem-error').allInnerTexts();
    expect(listed.some((p) => p.includes(`flows/main.yaml:${expected}:`) && p.includes('nowhere_at_all'))).toBe(true);
    // The tooltip on hover says it in words.
    await line.locator('.cm-lintRange-error').first().hover();
    await expect(page.locator('.cm-tooltip-lint').innerText()).resolves.toContain('nowhere_at_all');
    await expect(page.locator('button[data-file="flows/main.yaml"] .severity-error').innerText()).resolves.toMatch(/^1 erreur/);
    await shot(page, '80-editor-error-1280');

    const before = await versionCount();
    const answer = page.waitForResponse((r) => r.url().endsWith('/editor/publish'));
    await publish(page, 'essai avec une erreur');
    expect((await answer).status()).toBe(422);
    await expect(page.locator('#editor-publish-result').innerText()).resolves.toMatch(/^Publication refusée : 1 erreur\(s\)/);
    expect(await versionCount()).toBe(before);
    expect(await homeScreen()).toMatch(/^CON Kalata: infos sur le vote/);

    // A reload keeps the draft (sessionStorage), error and all; starting again from the live version drops it.
    await page.reload();
    await checked(page, true);
    await expect(page.locator('.cm-line', { hasText: 'nowhere_at_all' }).count()).resolves.toBe(1);
    await Promise.all([page.waitForURL(/\/editor$/), page.click('#editor-reset')]);
    await checked(page);
    await expect(page.locator('.cm-line', { hasText: 'nowhere_at_all' }).count()).resolves.toBe(0);
    expect(allProblems()).toEqual([]);
  }, 60_000);

  it('previews a valid edit in its phone, publishes it with a note, and a caller hears it; a rollback brings the old text back', async () => {
    const page = await editorAs('fatou');
    const title = textCell(page, 'main:home.title', 'fr');
    await expect(title.inputValue()).resolves.toBe('Kalata: infos sur le vote');
    await expect(page.locator('#editor-texts tr[data-key="main:home.title"] .measure-screen').first().innerText()).resolves.toMatch(/^écran main\.home : \d+\/\d+ GSM-7/);
    await title.fill('Kalata: tout sur le vote');
    await checked(page);
    // The texts table changed the draft's JSON file, and the diff says so.
    await expect(page.locator('button[data-file="locales/fr/main.json"] .file-changed').count()).resolves.toBe(1);
    const diff = await page.locator('#editor-diff').innerText();
    expect(diff).toContain('locales/fr/main.json');
    expect(diff).toContain('"title": "Kalata: infos sur le vote",');
    expect(diff).toContain('"title": "Kalata: tout sur le vote",');
    await expect(page.locator('#editor-diff tr.diff-added').count()).resolves.toBe(1);
    await expect(page.locator('#editor-diff tr.diff-removed').count()).resolves.toBe(1);

    // The phone runs the draft: the new title, before anything is published.
    await page.selectOption('#preview-lang', 'fr');
    await page.click('#preview-call');
    await screenShows(page, 'Kalata. Langue');
    await page.fill('#preview-input', '1');
    await page.click('#preview-send');
    await screenShows(page, 'Kalata: tout sur le vote');
    expect(await homeScreen()).toMatch(/^CON Kalata: infos sur le vote/);
    await shot(page, '81-editor-preview-1280');
    await shot(page, '82-editor-diff-1280', '#editor-diff-title');

    const from = await liveId();
    await Promise.all([page.waitForURL(/\/editor\?published=\d+$/), publish(page, 'titre plus clair')]);
    const published = await liveId();
    expect(Number(published)).toBeGreaterThan(Number(from));
    await expect(page.locator('#editor-flash').innerText()).resolves.toBe(`Publié : la version ${published} est en ligne.`);
    expect(await homeScreen()).toMatch(/^CON Kalata: tout sur le vote/);
    const row = await page.locator(`#version-${published}`).innerText();
    expect(row).toContain('fatou');
    expect(row).toContain('titre plus clair');
    expect(row).toContain('en ligne');
    const audited = await h.ctx.db.selectFrom('audit_log').select(['user_name', 'action', 'target', 'detail']).where('action', '=', 'publish_flows').where('target', '=', published).execute();
    expect(audited).toEqual([{ user_name: 'fatou', action: 'publish_flows', target: published, detail: 'titre plus clair' }]);
    await page.goto(`${h.base}/audit`);
    expect(await page.locator('#audit').innerText()).toContain('titre plus clair');

    // Its files download as JSON.
    await openEditor(page);
    const exported = (await page.evaluate(`fetch('/editor/versions/${published}.json').then((r) => r.json())`)) as { files: Record<string, string> };
    expect(exported.files['locales/fr/main.json']).toContain('Kalata: tout sur le vote');

    // Rollback to the version before.
    await Promise.all([page.waitForURL(/rolledBack=/), page.click(`#version-${from} form.rollback button`)]);
    await expect(page.locator('#editor-flash').innerText()).resolves.toBe(`La version ${from} est de nouveau en ligne.`);
    expect(await liveId()).toBe(from);
    expect(await homeScreen()).toMatch(/^CON Kalata: infos sur le vote/);
    const rolledBack = await h.ctx.db.selectFrom('audit_log').select(['user_name', 'target']).where('action', '=', 'rollback_flows').execute();
    expect(rolledBack).toEqual([{ user_name: 'fatou', target: from }]);
    await shot(page, '83-editor-history-1280', '#editor-history');
    expect(allProblems()).toEqual([]);
  }, 90_000);

  it('refuses the second of two admins on the same version with what the first changed, and re-applies the draft on it', async () => {
    const a = await editorAs('fatou');
    const b = await editorAs('awa');
    const base = await liveId();
    await textCell(a, 'main:home.help', 'fr').fill('Aide et contact');
    await checked(a);
    await textCell(b, 'main:home.vote', 'fr').fill('Comment voter ?');
    await checked(b);
    await Promise.all([a.waitForURL(/published=/), publish(a, 'aide')]);
    const afterA = await liveId();
    expect(afterA).not.toBe(base);

    const answer = b.waitForResponse((r) => r.url().endsWith('/editor/publish'));
    await publish(b, 'question');
    expect((await answer).status()).toBe(409);
    await expect(b.locator('#editor-publish-result').innerText()).resolves.toContain('Publication refusée : rien de votre brouillon n’est en ligne.');
    await expect(b.locator('#editor-publish-result').innerText()).resolves.toContain(`fatou a publié la version ${afterA} (aide)`);
    const theirs = await b.locator('#editor-theirs').innerText();
    expect(theirs).toContain('"help": "Aide et contact",');
    expect(theirs).not.toContain('Comment voter ?');
    expect(await liveId()).toBe(afterA);
    expect(h.ctx.content!.current()).toBe(afterA);
    expect(await homeScreen()).not.toContain('Comment voter ?');
    await shot(b, '84-editor-conflict-1280', '#editor-publish-title');

    // Re-applied on the new live version: both edits, published together.
    await b.click('#editor-rebase');
    await checked(b);
    await expect(textCell(b, 'main:home.help', 'fr').inputValue()).resolves.toBe('Aide et contact');
    await expect(textCell(b, 'main:home.vote', 'fr').inputValue()).resolves.toBe('Comment voter ?');
    await Promise.all([b.waitForURL(/published=/), publish(b, 'question')]);
    const screen = await homeScreen();
    expect(screen).toContain('Comment voter ?');
    expect(screen).toContain('Aide et contact');
    expect(allProblems()).toEqual([]);
  }, 90_000);

  it('answers bad drafts with a reason, and only to admins', async () => {
    const page = await editorAs('fatou');
    // A new flow file joins the draft; the checker says what it lacks.
    await page.fill('#editor-new-flow-name', 'essai');
    await page.click('#editor-new-flow button');
    await checked(page, true);
    await expect(page.locator('#editor-open-file').innerText()).resolves.toBe('flows/essai.yaml');
    await expect(page.locator('button[data-file="flows/essai.yaml"] .severity-error').count()).resolves.toBe(1);
    await expect(page.locator('#editor-diff').innerText()).resolves.toContain('flows/essai.yaml nouveau fichier');
    await Promise.all([page.waitForURL(/\/editor$/), page.click('#editor-reset')]);
    await checked(page);

    const post = (body: unknown) => postFrom(page, '/editor/check', body);
    expect(await post({ files: { '../etc/passwd': 'x' } })).toEqual([400, expect.stringMatching(/^Brouillon refusé : \.\.\/etc\/passwd: not a flow/)]);
    expect(await post({ files: [] })).toEqual([400, expect.stringMatching(/^Brouillon refusé/)]);
    expect(await post('{ not json')).toEqual([400, 'Corps de requête illisible : JSON attendu.']);
    // Without the CSRF token: refused.
    expect((await postFrom(page, '/editor/check', { files: {} }, false))[0]).toBe(403);
    // A preview of a draft this process does not hold: 409, the page checks it again.
    expect((await postFrom(page, '/editor/preview/0123456789abcdef/step', { lang: 'fr' }))[0]).toBe(409);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'fr-FR' });
    contexts.push(context);
    const operator = await context.newPage();
    await signIn(operator, h.base, 'ibrahim', PASSWORD);
    expect((await operator.goto(`${h.base}/editor`))?.status()).toBe(403);
    expect((await operator.goto(`${h.base}/editor/versions/1.json`))?.status()).toBe(403);
  }, 60_000);

  it('reads in English, and fits a phone', async () => {
    const page = await editorAs('awa');
    await Promise.all([page.waitForURL(/\/editor$/), page.click('button[name=language][value=en]')]);
    await checked(page);
    await expect(page.locator('h1').innerText()).resolves.toBe('Menu editor');
    await expect(page.locator('#editor-status').innerText()).resolves.toMatch(/No (errors|changes)/);
    await expect(page.locator('#editor-history thead').innerText()).resolves.toContain('Published');
    await shot(page, '85-editor-en-1280');
    await shot(page, '86-editor-texts-en-1280', '#editor-texts-title');
    await Promise.all([page.waitForURL(/\/editor$/), page.click('button[name=language][value=fr]')]);

    const phone = await editorAs('fatou', 360, 740);
    const overflow = (await phone.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(phone, '87-editor-phone');
    expect(allProblems()).toEqual([]);
  }, 60_000);
});
