/**
 * The menu editor's endpoints without a browser: a real process on real
 * PostgreSQL and Redis following the content versions. The check answers
 * problems, lengths, the diff and a compiled draft to preview; a publish
 * answers published, unchanged, refused (422) or conflict (409); bad drafts
 * get a sentence, never a stack.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { addUser } from '../../src/store/user-store.js';
import { contentCopy } from '../support/content.js';
import { startHarness, type Harness } from '../support/harness.js';

const PASSWORD = 'a-long-test-password';
let h: Harness;
let cookie: string;
let csrf: string;
let live: { basedOn: string; files: Record<string, string> };

async function signIn(name: string): Promise<string> {
  const res = await fetch(`${h.base}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ name, password: PASSWORD }).toString() });
  expect(res.status).toBe(303);
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

/** The editor page's data: the version it starts from and its files. */
async function editorPage(): Promise<string> {
  const res = await fetch(`${h.base}/editor`, { headers: { cookie } });
  expect(res.status).toBe(200);
  const html = await res.text();
  csrf = /id="editor-script" data-csrf="([^"]+)"/.exec(html)![1]!;
  live = JSON.parse(/<script type="application\/json" id="editor-data">([^<]*)<\/script>/.exec(html)![1]!) as typeof live;
  return html;
}

