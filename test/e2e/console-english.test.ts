/**
 * The console in English, in a real headless Chromium, after an evening of
 * calls (a report, an abandoned call, a call in Bambara, a call-back request,
 * an SMS asking for help):
 *
 * - the header's « English » button switches an account to English and back
 *   to the page it was on; the choice sticks across pages and sessions, and
 *   beats the browser's language; a reader who is not signed in reads French
 *   until they press the button, which their browser then keeps;
 * - every page, for an admin and (where the role changes the page) for an
 *   operator, has no CSP violation, page error or raw code, and no French left
 *   (test/support/english-check.ts: the catalogue's French texts, and French
 *   nobody wrapped), the hotline's own French and Bambara aside;
 * - the dashboard's live stream brings English cards to an English reader
 *   while a French reader keeps French ones; the simulator's own words are
 *   English after a call; the CSV exports have English header rows.
 *
 * When French is left, the failure lists it page by page (the text and the
 * words around it). Screenshots `70-…-en.png` onward go to test/artifacts/.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addUser } from '../../src/store/user-store.js';
import { converse, startHarness, type Harness } from '../support/harness.js';
import { launchChromium } from '../support/browser.js';
import { waitFor } from '../support/wait.js';
import { watchProblems } from '../support/console-pages.js';
import { catalogueTexts, codesInEnglish, frenchIn, frenchOnPage, hotlineTexts, hotlineTwins, smsKeywords, type DetectorOptions, type FrenchLeft } from '../support/english-check.js';

const artifacts = join(process.cwd(), 'test', 'artifacts');
const PASSWORD = 'a-long-test-password';
/** What the test types: names, places, descriptions and notes are the people's words, not the console's. */
/** The fictional polling stations an admin imports (test/fixtures/stations-fictional.csv): place names are data. */
const STATIONS_FILE = join(process.cwd(), 'test', 'fixtures', 'stations-fictional.csv');
// The fixture quotes nothing: a comma always parts two values.
const STATION_DATA = readFileSync(STATIONS_FILE, 'utf8').split('\n').slice(1).flatMap((line) => line.split(',').map((v) => v.trim())).filter(Boolean);
const NOTE = 'Témoin rappelé, à vérifier demain';
const TYPED = ['fatou', 'ibrahim', 'awa', 'Quartier Médine', 'Des billets contre des cartes', 'Des billets donnés devant le bureau', NOTE, 'AIDE', ...new Set(STATION_DATA)];
/** The Bambara letters the text editor names (its spelling help): Bambara, not French. */
const BAMBARA_LETTERS = 'è ò ny ng';
/**
 * A console text that is also a hotline text (« Statut », « Continuer »…):
 * checked on every page but those that list the hotline's texts one by one,
 * where the hotline's own « Statut » stands alone in a cell.
 */
const twins = new Set(hotlineTwins());
const catalogue = catalogueTexts();
/** What people type as it is: the SMS keywords callers text, the test's data, the Bambara letters. */
const people = [...smsKeywords(), ...TYPED, BAMBARA_LETTERS];
const detector: DetectorOptions = { legitimate: [...hotlineTexts().filter((t) => !twins.has(t)), ...people], catalogue };
const hotlineListing: DetectorOptions = { legitimate: [...hotlineTexts(), ...people], catalogue };

let h: Harness;
let browser: Browser;
const contexts: BrowserContext[] = [];
let ref: string;

const until = (check: () => Promise<boolean>, what: string, ms = 20_000) => waitFor(what, check, (ok) => ok, ms);
const shot = (p: Page, n: number, name: string, lang = 'en') => p.screenshot({ path: join(artifacts, `${n}-${name}-${lang}.png`), fullPage: true });
/** Each page's screenshot number (70 onward, in the order visited): a later shot of the same page takes its number (`72-dashboard-live-en.png`). */
const shotNumber = new Map<string, number>();

async function newPage(locale: 'fr-FR' | 'en-GB'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale, timezoneId: 'Africa/Bamako' });
  contexts.push(context);
  return context.newPage();
}

/** Signs in through the form, whatever language the sign-in page is in. */
async function signIn(p: Page, name: string): Promise<void> {
  await p.goto(`${h.base}/login`);
  await p.fill('input[name=name]', name);
  await p.fill('input[name=password]', PASSWORD);
  await Promise.all([p.waitForURL((u) => !u.pathname.startsWith('/login')), p.click('form[action="/login"] button')]);
}

