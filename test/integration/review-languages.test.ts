/**
 * The console's review of a language besides Bambara, through the HTTP
 * routes, on a copy of the third-language fixture (fr, bm, qaa: both bm and
 * qaa under review) on real PostgreSQL and Redis: the qaa review page, a
 * sign-off from the list, an edit live at once for callers, an edit refused
 * on the French placeholders, the qaa CSV export and import, and Bambara's
 * texts and sign-offs never touched by any of it.
 */
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { addUser } from '../../src/store/user-store.js';
import { startHarness, type Harness } from '../support/harness.js';

const FIXTURE = join(process.cwd(), 'test', 'fixtures', 'content-third-language');
const PASSWORD = 'a-long-test-password';
let h: Harness;
let root: string;
let cookie: string;

const file = (path: string) => readFileSync(join(root, path), 'utf8');
const ledger = () => JSON.parse(file('locales/review.json')) as { version: number; signoffs: Record<string, Record<string, { by: string; at: string; hash: string }>> };
const get = (path: string) => fetch(`${h.base}${path}`, { headers: { cookie }, redirect: 'manual' });
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
const post = (path: string, fields: Record<string, string>) =>
  fetch(`${h.base}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
const bambara = () => ['common', 'main', 'sms'].map((ns) => file(`locales/bm/${ns}.json`)).join('\0');
/** The text of a page without its markup, spaces as one. */
const textOf = (html: string) => html.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/\s+/g, ' ');

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'kalata-review-qaa-http-'));
  cpSync(join(FIXTURE, 'flows'), join(root, 'flows'), { recursive: true });
  cpSync(join(FIXTURE, 'locales'), join(root, 'locales'), { recursive: true });
  h = await startHarness('review_languages', { env: { FLOWS_DIR: join(root, 'flows'), LOCALES_DIR: join(root, 'locales') }, context: { worker: false } });
  await addUser(h.ctx.db, 'kadia', 'admin', PASSWORD);
  const login = await fetch(`${h.base}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ name: 'kadia', password: PASSWORD }).toString() });
  expect(login.status).toBe(303);
  cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('the review of qaa in the console', () => {
  it('shows the qaa review page, named as languages.yaml names it, with every qaa text', async () => {
    const res = await get('/texts?lang=qaa');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<h1>Relecture : Qaa</h1>');
    expect(html).toMatch(/<option value="qaa" selected>Qaa<\/option>/);
    expect(html).toMatch(/<option value="bm" >Bamanankan<\/option>/);
    expect(html).toMatch(/<tr id="row-main:bye.text" class="review-draft" data-id="main:bye.text">/);
    expect(html).toContain('<td class="translation" lang="qaa">Qaa Au revoir.</td>');
    expect(html).toContain('href="/texts/edit?lang=qaa&amp;id=main%3Abye.text"');
    // Without `lang`: the first language under review.
    expect(await (await get('/texts')).text()).toContain('<h1>Relecture : Bamanankan</h1>');
    // French is the source, not a language under review.
    const fr = await get('/texts?lang=fr');
    expect([fr.status, await fr.text()]).toEqual([400, 'Langue inconnue ou sans relecture : « fr » (langues à relire : bm, qaa).']);
  });

  it('signs a qaa text off from the list, in qaa’s block of the ledger alone', async () => {
    const before = bambara();
    const csrf = csrfOf(await (await get('/texts?lang=qaa&state=draft')).text());
    const res = await post('/texts/sign-off', { _csrf: csrf, lang: 'qaa', id: 'main:bye.text', signoff: '1', from: 'list', state: 'draft', ns: '' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/texts?lang=qaa&state=draft&done=main%3Abye.text#row-main%3Abye.text');
    expect(ledger()).toEqual({ version: 2, signoffs: { qaa: { 'main:bye.text': { by: 'kadia', at: expect.any(String), hash: expect.stringMatching(/^[0-9a-f]{16}$/) } } } });
    expect(bambara()).toBe(before);
    const page = await (await get('/texts?lang=qaa&ns=main')).text();
    expect(page).toMatch(/<tr id="row-main:bye.text" class="review-reviewed"/);
    // Bambara's row is as it was: reviewed before the ledger, by no one named.
    const bm = await (await get('/texts?lang=bm&ns=main')).text();
    const row = /<tr id="row-main:bye.text"[\s\S]*?<\/tr>/.exec(bm)![0];
    expect(row).toContain('relu avant le registre des relectures (sans nom)');
    expect(row).not.toContain('kadia');
    const audited = await h.ctx.db.selectFrom('audit_log').select(['target', 'detail']).where('action', '=', 'review_text').execute();
    expect(audited).toEqual([{ target: 'qaa/main:bye.text', detail: 'relu tel quel' }]);
  });

  it('edits a qaa text beside its screens in qaa’s spellings, live at once; refuses one that drops a French placeholder', async () => {
    const edit = await get(`/texts/edit?lang=qaa&id=${encodeURIComponent('main:home.title')}`);
    expect(edit.status).toBe(200);
    const html = await edit.text();
    expect(html).toContain('<code>locales/qaa/main.json</code>');
    expect(html).toMatch(/<textarea name="text" id="text" aria-labelledby="text-title" lang="qaa"[^>]*>Qaa Accueil<\/textarea>/);
    expect(html).toContain('<h2 id="text-title">Qaa</h2>');
    expect(html).toContain('<th>Qaa (orthographe standard)</th><th>Qaa (orthographe « ascii »)</th>');
    expect(html).toContain('href="/simulator?lang=qaa&amp;flow=main"');
    expect(textOf(html)).toContain('Simulateur, flux « main » en Qaa');

    const before = bambara();
    const saved = await post('/texts/sign-off', { _csrf: csrfOf(html), lang: 'qaa', id: 'main:home.title', text: 'Qaa Accueil général', signoff: '1' });
    expect(saved.status).toBe(200);
    expect(textOf(await saved.text())).toMatch(/Texte enregistré et relu\. Publié : version [0-9a-f]{16}\./);
    expect(JSON.parse(file('locales/qaa/main.json')).home.title).toBe('Qaa Accueil général');
    expect(h.ctx.flows.live().texts('qaa', 'main:home.title')).toBe('Qaa Accueil général');
    expect(bambara()).toBe(before);
    expect(Object.keys(ledger().signoffs)).toEqual(['qaa']);
    expect(await h.ctx.db.selectFrom('audit_log').select(['target', 'detail']).where('action', '=', 'edit_text').execute()).toEqual([{ target: 'qaa/main:home.title', detail: 'modifié et relu' }]);

    const qaaBefore = file('locales/qaa/main.json');
    const refused = await post('/texts/sign-off', { _csrf: csrfOf(html), lang: 'qaa', id: 'main:help.text', text: 'Qaa Appelez-nous.', signoff: '1' });
    expect(refused.status).toBe(422);
    const why = textOf(await refused.text());
    expect(why).toContain('Refusé : rien n’est enregistré.');
    expect(why).toContain('main:help.text : les emplacements {{…}} doivent être ceux du français (il manque {{hotline}})');
    expect(file('locales/qaa/main.json')).toBe(qaaBefore);
    // A language not under review is refused before anything is read or written.
    const wrong = await post('/texts/sign-off', { _csrf: csrfOf(html), lang: 'fr', id: 'main:home.title', signoff: '1' });
    expect(wrong.status).toBe(400);
  });

  it('exports qaa’s CSV and imports it back, never touching Bambara’s texts or sign-offs', async () => {
    const res = await get('/texts.csv?lang=qaa&ns=main');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/filename="?kalata-relecture-qaa\.csv"?$/);
    const lines = (await res.text()).replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(lines[0]).toBe('"id","kind","french","qaa","state","reviewed_by","reviewed_at"');
    expect(lines).toContain('"main:home.bye","text","Quitter","Qaa Quitter","draft","",""');
    const edited = `${lines.map((l) => (l.startsWith('"main:home.bye"') ? l.replace('"Qaa Quitter","draft"', '"Qaa Sortir","relu"') : l)).join('\r\n')}\r\n`;
    const csrf = /data-csrf="([^"]+)"/.exec(await (await get('/texts?lang=qaa')).text())![1]!;
    const upload = (path: string) => fetch(`${h.base}${path}`, { method: 'POST', headers: { cookie, 'content-type': 'text/csv', 'x-csrf-token': csrf, accept: 'application/json' }, body: edited });
    // Sent from Bambara's page, a qaa file is refused.
    const mismatch = await upload('/texts/import?lang=bm');
    expect([mismatch.status, ((await mismatch.json()) as { problems: string[] }).problems]).toEqual([422, ['ligne 1 : ce fichier est la relecture de la langue « qaa », pas de « bm » : importez-le depuis la page de cette langue']]);
    const before = bambara();
    const bmSignOffs = ledger().signoffs.bm;
    // The page's script sends no language: the file's header names it.
    const done = await upload('/texts/import');
    expect(done.status).toBe(200);
    expect(((await done.json()) as { message: string }).message).toMatch(/^Import enregistré : 1 texte\(s\) modifié\(s\), 1 relu\(s\)\./);
    expect(JSON.parse(file('locales/qaa/main.json')).home.bye).toBe('Qaa Sortir');
    expect(ledger().signoffs.qaa!['main:home.bye']!.by).toBe('kadia');
    expect(bambara()).toBe(before);
    expect(ledger().signoffs.bm).toEqual(bmSignOffs);
    const audited = await h.ctx.db.selectFrom('audit_log').select(['action', 'detail']).where('action', 'in', ['import_texts', 'export_texts']).orderBy('id').execute();
    expect(audited).toEqual([
      { action: 'export_texts', detail: 'lang=qaa&ns=main' },
      { action: 'import_texts', detail: 'bm : refusé (1 problème(s))' },
      { action: 'import_texts', detail: 'qaa : 1 modifié(s), 1 relu(s)' },
    ]);
  });

  it('counts what awaits review per language on the Menus page, by the language’s name', async () => {
    const html = await (await get('/flows')).text();
    const text = textOf(html);
    expect(text).toMatch(/locales\/qaa\/main\.json:1:1 \d+ textes en Qaa sur \d+ attendent la relecture d’un locuteur/);
    expect(text).toMatch(/flows\/variables\.yaml:1:1 1 variables sur 1 \(valeurs en Qaa\) attendent la relecture d’un locuteur/);
    expect(text).toMatch(/locales\/bm\/main\.json:1:1 \d+ textes en Bamanankan sur \d+/);
  });
});
