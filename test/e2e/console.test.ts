/**
 * The console in a real headless Chromium (Debian's, driven by
 * playwright-core), on real PostgreSQL and Redis: an operator's election
 * night and an admin's live menu edit. Screenshots go to test/artifacts/.
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

async function signIn(name: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('dialog', () => {
    throw new Error('a dialog opened: injected script ran');
  });
  await page.goto(`${h.base}/`);
  await page.waitForURL(/\/login/);
  await page.fill('input[name=name]', name);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button:has-text("Se connecter")')]);
  return { context, page };
}

/**
 * Polls from here rather than with page.waitForFunction: the console's CSP
 * (no eval) blocks the predicates Playwright would evaluate in the page.
 */
const until = (check: () => Promise<boolean>, what: string) => waitFor(what, check, (ok) => ok, 20_000);

const screenText = (page: Page) => page.locator('#sim-screen').textContent().then((t) => t ?? '');

const shot = (page: Page, name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

/** A fraud report by USSD; returns its reference. */
/** `contact`: 1 a discreet SMS, 2 no SMS, 3 no number. */
async function fileReport(phone: string, description: string, session: string, place = 'Quartier <b>Médine</b>', contact = '1'): Promise<string> {
  const replies = await converse(h, { sessionId: session, phoneNumber: phone }, ['1', '2', '1', contact, '1', '5', place, description, '1']);
  return /KA-[0-9A-Z]{7}/.exec(replies[9]!)![0];
}

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  ({ FLOWS_DIR: flowsDir, LOCALES_DIR: localesDir } = contentCopy('kalata-console-'));
  h = await startHarness('console', { env: { FLOWS_DIR: flowsDir, LOCALES_DIR: localesDir }, context: { worker: true, smsRelayEveryMs: 200 } });
  await addUser(h.ctx.db, 'awa', 'operator', PASSWORD);
  await addUser(h.ctx.db, 'moussa', 'admin', PASSWORD);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('access control', () => {
  const pages = ['/', '/calls', '/calls.csv', '/reports', '/reports.csv', '/sms', '/analytics', '/flows', '/audit', '/api/counters'];

  it.each(pages)('%s sends an anonymous user to the login page', async (path) => {
    const res = await fetch(`${h.base}${path}`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/login\?next=/);
  });

  it('refuses anonymous state changes with 401', async () => {
    for (const path of ['/reports/1/status', '/reports/1/reveal', '/flows/reload', '/logout']) {
      const res = await fetch(`${h.base}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'status=verified' });
      expect([path, res.status]).toEqual([path, 401]);
    }
  });

  it('keeps admin pages and actions from operators (403), and enforces CSRF', async () => {
    const { context, page } = await signIn('awa');
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    expect((await context.cookies())[0]).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    for (const path of ['/flows', '/audit']) {
      const res = await fetch(`${h.base}${path}`, { headers: { cookie } });
      expect([path, res.status]).toEqual([path, 403]);
    }
    const ref = await fileReport('+22376100001', 'Des billets donnés', 'ATUid_console_csrf');
    const report = await h.ctx.db.selectFrom('reports').select('id').where('ref', '=', ref).executeTakeFirstOrThrow();
    const reveal = await fetch(`${h.base}/reports/${report.id}/reveal`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(reveal.status).toBe(403);
    const noToken = await fetch(`${h.base}/reports/${report.id}/status`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: 'status=verifying' });
    expect(noToken.status).toBe(403);
    expect(await noToken.text()).toBe('Jeton de formulaire absent ou périmé : rechargez la page et recommencez.');
    const wrongToken = await fetch(`${h.base}/reports/${report.id}/status`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: '_csrf=forged&status=verifying' });
    expect(wrongToken.status).toBe(403);
    const status = await h.ctx.db.selectFrom('reports').select('status').where('id', '=', report.id).executeTakeFirstOrThrow();
    expect(status.status).toBe('new');
    await page.close();
    await context.close();
  });

  it('never redirects off-site after sign-in', async () => {
    for (const next of ['//evil.example', '/\\evil.example', 'https://evil.example', '/\t/evil.example']) {
      const res = await fetch(`${h.base}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name: 'awa', password: PASSWORD, next }).toString(),
      });
      expect([next, res.status, res.headers.get('location')]).toEqual([next, 303, '/']);
    }
  });

  it('refuses state changes sent from another site, login included', async () => {
    const res = await fetch(`${h.base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      body: new URLSearchParams({ name: 'awa', password: PASSWORD }).toString(),
    });
    expect(res.status).toBe(403);
  });

  it('sends no-store, a content security policy and no framing on console pages', async () => {
    const res = await fetch(`${h.base}/login`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers a forged simulator session with a 400, not a crash', async () => {
    const res = await fetch(`${h.base}/simulator/step`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session: { v: 1, answers: null }, input: '1' }) });
    expect(res.status).toBe(400);
  });

  it('rejects a wrong password and records it', async () => {
    const res = await fetch(`${h.base}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=awa&password=wrong' });
    expect(res.status).toBe(401);
    const row = await h.ctx.db.selectFrom('audit_log').select('action').where('action', '=', 'login_failed').executeTakeFirst();
    expect(row).toBeDefined();
  });
});

