/**
 * The simulator's voice mode in a real headless Chromium, on real PostgreSQL
 * and Redis: the mode switch, a call to the voice line with its keypad and
 * the caption of what is said (French by the synthetic voice, no recordings
 * in this content), a report filed with a spoken description (« Parler »),
 * its reference said at the end; silence twice ends the call with goodbye;
 * hanging up closes the call. No CSP violation, French throughout.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addUser } from '../../src/store/user-store.js';
import { launchChromium } from '../support/browser.js';
import { rawCodesIn, signIn } from '../support/console-pages.js';
import { startHarness, type Harness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

const artifacts = join(process.cwd(), 'test', 'artifacts');
const PASSWORD = 'a-long-test-password';
let h: Harness;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Everything a page logged as an error, CSP violations included. */
const browserErrors: string[] = [];

/** Polls from here: the console's CSP (no eval) blocks Playwright's in-page predicates. */
const until = (check: () => Promise<boolean>, what: string) => waitFor(what, check, (ok) => ok, 20_000);
const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').replace(/\s+/g, ' ').trim();
const caption = () => text('#sim-voice-caption');
const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

/** Presses keys on the voice keypad, and waits for the caption to say `expected`. */
async function press(keys: string, expected: string) {
  for (const key of keys) {
    await page.waitForSelector(`.sim-vkey[data-key="${key}"]:not([disabled])`);
    await page.click(`.sim-vkey[data-key="${key}"]`);
  }
  await until(async () => (await caption()).includes(expected), `« ${expected} » after ${keys}`);
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  h = await startHarness('simulator_voice');
  await addUser(h.ctx.db, 'awa', 'operator', PASSWORD);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') browserErrors.push(`${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => browserErrors.push(`${page.url()}: ${err.message}`));
  await signIn(page, h.base, 'awa', PASSWORD);
}, 60_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await h?.close();
});

