/**
 * Accounts in a real headless Chromium, on real PostgreSQL and Redis: the
 * first admin from the setup link printed at start-up, then an admin's work
 * on the accounts page (create an operator, disable and re-enable them,
 * change their role, reset their password), each seen from the operator's
 * own browser too. No page may log an error (a CSP violation included).
 * Screenshots go to test/artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createSetupToken } from '../../src/store/user-store.js';
import { startHarness, type Harness } from '../support/harness.js';
import { launchChromium } from '../support/browser.js';

const artifacts = join(process.cwd(), 'test', 'artifacts');
const ADMIN_PASSWORD = 'amina garde la console';
let h: Harness;
let browser: Browser;
/** Everything a page logged as an error, CSP violations included. */
const browserErrors: string[] = [];
/** Answers a page is expected to give (a form sent back, a dead link, a refused sign-in or change): the browser logs each as a failed load. */
const expectedStatuses = /status of (400 \(Bad Request\)|401 \(Unauthorized\)|404 \(Not Found\)|409 \(Conflict\))/;

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !expectedStatuses.test(msg.text())) browserErrors.push(`${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => browserErrors.push(`${page.url()}: ${err.message}`));
  page.on('dialog', () => {
    throw new Error('a dialog opened');
  });
  return { context, page };
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
const text = async (page: Page, selector: string) => ((await page.locator(selector).textContent()) ?? '').replace(/\s+/g, ' ').trim();
const row = (page: Page, name: string) => page.locator(`#accounts tr[data-account="${name}"]`);
/** Clicks a button that posts a form, and waits for the page it answers. */
const submit = (page: Page, selector: string) => Promise.all([page.waitForNavigation(), page.click(selector)]);

async function signIn(page: Page, name: string, password: string) {
  await page.goto(`${h.base}/login`);
  await page.fill('input[name=name]', name);
  await page.fill('input[name=password]', password);
  await submit(page, 'button:has-text("Se connecter")');
}

/** The one-time link the accounts page shows, as a path on this server. */
async function shownLink(page: Page): Promise<string> {
  const url = new URL(await text(page, '#account-link-url'));
  expect(url.pathname).toBe('/password');
  return `${url.pathname}${url.search}`;
}

async function choosePassword(page: Page, path: string, password: string) {
  await page.goto(`${h.base}${path}`);
  await page.fill('input[name=password]', password);
  await page.fill('input[name=password2]', password);
  await submit(page, 'button:has-text("Enregistrer le mot de passe")');
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  h = await startHarness('accounts_e2e', { context: { worker: false } });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('accounts in the browser', () => {
  let admin: Page;
  let operator: Page;
  let setupPath = '';

  it('opens the setup link printed at start-up, creates the first admin and lands signed in', async () => {
    // What `npm start` prints when there is no account.
    setupPath = `/setup?token=${(await createSetupToken(h.ctx.db))!}`;
    ({ page: admin } = await newPage());
    await admin.goto(`${h.base}${setupPath}`);
    expect(await text(admin, 'h1')).toBe('Premier administrateur');
    await admin.fill('input[name=name]', 'amina');
    await admin.fill('input[name=password]', ADMIN_PASSWORD);
    await admin.fill('input[name=password2]', 'pas le même mot de passe');
    await submit(admin, 'button:has-text("Créer le compte administrateur")');
    expect(await text(admin, '#form-error')).toBe('Les deux mots de passe diffèrent.');
    expect(await admin.inputValue('input[name=name]')).toBe('amina');
    await admin.fill('input[name=password]', ADMIN_PASSWORD);
    await admin.fill('input[name=password2]', ADMIN_PASSWORD);
    await shot(admin, '14-setup');
    await submit(admin, 'button:has-text("Créer le compte administrateur")');
    expect(new URL(admin.url()).pathname).toBe('/accounts');
    expect(await text(admin, '#accounts-message')).toMatch(/^Bienvenue : votre compte administrateur est créé/);
    expect(await text(admin, 'header .who')).toContain('amina');
    await expect(admin.locator('header a:has-text("Comptes")').count()).resolves.toBe(1);
    expect(await text(admin, `#accounts tr[data-account="amina"] .account-role`)).toBe('Administrateur');
  });

  it('the setup link, once used, only says it no longer works', async () => {
    const { context, page } = await newPage();
    await page.goto(`${h.base}${setupPath}`);
    expect(await text(page, '#link-dead')).toBe('Ce lien ne fonctionne pas : il a déjà servi, il a expiré, ou il n’est pas complet.');
    await expect(page.locator('input[name=password]').count()).resolves.toBe(0);
    await context.close();
  });

  it('creates an operator, who chooses her password from the link and lands signed in', async () => {
    await admin.fill('#account-create input[name=name]', 'awa');
    await admin.selectOption('#account-create select[name=role]', 'operator');
    await submit(admin, '#account-create button');
    expect(await text(admin, '#accounts-message')).toBe('Compte « awa » créé (Opérateur).');
    expect(await text(admin, `#accounts tr[data-account="awa"] .account-state`)).toBe('Mot de passe à choisir par le lien donné');
    const link = await shownLink(admin);
    ({ page: operator } = await newPage());
    await choosePassword(operator, link, 'le mot de passe de awa');
    expect(new URL(operator.url()).pathname).toBe('/');
    expect(await text(operator, 'header .who')).toContain('awa');
    await expect(operator.locator('header a:has-text("Comptes")').count()).resolves.toBe(0);
  });

  it('disables her: her open page goes to the sign-in, and her sign-in is refused; re-enabled, she is back', async () => {
    await admin.goto(`${h.base}/accounts`);
    await submit(admin, `#accounts tr[data-account="awa"] button.account-disable`);
    expect(await text(admin, '#accounts-message')).toBe('Compte « awa » désactivé : il ne peut plus se connecter, et ses sessions sont fermées.');
    expect(await text(admin, `#accounts tr[data-account="awa"] .account-state`)).toMatch(/^Désactivé depuis le \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/);
    await operator.goto(`${h.base}/reports`);
    expect(new URL(operator.url()).pathname).toBe('/login');
    await signIn(operator, 'awa', 'le mot de passe de awa');
    expect(await text(operator, 'p.error')).toBe('Nom ou mot de passe incorrect.');

    await submit(admin, `#accounts tr[data-account="awa"] button.account-enable`);
    expect(await text(admin, '#accounts-message')).toBe('Compte « awa » réactivé.');
    await signIn(operator, 'awa', 'le mot de passe de awa');
    expect(new URL(operator.url()).pathname).toBe('/');
  });

  it('changes her role: admin pages open for her at once, then close again', async () => {
    await submit(admin, `#accounts tr[data-account="awa"] button.account-role-change`);
    expect(await text(admin, '#accounts-message')).toBe('« awa » est maintenant administrateur.');
    await operator.goto(`${h.base}/accounts`);
    expect(await text(operator, 'h1')).toBe('Comptes');
    await submit(admin, `#accounts tr[data-account="awa"] button.account-role-change`);
    expect(await text(admin, '#accounts-message')).toBe('« awa » est maintenant opérateur.');
    expect(await text(admin, `#accounts tr[data-account="awa"] .account-role`)).toBe('Opérateur');
  });

  it('refuses to leave the console without an active admin, and says why', async () => {
    await submit(admin, `#accounts tr[data-account="amina"] button.account-disable`);
    expect(await text(admin, '#accounts-error')).toBe('Refusé : la console n’aurait plus aucun administrateur actif. Nommez d’abord un autre administrateur.');
    await submit(admin, `#accounts tr[data-account="amina"] button.account-role-change`);
    expect(await text(admin, '#accounts-error')).toMatch(/^Refusé : la console n’aurait plus aucun administrateur actif/);
    expect(await text(admin, `#accounts tr[data-account="amina"] .account-state`)).toBe('Actif');
  });

  it('resets her password: her session ends, the old password fails, the link sets a new one', async () => {
    // More accounts, so that the page shows each state.
    for (const [name, role] of [
      ['moussa', 'admin'],
      ['issa', 'operator'],
    ]) {
      await admin.fill('#account-create input[name=name]', name!);
      await admin.selectOption('#account-create select[name=role]', role!);
      await submit(admin, '#account-create button');
    }
    await submit(admin, `#accounts tr[data-account="issa"] button.account-disable`);

    await submit(admin, `#accounts tr[data-account="awa"] button.account-reset`);
    expect(await text(admin, '#accounts-message')).toBe('Mot de passe de « awa » réinitialisé : l’ancien ne fonctionne plus et ses sessions sont fermées.');
    const link = await shownLink(admin);
    await shot(admin, '15-accounts');

    await operator.goto(`${h.base}/`);
    expect(new URL(operator.url()).pathname).toBe('/login');
    await signIn(operator, 'awa', 'le mot de passe de awa');
    expect(await text(operator, 'p.error')).toBe('Nom ou mot de passe incorrect.');
    await choosePassword(operator, link, 'un nouveau mot de passe pour awa');
    expect(new URL(operator.url()).pathname).toBe('/');
    await operator.goto(`${h.base}${link}`);
    await expect(operator.locator('#link-dead').count()).resolves.toBe(1);
  });

  it('shows every account change in the audit log, in French', async () => {
    await admin.goto(`${h.base}/audit`);
    const audit = await text(admin, '#audit');
    for (const label of ['Premier administrateur créé', 'Compte créé', 'Mot de passe choisi (par lien)', 'Compte désactivé', 'Compte réactivé', 'Rôle changé', 'Mot de passe réinitialisé (lien créé)']) expect([label, audit.includes(label)]).toEqual([label, true]);
    expect(audit).toContain('Opérateur → Administrateur');
    expect(audit).not.toMatch(/\b(setup_admin|create_account|disable_account|enable_account|change_role|reset_password|set_password)\b/);
    const accounts = await (async () => {
      await admin.goto(`${h.base}/accounts`);
      return text(admin, 'main');
    })();
    expect(accounts).not.toMatch(/\b(operator|admin|disabled|null|undefined)\b/);
  });

  it('logged no error in the browser, CSP violations included', () => {
    expect(browserErrors).toEqual([]);
  });
});