describe("an operator's election night", () => {
  let context: BrowserContext;
  let page: Page;
  let ref: string;
  beforeAll(async () => {
    ref = await fileReport('+22376100002', '<script>alert("x")</script><img src=x onerror=alert(1)> =HYPERLINK("http://x")', 'ATUid_console_night', '=HYPERLINK("http://x","Kati")');
    ({ context, page } = await signIn('awa'));
  }, 60_000);
  afterAll(async () => {
    await context.close();
  });

  it('sees the call made moments before, masked, and its transcript', async () => {
    await page.goto(`${h.base}/calls`);
    const row = page.locator('tr', { hasText: '+223 76 •• •• 02' });
    await expect(row.count()).resolves.toBe(1);
    expect(await page.content()).not.toContain('76100002');
    await shot(page, '01-calls-list');
    await row.locator('a').click();
    await page.waitForURL(/\/calls\/[0-9a-f-]{36}$/);
    const screens = page.locator('#transcript .screen');
    await expect(screens.count()).resolves.toBe(10);
    await expect(screens.first().textContent()).resolves.toMatch(/^Kalata\. Langue \/ Kan:/);
    await expect(screens.last().textContent()).resolves.toMatch(new RegExp(`Votre référence: ${ref}`));
    await shot(page, '02-call-transcript');
  });

  it('shows a report with script in it as inert text, and triages it with an SMS to the reporter', async () => {
    await page.goto(`${h.base}/reports`);
    await page.click(`a:has-text("${ref}")`);
    await page.waitForURL(/\/reports\/\d+$/);
    await expect(page.locator('#description').textContent()).resolves.toBe('<script>alert("x")</script><img src=x onerror=alert(1)> =HYPERLINK("http://x")');
    await expect(page.locator('#description script').count()).resolves.toBe(0);
    await expect(page.locator('#description img').count()).resolves.toBe(0);
    await expect(page.locator('#phone').textContent()).resolves.toBe('+223 76 •• •• 02');
    await page.selectOption('#new-status', 'verifying');
    await page.fill('textarea[name=note]', 'Appelé un observateur sur place');
    await page.check('input[name=notify]');
    await page.click('button:has-text("Enregistrer")');
    await expect(page.locator('#status').textContent()).resolves.toBe('En vérification');
    await expect(page.locator('#contact').textContent()).resolves.toMatch(/^SMS discret : le numéro est gardé chiffré/);
    await expect(page.locator('#history').textContent()).resolves.toContain('Appelé un observateur sur place');
    await shot(page, '03-report-triaged');
    const sms = await h.ctx.db.selectFrom('sms_outbox').select(['kind', 'vars']).where('ref', '=', ref).where('kind', '=', 'status_update').executeTakeFirstOrThrow();
    expect(sms.vars).toEqual({ ref, status: 'en cours de vérification' });
  });

  it('shows a report filed without a number as such: no number, nothing to reveal, no call to open', async () => {
    const anonymous = await fileReport('+22376000077', 'Des cartes vendues au marché', 'ATUid_console_anon', 'Marché de Kati', '3');
    await page.goto(`${h.base}/reports`);
    const row = page.locator('tr', { has: page.locator(`a:has-text("${anonymous}")`) });
    await expect(row.locator('td.contact-no_number').textContent()).resolves.toBe('Sans numéro');
    await expect(row.textContent()).resolves.toContain('Achat de votes');
    await page.click(`a:has-text("${anonymous}")`);
    await page.waitForURL(/\/reports\/\d+$/);
    await expect(page.locator('#contact').textContent()).resolves.toMatch(/^Sans numéro : ni numéro, ni pseudonyme, ni lien avec l’appel/);
    await expect(page.locator('#phone').textContent()).resolves.toBe('aucun : signalement sans numéro');
    await expect(page.locator('form[action$="/reveal"]').count()).resolves.toBe(0);
    await expect(page.locator('a[href^="/calls/"]').count()).resolves.toBe(0);
    await shot(page, '03b-report-without-number');
    // and its call keeps what came before the choice, nothing after
    const call = await h.ctx.db.selectFrom('calls').select('id').where('gateway_session_id', '=', 'ATUid_console_anon').executeTakeFirstOrThrow();
    await page.goto(`${h.base}/calls/${call.id}`);
    const transcript = (await page.locator('#transcript').textContent())!;
    expect(transcript).toContain('Un SMS de confirmation?');
    for (const kept of [anonymous, 'Marché de Kati', 'Des cartes vendues', '[private]']) expect(transcript).not.toContain(kept);
    await expect(page.locator('#transcript .screen.muted').count()).resolves.toBe(6);
    await expect(page.locator('#transcript .screen.muted').first().textContent()).resolves.toBe("(écran non gardé : l'appelant a choisi de signaler sans numéro)");
    await shot(page, '03c-call-without-number');
  });

  it('ignores impossible dates, and refuses impossible pages with a plain 400', async () => {
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    for (const q of ['from=2026-13-45', 'to=9999-99-99']) {
      const res = await fetch(`${h.base}/calls?${q}`, { headers: { cookie } });
      expect([q, res.status]).toEqual([q, 200]);
    }
    for (const path of ['/calls?page=999999', '/calls?page=0', '/reports?page=-1', '/sms?page=201', '/sms?page=1e9', '/calls?page=a&page=b']) {
      const res = await fetch(`${h.base}${path}`, { headers: { cookie } });
      expect([path, res.status, await res.text()]).toEqual([path, 400, 'Le numéro de page doit être un nombre entier de 1 à 200.']);
    }
  });

  it('exports CSV with formula cells neutralized', async () => {
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const res = await fetch(`${h.base}/reports.csv`, { headers: { cookie } });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const csv = await res.text();
    const line = csv.split("\r\n").find((l) => l.startsWith(`"${ref}"`))!;
    // The place the caller typed starts with '=': the cell gets a leading quote.
    expect(line).toContain(`"'=HYPERLINK(""http://x"",""Kati"")"`);
    expect(csv).not.toMatch(/(^|,)"?=HYPERLINK/m);
    const calls = await (await fetch(`${h.base}/calls.csv`, { headers: { cookie } })).text();
    expect(calls.split('\r\n')[0]).toBe('"started_at","phone","language","network","service_code","steps","last_node","outcome","duration_s"');
    expect(calls).not.toContain('76100002');
  });

  it("sees the SMS outbox, dry-run messages shown as such, and a message's history", async () => {
    const followup = await h.ctx.db.selectFrom('sms_outbox').select('id').where('ref', '=', ref).where('kind', '=', 'followup').executeTakeFirstOrThrow();
    for (let i = 0; i < 100; i++) {
      const row = await h.ctx.db.selectFrom('sms_outbox').select('status').where('id', '=', followup.id).executeTakeFirstOrThrow();
      if (row.status === 'dry_run') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.goto(`${h.base}/sms`);
    await expect(page.locator('#outbox').textContent()).resolves.toContain(ref);
    await expect(page.locator('#outbox').textContent()).resolves.toContain('Non envoyé (mode essai)');
    await shot(page, '04-sms');
    await page.goto(`${h.base}/sms/${followup.id}`);
    await expect(page.locator('#events').textContent()).resolves.toMatch(/En attente[\s\S]*Non envoyé \(mode essai\)/);
    await expect(page.locator('body').textContent()).resolves.toContain(`Kalata: message ${ref} enregistré.`);
  });

  it('sees the analytics charts drawn from the calls', async () => {
    await page.goto(`${h.base}/analytics`);
    // Page functions run in the browser: written as strings, they need no DOM types here.
    const chartCount = () => page.evaluate('window.Chart ? Object.keys(window.Chart.instances).length : 0') as Promise<number>;
    await until(async () => (await chartCount()) >= 6, 'the charts');
    expect(await chartCount()).toBeGreaterThanOrEqual(6);
    await shot(page, '05-analytics');
  });

  it('runs the simulator in Bambara', async () => {
    await page.goto(`${h.base}/simulator`, { waitUntil: 'load' });
    await page.selectOption('#sim-lang', 'bm');
    await page.click('button:has-text("Appeler")');
    // "Appel complet" honours the language chosen: the call starts at the home menu, in Bambara.
    await until(async () => (await screenText(page)).startsWith('Kalata\n1. Wote cogo'), 'the home screen in Bambara');
    // Waits for the node named in the meta line: a screen's text alone can be
    // ambiguous (the home menu lists "Wote cogo", the title of the next screen).
    const meta = async () => (await page.locator('#sim-meta').textContent()) ?? '';
    const send = async (input: string, node: string, expected: string) => {
      await page.waitForSelector('#sim-input:not([disabled])');
      await page.fill('#sim-input', input);
      await page.press('#sim-input', 'Enter');
      await until(async () => (await meta()).startsWith(`${node} · `), node);
      expect(await screenText(page)).toContain(expected);
    };
    await send('1', 'vote.menu', 'Wote cogo');
    expect(await meta()).toMatch(/^vote\.menu · \d+ UCS-2/);
    await shot(page, '06-simulator-bambara');
  }, 60_000);
});

describe("an admin's live menu edit", () => {
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    ({ context, page } = await signIn('moussa'));
  }, 60_000);
  afterAll(async () => {
    await context.close();
  });

  it('reveals a number only on request, and the audit log shows it', async () => {
    const ref = await fileReport('+22376100003', 'Urne déjà pleine', 'ATUid_console_reveal');
    const report = await h.ctx.db.selectFrom('reports').select('id').where('ref', '=', ref).executeTakeFirstOrThrow();
    await page.goto(`${h.base}/reports/${report.id}`);
    await expect(page.locator('#phone').textContent()).resolves.toBe('+223 76 •• •• 03');
    await page.fill('input[name=reason]', 'Rappeler le témoin pour la vérification');
    await page.click('button:has-text("Afficher le numéro")');
    await expect(page.locator('#phone').textContent()).resolves.toBe('+22376100003');
    await page.goto(`${h.base}/audit`);
    await expect(page.locator('#audit').textContent()).resolves.toMatch(new RegExp(`Numéro affiché\\s*${ref}\\s*Rappeler le témoin`));
    // Ordinary work (opening reports) cannot hide a reveal: one click lists them all.
    await page.click('#only-reveals');
    const rows = await page.locator('#audit tbody tr').allTextContents();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.includes('Numéro affiché'))).toBe(true);
    await shot(page, '09-audit-reveals');
  });

  it('sees a broken YAML edit rejected while calls keep working, then publishes a good edit', async () => {
    const liveBefore = h.ctx.flows.live().hash;
    const vote = join(flowsDir, 'vote.yaml');
    const good = readFileSync(vote, 'utf8');
    writeFileSync(vote, good.replace('next: register }', 'next: nowhere }'));
    await page.goto(`${h.base}/flows`);
    await page.click('button:has-text("Vérifier et publier")');
    await expect(page.locator('#publish-result').textContent()).resolves.toMatch(/^Refusé/);
    await expect(page.locator('#problems').textContent()).resolves.toMatch(/vote\.yaml:\d+:\d+ la cible vote\.nowhere n’existe pas/);
    await shot(page, '07-flows-rejected');
    expect(h.ctx.flows.live().hash).toBe(liveBefore);
    const during = await converse(h, { sessionId: 'ATUid_console_during', phoneNumber: '+22376100004' }, ['1', '1']);
    expect(during[2]).toMatch(/^CON Comment voter\n1\. Inscription/);

    writeFileSync(vote, good);
    const fr = join(localesDir, 'fr', 'vote.json');
    writeFileSync(fr, readFileSync(fr, 'utf8').replace('"register": "Inscription"', '"register": "Inscription sur les listes"'));
    await page.click('button:has-text("Vérifier et publier")');
    await expect(page.locator('#publish-result').textContent()).resolves.toMatch(/^Publié : version [0-9a-f]{16}\./);
    await shot(page, '08-flows-published');
    expect(h.ctx.flows.live().hash).not.toBe(liveBefore);
    const after = await converse(h, { sessionId: 'ATUid_console_after', phoneNumber: '+22376100005' }, ['1', '1']);
    expect(after[2]).toMatch(/^CON Comment voter\n1\. Inscription sur les listes/);
    const version = await h.ctx.db.selectFrom('flow_versions').selectAll().where('hash', '=', h.ctx.flows.live().hash).executeTakeFirstOrThrow();
    expect(version.published_by).toBe('moussa');
  });

  it('imports polling stations from a CSV file in the background: a bad file is refused with its rows, a good one goes live', async () => {
    await page.goto(`${h.base}/stations`);
    await expect(page.locator('#summary').textContent()).resolves.toMatch(/Aucun bureau importé/);
    /** The text of an element, '' while the page reloads (it does when the import ends). */
    const textOf = (selector: string) => page.locator(selector).textContent({ timeout: 1000 }).then((t) => t ?? '', () => '');
    const dir = mkdtempSync(join(tmpdir(), 'kalata-console-csv-'));
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'centre_code,region,cercle,commune,centre,station\nX-1,Fictive-Nord,Cercle Un,Commune Alpha,,1\n');
    await page.setInputFiles('#csv-file', bad);
    await page.click('button:has-text("Vérifier et importer")');
    await until(async () => /^Refusé : 1 problème,/.test(await textOf('#import-result')), 'the refusal');
    await expect(textOf('#import-problems')).resolves.toContain('ligne 2, centre : valeur manquante');
    await expect(textOf('#imports')).resolves.toMatch(/moussa\s*bureaux de vote\s*échoué/);
    await page.setInputFiles('#csv-file', join(process.cwd(), 'test', 'fixtures', 'stations-fictional.csv'));
    await page.click('button:has-text("Vérifier et importer")');
    await until(async () => (await textOf('#import-result')) === 'Importé : 4 centres, 7 bureaux (7 lignes).', 'the import');
    await expect(textOf('#summary')).resolves.toMatch(/Fictive-Nord\s*3\s*4[\s\S]*Fictive-Sud\s*1\s*3/);
    await expect(textOf('#imports')).resolves.toMatch(/moussa\s*bureaux de vote\s*terminé\s*7\s*Importé/);
    expect(await page.locator('#import-problems').count()).toBe(0);
    await shot(page, '09-stations-imported');
    // Live at once: a caller browsing by place sees the imported regions.
    const replies = await converse(h, { sessionId: 'ATUid_console_stations', phoneNumber: '+22376100007' }, ['1', '3', '2']);
    expect(replies[3]).toMatch(/^CON Votre région:\n1\. Fictive-Nord\n2\. Fictive-Sud/);
    // The uploaded files are gone from the database; the audit log names who imported.
    expect(await h.ctx.db.selectFrom('station_import_chunks').select('seq').execute()).toEqual([]);
    const audited = await h.ctx.db.selectFrom('audit_log').select(['user_name', 'target', 'detail']).where('action', '=', 'import_stations').orderBy('id').execute();
    expect(audited).toEqual([
      { user_name: 'moussa', target: 'stations', detail: 'refusé : 1 problème, rien n’a été importé' },
      { user_name: 'moussa', target: 'stations', detail: '4 centres, 7 bureaux' },
    ]);
    await page.goto(`${h.base}/audit`);
    await expect(page.locator('#audit').textContent()).resolves.toMatch(/4 centres, 7 bureaux/);
  });

  it('lets a call in progress finish on the version it started with', async () => {
    const call = { sessionId: 'ATUid_console_pinned', phoneNumber: '+22376100006' };
    const before = await converse(h, call, ['1']);
    expect(before[1]).toMatch(/^CON Kalata: infos/);
    const fr = join(localesDir, 'fr', 'vote.json');
    writeFileSync(fr, readFileSync(fr, 'utf8').replace('"register": "Inscription sur les listes"', '"register": "Inscription (nouveau)"'));
    await h.ctx.publisher.reload('test');
    const res = await h.at({ ...call, serviceCode: '*384*123#', text: '1*1' });
    expect(res.body).toMatch(/^CON Comment voter\n1\. Inscription sur les listes/);
  });
});