describe('the simulator in voice mode', () => {
  it('switches to a voice phone with a keypad, and calls the voice line', async () => {
    await page.goto(`${h.base}/simulator`, { waitUntil: 'load' });
    await expect(page.locator('#sim-voice-phone').isVisible()).resolves.toBe(false);
    await page.click('.sim-mode-button[data-mode="voice"]');
    await expect(page.locator('.sim-mode-button[data-mode="voice"]').getAttribute('aria-pressed')).resolves.toBe('true');
    await expect(page.locator('#sim-voice-phone').isVisible()).resolves.toBe(true);
    await expect(page.locator('#sim-ussd-phone').isVisible()).resolves.toBe(false);
    // The language is chosen on the keypad, as on a phone.
    await expect(page.locator('#sim-lang').isVisible()).resolves.toBe(false);
    await expect(page.locator('.sim-vkey').allTextContents()).resolves.toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#']);
    for (const name of ['Appeler', 'Raccrocher', 'Silence']) await expect(page.locator(`#sim-voice-phone button:has-text("${name}")`).count()).resolves.toBe(1);
    await expect(page.locator('#sim-voice-speak').isVisible()).resolves.toBe(false);

    await page.click('#sim-voice-call');
    await until(async () => (await caption()).includes('Français, tapez un.'), 'the language menu');
    expect(await caption()).toContain('(voix de synthèse)');
    expect(await text('#sim-voice-screen')).toBe('Tapez une touche.');
    expect(await text('#sim-voice-status')).toContain('En ligne · +22370000001 · appel vocal');
    expect(await rawCodesIn(page)).toEqual([]);
    await shot('95-simulator-voice-menu');
  }, 60_000);

  it('files a report with a spoken description, and hears its reference', async () => {
    await press('1', 'Comment voter, tapez un.');
    await press('2', 'Signaler une fraude');
    await press('1', 'SMS');
    await press('2', 'Autre, tapez 10.');
    // A number waits for `#`, showing the digits typed.
    await page.click('.sim-vkey[data-key="1"]');
    await page.click('.sim-vkey[data-key="0"]');
    expect(await text('#sim-voice-screen')).toBe('Tapez le numéro puis # : 10');
    await press('#', 'Bamako');
    await press('1#', 'après le bip');
    await expect(page.locator('#sim-voice-speak').isVisible()).resolves.toBe(true);
    await expect(page.locator('.sim-vkey[data-key="1"]').isDisabled()).resolves.toBe(true);
    expect(await text('#sim-voice-screen')).toContain('Parler');
    await page.click('#sim-voice-speak');
    await until(async () => (await caption()).includes('Décrivez'), 'the description asked');
    await page.click('#sim-voice-speak');
    await until(async () => (await caption()).includes('Envoyer ce signalement?'), 'the confirmation');
    await press('1', 'K A');
    const report = await h.ctx.db.selectFrom('reports').selectAll().orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect(report.simulated).toBe(true);
    expect(report.fields).toMatchObject({ incident: 'other', region: 'bamako', place: expect.stringMatching(/^https:\/\/simulateur\.invalid\/enregistrement-\d+\.mp3$/), description: expect.stringMatching(/^https:\/\/simulateur\.invalid\//) });
    expect(await caption()).toContain([...report.ref.replace(/-/g, '')].join(' '));
    expect(await text('#sim-voice-status')).toBe('Appel terminé');
    expect(await text('#sim-effects')).toContain(`Signalement ${report.ref} enregistré (numéro gardé, sans SMS)`);
    expect(await text('#sim-history')).toContain('Enregistrement simulé : https://simulateur.invalid/enregistrement-');
    const call = await h.ctx.db.selectFrom('calls').select(['channel', 'outcome']).orderBy('started_at', 'desc').executeTakeFirstOrThrow();
    expect(call).toEqual({ channel: 'simulator-voice', outcome: 'completed' });
    expect(await rawCodesIn(page)).toEqual([]);
    await shot('95-simulator-voice-report');
  }, 90_000);

  it('says the screen again after a silence, then goodbye, and the call ends', async () => {
    // A number that never called: its language is asked again (a caller's is remembered).
    await page.fill('#sim-phone', '+22370000002');
    await page.click('#sim-voice-call');
    await until(async () => (await caption()).includes('Français, tapez un.'), 'the language menu again');
    await page.click('#sim-voice-silence');
    await until(async () => (await caption()).startsWith("Nous n'avons rien entendu. (voix de synthèse)"), 'the screen said again');
    expect(await caption()).toContain('Français, tapez un.');
    await page.click('#sim-voice-silence');
    await until(async () => (await caption()).includes('Au revoir.'), 'goodbye');
    expect(await text('#sim-voice-status')).toBe('Appel terminé');
    await expect(page.locator('#sim-voice-silence').isDisabled()).resolves.toBe(true);
    await expect(page.locator('#sim-voice-call').isEnabled()).resolves.toBe(true);
    await shot('95-simulator-voice-goodbye');
  }, 60_000);

  it('hangs up a call, which is closed as abandoned', async () => {
    await page.fill('#sim-phone', '+22370000003');
    await page.click('#sim-voice-call');
    await until(async () => (await caption()).includes('Français, tapez un.'), 'the language menu');
    await press('1', 'Comment voter');
    await page.click('#sim-voice-hangup');
    expect(await text('#sim-voice-status')).toBe('Raccroché');
    await until(async () => {
      const row = await h.ctx.db.selectFrom('calls').select('outcome').orderBy('started_at', 'desc').executeTakeFirst();
      return row?.outcome === 'abandoned';
    }, 'the call closed');
    // Back to the USSD screen: its phone again.
    await page.click('.sim-mode-button[data-mode="ussd"]');
    await expect(page.locator('#sim-ussd-phone').isVisible()).resolves.toBe(true);
    await expect(page.locator('#sim-voice-phone').isVisible()).resolves.toBe(false);
  }, 60_000);

  it('logged no page error and no CSP violation', () => {
    expect(browserErrors).toEqual([]);
  });
});
