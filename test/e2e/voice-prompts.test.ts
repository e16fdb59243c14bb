/**
 * « Annonces vocales » in Chromium (issue 17, item 3): an admin sees what
 * each language has recorded, uploads a WAV for a Bambara prompt with the
 * file input, records another with the microphone (Chromium's fake audio
 * device) and sends it, and is told in French why a text file is refused.
 * Every recording plays from the page; no CSP violation; French throughout.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { addUser } from '../../src/store/user-store.js';
import { launchChromium } from '../support/browser.js';
import { rawCodesIn, signIn, watchProblems } from '../support/console-pages.js';
import { contentCopy } from '../support/content.js';
import { startHarness, type Harness } from '../support/harness.js';

const artifacts = join(process.cwd(), 'test', 'artifacts');
const PASSWORD = 'a-long-test-password';
const dir = mkdtempSync(join(tmpdir(), 'kalata-prompts-e2e-'));
let h: Harness;
let browser: Browser;
let page: Page;
let problems: string[];

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  h = await startHarness('voice prompts e2e', { env: { ...contentCopy('kalata-prompts-e2e-content-') } });
  await addUser(h.ctx.db, 'mariam', 'admin', PASSWORD);
  browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['microphone'], { origin: h.base });
  page = await context.newPage();
  problems = watchProblems(page);
  await signIn(page, h.base, 'mariam', PASSWORD);
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const row = (ref: string) => page.locator(`tr[data-ref="${ref}"]`);
const loads = (src: string) => page.evaluate(async (url) => (await fetch(url)).status, src);

describe('the voice prompts page', () => {
  it('shows each language’s recordings, and uploads one with the file input', async () => {
    await page.goto(`${h.base}/prompts?lang=bm`);
    await expect(page.locator('#prompts-coverage').innerText()).resolves.toMatch(/0 \/ \d+\s*Bamanankan\s*pas encore proposée/);
    await expect(page.locator('#prompts-coverage').innerText()).resolves.toMatch(/Français\s*proposée \(voix de synthèse\)/);
    await page.screenshot({ path: join(artifacts, '90-prompts-list.png') });
    const file = join(dir, 'home.wav');
    execFileSync('espeak-ng', ['-v', 'fr', '-w', file, 'Kalata, kunnafoniw wote kan']);
    await Promise.all([page.waitForEvent('load'), row('main/home.title').locator('.prompt-file').setInputFiles(file)]);
    const audio = row('main/home.title').locator('audio');
    await expect(audio.count()).resolves.toBe(1);
    await expect(loads((await audio.getAttribute('src'))!)).resolves.toBe(200);
    await expect(page.locator('#prompts-coverage').innerText()).resolves.toMatch(/1 \/ \d+\s*Bamanankan/);
    await page.screenshot({ path: join(artifacts, '91-prompts-uploaded.png') });
  });

  it('records one with the microphone, previews it and sends it', async () => {
    const target = row('main/home.vote');
    await target.locator('.prompt-record').click();
    await page.locator('#prompts-status:has-text("Enregistrement en cours")').waitFor();
    await page.waitForTimeout(1500);
    await target.locator('.prompt-record').click();
    await target.locator('.prompt-send').waitFor();
    await page.screenshot({ path: join(artifacts, '92-prompts-recorded.png') });
    await Promise.all([page.waitForEvent('load'), target.locator('.prompt-send').click()]);
    const audio = row('main/home.vote').locator('audio');
    await expect(audio.count()).resolves.toBe(1);
    await expect(loads((await audio.getAttribute('src'))!)).resolves.toBe(200);
    await expect(page.locator('#prompts-coverage').innerText()).resolves.toMatch(/2 \/ \d+\s*Bamanankan/);
  });

  it('says in French why a text file is refused', async () => {
    const file = join(dir, 'notes.wav');
    writeFileSync(file, 'ceci est un texte, pas un son');
    await row('main/home.report').locator('.prompt-file').setInputFiles(file);
    await page.locator('#prompts-status.error').waitFor();
    await expect(page.locator('#prompts-status').innerText()).resolves.toBe('Ce fichier n’est pas un son lisible (WAV, MP3, OGG ou WebM).');
    await page.screenshot({ path: join(artifacts, '93-prompts-refused.png') });
    expect(await rawCodesIn(page)).toEqual([]);
    // The refusal is the one failed request the page shows; nothing else went wrong (no CSP violation).
    expect(problems.filter((p) => !/status of 422/.test(p))).toEqual([]);
  });
});