const pageLanguage = (p: Page) => p.locator('html').getAttribute('lang');
const languageButton = (p: Page) => p.locator('header form[action="/language"] button');

/** Clicks the header's language button, as a person does, and waits for the page to come back in that language. */
async function chooseLanguage(p: Page, lang: 'en' | 'fr'): Promise<void> {
  await p.click(`header button[name=language][value=${lang}]`);
  await p.locator(`html[lang="${lang}"]`).waitFor({ state: 'attached' });
  await p.waitForLoadState('load');
}

/** One line per French text left: `page: « text » (×n) [untranslated: …] [French: …] near « …before ⟦…⟧ after… »`. */
const lines = (page: string, found: readonly FrenchLeft[]) =>
  found.map((f) => {
    const keys = f.why.filter((w) => detector.catalogue.includes(w));
    const words = f.why.filter((w) => !keys.includes(w));
    const why = [keys.length ? `untranslated: ${keys.join(', ')}` : '', words.length ? `French: ${words.join(', ')}` : ''].filter(Boolean).join('; ');
    return `${page}: « ${f.text} »${f.times > 1 ? ` (×${f.times})` : ''} [${why}] near « ${f.context} »`;
  });

interface PageToCheck {
  name: string;
  path: string;
  status?: number;
  /** what to do once the page is loaded (a chart to draw, a form to send) */
  ready?: (p: Page) => Promise<void>;
  as: 'admin' | 'operator' | 'nobody';
  /** the page lists the hotline's texts one by one (the review pages) */
  listsHotline?: boolean;
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  h = await startHarness('console_english', { context: { worker: true, smsRelayEveryMs: 200 } });
  await addUser(h.ctx.db, 'fatou', 'admin', PASSWORD);
  await addUser(h.ctx.db, 'ibrahim', 'operator', PASSWORD);
  await addUser(h.ctx.db, 'awa', 'operator', PASSWORD);
  // An evening of calls, as in console-words: a finished report with a discreet SMS, an abandoned call, a call in Bambara, an SMS asking for help…
  const replies = await converse(h, { sessionId: 'ATUid_english_report', phoneNumber: '+22376700001' }, ['1', '2', '1', '1', '1', '1', 'Quartier Médine', 'Des billets contre des cartes', '1']);
  ref = /KA-[0-9A-Z]{7}/.exec(replies[9]!)![0];
  await converse(h, { sessionId: 'ATUid_english_abandoned', phoneNumber: '+22376700002' }, ['1', '1']);
  await h.at({ sessionId: 'ATUid_english_abandoned', phoneNumber: '+22376700002', serviceCode: '*384*123#', networkCode: '99999', status: 'Incomplete', date: '2026-12-01 12:00:00', input: '1*1', durationInMillis: '20000', hopsCount: '3', cost: '0', lastAppResponse: 'CON Comment voter', errorMessage: '' }, '/ussd/africastalking/events');
  await converse(h, { sessionId: 'ATUid_english_bambara', phoneNumber: '+22376700003' }, ['2', '1', '1']);
  // …a caller who asks to be called back about a report…
  await converse(h, { sessionId: 'ATUid_english_callback', phoneNumber: '+22376700005' }, ['1', '6', '2', '1']);
  await fetch(`${h.base}/sms/africastalking/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ id: 'in-english-1', from: '+22376700004', to: '36000', text: 'AIDE', date: '2026-12-01 12:00:00' }).toString(),
  });
  await until(async () => {
    const rows = await h.ctx.db.selectFrom('sms_outbox').select('status').execute();
    return rows.length >= 2 && rows.every((r) => r.status === 'dry_run');
  }, 'the SMS sent in dry run');
  expect(await h.ctx.db.selectFrom('callbacks').select('id').execute()).toHaveLength(1);
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  await h?.close();
});

describe('the detector of French left on a page', () => {
  const english = (body: string) => `<!doctype html><html lang="en"><head><title>Reports · Kalata</title></head><body><main>${body}</main></body></html>`;

  it('finds a label left in French, a sentence nobody wrapped and a French attribute, and nothing on an English page', async () => {
    const p = await newPage('en-GB');
    const clean = `<h1>Reports</h1><p>3 calls in the last hour, 1 report to review.</p><table><tr><th>Region</th><td>District de Bamako</td></tr></table><button lang="fr">Français</button><p>Place: Quartier Médine</p>`;
    await p.setContent(english(clean));
    expect(await frenchOnPage(p, detector)).toEqual([]);
    // One label of the layout's catalogue left French, a French sentence with no t() at all, and a French aria-label.
    await p.setContent(english(`${clean}<nav aria-label="Pages de la console"><a href="/">Tableau de bord</a></nav><p>Aucun appel pour l’instant.</p>`));
    const found = await frenchOnPage(p, detector);
    expect(found).toEqual([
      expect.objectContaining({ text: 'Tableau de bord', kind: 'catalogue', why: ['Tableau de bord'] }),
      expect.objectContaining({ text: 'Aucun appel pour l’instant.', why: expect.arrayContaining(['pour', 'l’instant']) }),
      expect.objectContaining({ text: 'aria-label="Pages de la console"', kind: 'catalogue', context: 'attribute' }),
    ]);
    // The hotline's region name, the typed place and the « Français » button are not reported.
    expect(found.map((f) => f.text).join(' ')).not.toMatch(/Français|Médine|Bamako/);
  });

  it('catches French words, elisions, accents and guillemets that no catalogue knows', () => {
    const none: DetectorOptions = { legitimate: [], catalogue: [] };
    expect(frenchIn('Aucun appel pour l’instant.', none)).toEqual([expect.objectContaining({ kind: 'unwrapped', why: ['Aucun', 'pour', 'l’instant'] })]);
    expect(frenchIn('Calls\tÉcran\tthe « menu »', none).map((f) => [f.text, f.why])).toEqual([
      ['Écran', ['Écran']],
      ['the « menu »', ['«', '»']],
    ]);
    expect(frenchIn('Calls in the last hour\tNo report to review yet.\tIt’s the last one: don’t', none)).toEqual([]);
  });

  it('takes a hotline screen shortened to its first words for the hotline’s', () => {
    const screen = 'Service indisponible. Rappelez dans quelques minutes. Merci.';
    const options: DetectorOptions = { legitimate: [screen], catalogue: [] };
    expect(frenchIn('Screen reached: Service indisponible. Rappelez dans quelques…', options)).toEqual([]);
    expect(frenchIn('Screen reached: Service indisponible. Rappelez dans la…', options)).toEqual([expect.objectContaining({ why: ['dans', 'la'] })]);
    // With a value filled in (a number of days, the election's hours), the words after it begin the text's next piece.
    const kept = { legitimate: ['Votre numéro sera gardé chiffré', 'jours au plus, puis effacé.'], catalogue: [] };
    expect(frenchIn('Votre numéro sera gardé chiffré 30 jours au…', kept)).toEqual([]);
  });

  it('leaves a console word inside a hotline sentence alone, but not the console word on its own', () => {
    const sentence = 'Signaler une fraude. L’appel est enregistré.';
    const options: DetectorOptions = { legitimate: [sentence], catalogue: ['Signaler une fraude'] };
    expect(frenchIn(`Screen: ${sentence}`, options)).toEqual([]);
    expect(frenchIn(`Screen: ${sentence}\nButton: Signaler une fraude`, options)).toEqual([expect.objectContaining({ text: 'Button: Signaler une fraude', kind: 'catalogue', why: ['Signaler une fraude'] })]);
  });
});

describe('the language button', () => {
  it('switches an account to English on the same page, keeps it across pages and sessions, and back', async () => {
    const p = await newPage('fr-FR');
    const problems = watchProblems(p);
    await signIn(p, 'ibrahim');
    await expect(pageLanguage(p)).resolves.toBe('fr');
    await expect(languageButton(p).innerText()).resolves.toBe('English');
    // The page comes back with its address, query included.
    await p.goto(`${h.base}/calls?outcome=abandoned`);
    await chooseLanguage(p, 'en');
    expect(new URL(p.url()).pathname + new URL(p.url()).search).toBe('/calls?outcome=abandoned');
    await expect(pageLanguage(p)).resolves.toBe('en');
    await expect(languageButton(p).innerText()).resolves.toBe('Français');
    await expect(languageButton(p).getAttribute('lang')).resolves.toBe('fr');
    // Another page, then a new session: still English, though the browser asks for French.
    await p.goto(`${h.base}/reports`);
    await expect(pageLanguage(p)).resolves.toBe('en');
    await p.click('header form[action="/logout"] button');
    await p.waitForURL((u) => u.pathname.startsWith('/login'));
    await expect(pageLanguage(p)).resolves.toBe('fr');
    await signIn(p, 'ibrahim');
    await expect(pageLanguage(p)).resolves.toBe('en');
    await expect(languageButton(p).innerText()).resolves.toBe('Français');
    // And back to French.
    await chooseLanguage(p, 'fr');
    await expect(pageLanguage(p)).resolves.toBe('fr');
    await expect(languageButton(p).innerText()).resolves.toBe('English');
    await expect(p.locator('header nav a').first().innerText()).resolves.toBe('Tableau de bord');
    expect(problems).toEqual([]);
  });

  it('gives a reader who is not signed in French, whatever the browser asks, until they press « English », which the browser keeps', async () => {
    // Not the browser's Accept-Language (src/web/console/console-i18n.ts says why): the header's button, kept in a cookie.
    const p = await newPage('en-GB');
    await p.goto(`${h.base}/login`);
    await expect(pageLanguage(p)).resolves.toBe('fr');
    await expect(p.locator('form[action="/login"] button').innerText()).resolves.toBe('Se connecter');
    await chooseLanguage(p, 'en');
    expect(new URL(p.url()).pathname).toBe('/login');
    await expect(languageButton(p).innerText()).resolves.toBe('Français');
    await expect(p.locator('form[action="/login"] button').innerText()).resolves.not.toBe('Se connecter');
    await p.goto(`${h.base}/simulator`);
    await expect(pageLanguage(p)).resolves.toBe('en');
    await chooseLanguage(p, 'fr');
    await expect(languageButton(p).innerText()).resolves.toBe('English');
  });
});

describe('every console page in English', () => {
  it('shows no French, no raw code and no CSP violation on any page', async () => {
    const report = await h.ctx.db.selectFrom('reports').select('id').where('ref', '=', ref).executeTakeFirstOrThrow();
    const call = await h.ctx.db.selectFrom('calls').select('id').where('gateway_session_id', '=', 'ATUid_english_report').executeTakeFirstOrThrow();
    const sms = await h.ctx.db.selectFrom('sms_outbox').select('id').where('ref', '=', ref).executeTakeFirstOrThrow();
    const charts = async (p: Page) => {
      await until(async () => ((await p.evaluate('window.Chart ? Object.keys(window.Chart.instances).length : 0')) as number) >= 6, 'the charts');
    };
    // Sending a form: the flash message and the new line in the history are the console's words too.
    const addNote = async (p: Page) => {
      await p.fill('#note-text', NOTE);
      await Promise.all([p.waitForURL((u) => u.pathname.endsWith('/note'), { waitUntil: 'load' }), p.click('#note-form button')]);
    };
    // A file refused for a missing value, then the fictional list imported: the import's messages and problems, and the list in service.
    const refusedFile = join(mkdtempSync(join(tmpdir(), 'kalata-english-')), 'stations.csv');
    const [header, first] = readFileSync(STATIONS_FILE, 'utf8').split('\n');
    writeFileSync(refusedFile, `${header}\n${first!.split(',').map((v, i) => (i === 4 ? '' : v)).join(',')}\n`);
    const importStations = (file: string) => async (p: Page) => {
      const before = await p.locator('#imports tr[data-import]').count();
      await p.setInputFiles('#csv-file', file);
      await p.click('#import-button');
      await until(async () => (await p.locator('#imports tr[data-import]').count()) > before && (await p.locator('#latest-import').getAttribute('data-finished')) === '1', 'the import done');
    };
    const claimCallback = async (p: Page) => {
      await Promise.all([p.waitForURL((u) => u.pathname.endsWith('/claim'), { waitUntil: 'load' }), p.click('#callbacks tr.callback-row form[action$="/claim"] button')]);
    };
    const pages: PageToCheck[] = [
      { name: 'login', path: '/login', as: 'nobody' },
      { name: 'setup-link', path: '/setup?token=used-or-expired', status: 404, as: 'nobody' },
      { name: 'dashboard', path: '/', as: 'admin' },
      { name: 'dashboard-operator', path: '/', as: 'operator' },
      { name: 'calls', path: '/calls', as: 'admin' },
      { name: 'call', path: `/calls/${call.id}`, as: 'admin' },
      { name: 'reports', path: '/reports', as: 'admin' },
      { name: 'report', path: `/reports/${report.id}`, as: 'admin' },
      { name: 'report-operator', path: `/reports/${report.id}`, as: 'operator' },
      { name: 'report-note', path: `/reports/${report.id}`, as: 'admin', ready: addNote },
      { name: 'callbacks', path: '/callbacks', as: 'operator' },
      { name: 'callback', path: '/callbacks', as: 'operator', ready: claimCallback },
      { name: 'sms', path: '/sms', as: 'admin' },
      { name: 'sms-message', path: `/sms/${sms.id}`, as: 'admin' },
      { name: 'analytics', path: '/analytics', as: 'admin', ready: charts },
      { name: 'menus', path: '/flows', as: 'admin' },
      { name: 'editor', path: '/editor', as: 'admin' },
      { name: 'texts', path: '/texts', as: 'admin', listsHotline: true },
      { name: 'text-edit', path: `/texts/edit?id=${encodeURIComponent('vote:menu.title')}`, as: 'admin', listsHotline: true },
      { name: 'stations', path: '/stations', as: 'admin' },
      { name: 'stations-refused', path: '/stations', as: 'admin', ready: importStations(refusedFile) },
      { name: 'stations-imported', path: '/stations', as: 'admin', ready: importStations(STATIONS_FILE) },
      { name: 'accounts', path: '/accounts', as: 'admin' },
      { name: 'audit', path: '/audit', as: 'admin' },
      { name: 'simulator', path: '/simulator', as: 'admin' },
      { name: 'simulator-operator', path: '/simulator', as: 'operator' },
      { name: 'not-found', path: '/calls/00000000-0000-4000-8000-000000000000', status: 404, as: 'admin' },
      { name: 'forbidden', path: '/audit', status: 403, as: 'operator' },
    ];
    // Both accounts choose English with the button, in browsers that ask for French: the account's choice wins. The reader
    // without a session presses it on the sign-in page.
    const visitors = {} as Record<PageToCheck['as'], { page: Page; problems: string[] }>;
    for (const [as, name] of [['admin', 'fatou'], ['operator', 'ibrahim'], ['nobody', '']] as const) {
      const p = await newPage(as === 'nobody' ? 'en-GB' : 'fr-FR');
      const problems = watchProblems(p);
      if (name) await signIn(p, name);
      else await p.goto(`${h.base}/login`);
      await chooseLanguage(p, 'en');
      visitors[as] = { page: p, problems };
    }
    const found: string[] = [];
    for (const [i, target] of pages.entries()) {
      const { page: p, problems } = visitors[target.as];
      problems.length = 0;
      const res = await p.goto(`${h.base}${target.path}`, { waitUntil: 'load' });
      if (res?.status() !== (target.status ?? 200)) found.push(`${target.name}: ${target.path} answered ${res?.status()}`);
      if (target.ready) await target.ready(p);
      shotNumber.set(target.name, 70 + i);
      await shot(p, 70 + i, target.name);
      if ((await pageLanguage(p)) !== 'en') found.push(`${target.name}: <html lang="${await pageLanguage(p)}">`);
      // The browser logs a page answered with an error status: expected for the 404 and 403 pages.
      const expected = target.status ? `status of ${target.status} ` : undefined;
      for (const problem of problems) if (!(expected && problem.includes('Failed to load resource') && problem.includes(expected))) found.push(`${target.name}: ${problem}`);
      for (const code of await codesInEnglish(p)) found.push(`${target.name}: raw code ${code}`);
      found.push(...lines(target.name, await frenchOnPage(p, target.listsHotline ? hotlineListing : detector)));
    }
    // The sign-in page for a browser that never pressed the button is French.
    const french = await newPage('fr-FR');
    await french.goto(`${h.base}/login`);
    await expect(pageLanguage(french)).resolves.toBe('fr');
    await shot(french, 70 + pages.length, 'login', 'fr');
    if (twins.size) console.log(`Console texts that are also hotline texts (not checked on the review pages): ${[...twins].join(' | ')}`);
    if (found.length) console.log(`French left in English, page by page:\n${found.join('\n')}`);
    expect(found).toEqual([]);
  }, 300_000);
});

describe('what scripts write in English', () => {
  it('updates the dashboard from its event stream in English, and in French for a French reader at the same time', async () => {
    const english = await newPage('fr-FR');
    const problems = watchProblems(english);
    await signIn(english, 'fatou');
    await english.goto(`${h.base}/`);
    if ((await pageLanguage(english)) !== 'en') await chooseLanguage(english, 'en');
    const french = await newPage('fr-FR');
    await signIn(french, 'awa');
    await french.goto(`${h.base}/`);
    const live = (p: Page) => until(async () => ((await p.locator('#dash-status').getAttribute('class')) ?? '').includes('live'), 'the stream', 15_000);
    await live(english);
    await live(french);
    // A new call files a report while both pages are open.
    const replies = await converse(h, { sessionId: 'ATUid_english_live', phoneNumber: '+22376700009' }, ['1', '2', '1', '1', '2', '2', 'Quartier Médine', 'Des billets contre des cartes', '1']);
    const fresh = /KA-[0-9A-Z]{7}/.exec(replies.at(-1)!)![0];
    for (const p of [english, french]) await until(async () => (await p.locator('#triage tbody').innerText()).includes(fresh), 'the new report on the page', 20_000);
    await shot(english, shotNumber.get('dashboard') ?? 70, 'dashboard-live');
    const found = lines('dashboard (live)', await frenchOnPage(english, detector));
    expect(await codesInEnglish(english)).toEqual([]);
    // The French reader's cards came from the same stream, in French.
    await expect(french.locator('#dash-status').innerText()).resolves.toMatch(/^En direct/);
    await expect(french.locator('#card-alerts').innerText()).resolves.toContain('Aucune alerte');
    expect(problems).toEqual([]);
    if (found.length) console.log(`French left on the live dashboard:\n${found.join('\n')}`);
    expect(found).toEqual([]);
  }, 90_000);

  it('writes the simulator’s status line and history notes in English after a call', async () => {
    const p = await newPage('fr-FR');
    const problems = watchProblems(p);
    await signIn(p, 'fatou');
    await p.goto(`${h.base}/simulator`);
    if ((await pageLanguage(p)) !== 'en') await chooseLanguage(p, 'en');
    const screen = async () => ((await p.locator('#sim-screen').textContent()) ?? '').trim();
    await p.click('#sim-call');
    await until(async () => (await screen()).startsWith('Kalata'), 'the first screen');
    // A report with a discreet SMS, as callers make one (the screens are the hotline's, in French).
    for (const input of ['2', '1', '1', '1', '5', 'Quartier Médine', 'Des billets donnés devant le bureau', '1']) {
      await p.locator('#sim-input:not([disabled])').waitFor();
      const before = await screen();
      await p.fill('#sim-input', input);
      await p.click('#sim-send');
      await until(async () => (await screen()) !== before, `the screen after ${input}`);
    }
    await until(async () => p.locator('#sim-redial').isEnabled(), 'the end of the call');
    await shot(p, shotNumber.get('simulator') ?? 70, 'simulator-call');
    // The notes the script wrote (the call's start and end, the effects) are among what was read.
    expect(await p.locator('#sim-history .sim-note').count()).toBeGreaterThanOrEqual(3);
    const status = (await p.locator('#sim-status').innerText()).trim();
    const found = lines('simulator (after a call)', await frenchOnPage(p, detector));
    expect(status).not.toMatch(/^(Appel terminé|En ligne)/);
    expect(problems).toEqual([]);
    if (found.length) console.log(`French left on the simulator after a call:\n${found.join('\n')}`);
    expect(found).toEqual([]);
  }, 90_000);

  it('exports CSV files with English header rows', async () => {
    const p = await newPage('fr-FR');
    await signIn(p, 'fatou');
    await p.goto(`${h.base}/analytics`);
    if ((await pageLanguage(p)) !== 'en') await chooseLanguage(p, 'en');
    const chartExports = await p.locator('main a[href^="/analytics/"][href$=".csv"]').evaluateAll((links) => links.map((a) => a.getAttribute('href')!));
    expect(chartExports.length).toBeGreaterThanOrEqual(6);
    const found: string[] = [];
    for (const path of ['/calls.csv', '/reports.csv', ...new Set(chartExports)]) {
      const res = await p.context().request.get(`${h.base}${path}`);
      expect([path, res.status()]).toEqual([path, 200]);
      const header = (await res.text()).replace(/^\uFEFF/, '').split(/\r?\n/)[0]!;
      found.push(...lines(`${path} header row`, frenchIn(header, detector)));
    }
    if (found.length) console.log(`French left in the CSV header rows:\n${found.join('\n')}`);
    expect(found).toEqual([]);
  }, 60_000);
});