async function post(path: string, body: unknown): Promise<{ status: number; data: any; text: string }> {
  const res = await fetch(`${h.base}${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': csrf }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  return { status: res.status, data, text };
}

const withTitle = (title: string) => ({ ...live.files, 'locales/fr/main.json': live.files['locales/fr/main.json']!.replace('"title": "Kalata: infos sur le vote"', `"title": "${title}"`) });

beforeAll(async () => {
  h = await startHarness('editor_api', { env: { ...contentCopy('kalata-editor-api-') } });
  await addUser(h.ctx.db, 'fatou', 'admin', PASSWORD);
  cookie = await signIn('fatou');
  await editorPage();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('the check', () => {
  it('answers the problems, each text’s length, the screens, the diff and a draft to preview', async () => {
    const { status, data } = await post('/editor/check', { files: withTitle('Kalata: tout sur le vote') });
    expect(status).toBe(200);
    expect(data.ok).toBe(true);
    expect(data.liveId).toBe(live.basedOn);
    expect(data.texts['locales/fr/main.json']['home.title']).toEqual({ length: 24, encoding: 'GSM-7', limit: 182 });
    expect(data.screens['main:home.title'].fr).toMatchObject({ node: 'main.home', encoding: 'GSM-7', limit: 182 });
    expect(data.diff).toHaveLength(1);
    expect(data.diff[0]).toMatchObject({ file: 'locales/fr/main.json', added: 1, removed: 1 });
    expect(typeof data.preview).toBe('string');

    // The preview phone runs that draft, not the live version.
    const first = await post(`/editor/preview/${data.preview}/step`, { lang: 'fr' });
    expect(first.status).toBe(200);
    const home = await post(`/editor/preview/${data.preview}/step`, { session: first.data.session, input: '1' });
    expect(home.data.screen.text).toMatch(/^Kalata: tout sur le vote/);
  });

  it('previews a language the draft adds, before it is live', async () => {
    // A third language (qaa, ISO 639's local-use range): a locale folder, a value per variable, one entry in languages.yaml.
    const files: Record<string, string> = { ...live.files };
    for (const [path, text] of Object.entries(live.files)) if (path.startsWith('locales/fr/')) files[path.replace('locales/fr/', 'locales/qaa/')] = text;
    files['flows/variables.yaml'] = live.files['flows/variables.yaml']!.replace(/^( {2})fr: (.*)$/gm, '$1fr: $2\n$1qaa: $2');
    files['flows/languages.yaml'] = `${live.files['flows/languages.yaml']!.trimEnd()}\n  - code: qaa\n    name: Qaa\n`;
    const { data } = await post('/editor/check', { files });
    expect(data.problems.filter((p: { severity: string }) => p.severity === 'error')).toEqual([]);
    expect(data.languages).toEqual([{ code: 'fr', name: 'Français' }, { code: 'bm', name: 'Bamanankan' }, { code: 'qaa', name: 'Qaa' }]);
    const first = await post(`/editor/preview/${data.preview}/step`, { lang: 'qaa' });
    expect(first.status).toBe(200);
    expect(first.data.session.lang).toBe('qaa');
  });

  it('places an error at its file, line and column, and offers no preview', async () => {
    const flow = live.files['flows/main.yaml']!;
    const broken = flow.replace('language: fr, next: home', 'language: fr, next: nowhere_at_all');
    const { data } = await post('/editor/check', { files: { ...live.files, 'flows/main.yaml': broken } });
    expect(data.ok).toBe(false);
    expect(data.preview).toBeNull();
    const line = broken.split('\n').findIndex((l) => l.includes('nowhere_at_all')) + 1;
    expect(data.problems).toContainEqual(expect.objectContaining({ file: 'flows/main.yaml', line, severity: 'error', message: expect.stringContaining('nowhere_at_all') }));
  });

  it('reports broken YAML and JSON as problems of their files, not as a failure', async () => {
    const files = { ...live.files, 'flows/main.yaml': live.files['flows/main.yaml']!.replace('nodes:', 'nodes: [\n'), 'locales/fr/main.json': '{ "home": ' };
    const { status, data } = await post('/editor/check', { files });
    expect(status).toBe(200);
    const errors = data.problems.filter((p: { severity: string }) => p.severity === 'error').map((p: { file: string }) => p.file);
    expect(errors).toEqual(expect.arrayContaining(['flows/main.yaml', 'locales/fr/main.json']));
    // The unreadable JSON has no lengths to show; the others still do.
    expect(data.texts['locales/fr/main.json']).toBeUndefined();
    expect(data.texts['locales/bm/main.json']['home.title']).toBeDefined();
  });

  it('refuses a bad draft with a sentence', async () => {
    expect(await post('/editor/check', { files: { 'flows/../../x.yaml': 'a' } })).toMatchObject({ status: 400, text: expect.stringMatching(/^Brouillon refusé : /) });
    expect(await post('/editor/check', { files: { 'flows/a.yaml': 3 } })).toMatchObject({ status: 400, text: 'Brouillon refusé : flows/a.yaml: not text' });
    expect(await post('/editor/check', '{"files":')).toMatchObject({ status: 400, text: 'Corps de requête illisible : JSON attendu.' });
    const huge = { files: { 'flows/a.yaml': 'x'.repeat(5 * 1024 * 1024) } };
    expect(await post('/editor/check', huge)).toMatchObject({ status: 413, text: expect.stringMatching(/^Brouillon trop gros/) });
    expect((await post('/editor/preview/feedfeedfeedfeed/step', { lang: 'fr' })).status).toBe(409);
  });
});

describe('publishing', () => {
  it('needs a note and the version the draft started from', async () => {
    expect(await post('/editor/publish', { files: live.files, basedOn: live.basedOn, note: ' ' })).toMatchObject({ status: 400, text: 'Une note est nécessaire : dites ce qui change.' });
    expect(await post('/editor/publish', { files: live.files, note: 'x' })).toMatchObject({ status: 400, text: 'Version de départ absente : rechargez la page.' });
  });

  it('answers refused, unchanged, published and conflict, and audits the publish', async () => {
    const before = live.basedOn;
    const broken = { ...live.files, 'flows/main.yaml': live.files['flows/main.yaml']!.replace('next: home', 'next: nowhere_at_all') };
    const refused = await post('/editor/publish', { files: broken, basedOn: before, note: 'cassé' });
    expect(refused.status).toBe(422);
    expect(refused.data.problems.some((p: { file: string; severity: string }) => p.file === 'flows/main.yaml' && p.severity === 'error')).toBe(true);

    expect((await post('/editor/publish', { files: live.files, basedOn: before, note: 'rien' })).data).toEqual({ kind: 'unchanged', id: before });

    const published = await post('/editor/publish', { files: withTitle('Kalata: tout sur le vote'), basedOn: before, note: 'titre' });
    expect(published.status).toBe(200);
    expect(published.data.kind).toBe('published');
    const audit = await h.ctx.db.selectFrom('audit_log').select(['user_name', 'target', 'detail']).where('action', '=', 'publish_flows').where('user_name', '=', 'fatou').execute();
    expect(audit).toEqual([{ user_name: 'fatou', target: published.data.id, detail: 'titre' }]);

    // A draft still based on the version before: refused, with what changed since.
    const conflict = await post('/editor/publish', { files: withTitle('Kalata: le vote'), basedOn: before, note: 'autre titre' });
    expect(conflict.status).toBe(409);
    expect(conflict.data).toMatchObject({ kind: 'conflict', basedOn: before, liveId: published.data.id, liveAuthor: 'fatou', liveNote: 'titre' });
    expect(conflict.data.theirs[0].hunks.flat()).toContainEqual(expect.objectContaining({ kind: 'added', text: '    "title": "Kalata: tout sur le vote",' }));
    expect(conflict.data.liveFiles['locales/fr/main.json']).toContain('Kalata: tout sur le vote');
    expect(h.ctx.content!.current()).toBe(published.data.id);
  });

  it('rolls back only a version that exists, and exports a version as JSON', async () => {
    const form = (path: string) => fetch(`${h.base}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf }).toString() });
    expect((await form('/editor/versions/999/rollback')).status).toBe(404);
    const back = await form(`/editor/versions/${live.basedOn}/rollback`);
    expect([back.status, back.headers.get('location')]).toEqual([303, `/editor?rolledBack=${live.basedOn}`]);
    expect(h.ctx.content!.current()).toBe(live.basedOn);
    const exported = await fetch(`${h.base}/editor/versions/${live.basedOn}.json`, { headers: { cookie } });
    expect(exported.headers.get('content-disposition')).toContain(`kalata-version-${live.basedOn}.json`);
    expect(((await exported.json()) as { files: Record<string, string> }).files).toEqual(live.files);
    expect((await fetch(`${h.base}/editor/versions/nothing.json`, { headers: { cookie } })).status).toBe(404);
  });
});

describe('a process without content versions', () => {
  it('says the editor is unavailable', async () => {
    const own = await startHarness('editor_api_own', { context: { flows: h.ctx.flows.live() } });
    try {
      expect(own.ctx.content).toBeUndefined();
      await addUser(own.ctx.db, 'fatou', 'admin', PASSWORD);
      const res = await fetch(`${own.base}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ name: 'fatou', password: PASSWORD }).toString() });
      const session = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
      const page = await fetch(`${own.base}/editor`, { headers: { cookie: session } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('id="editor-unavailable"');
    } finally {
      await own.close();
    }
  }, 60_000);
});
