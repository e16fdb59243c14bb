/**
 * Accounts (issue 15): the first admin from the one-time setup link, and the
 * admins' page (create, disable and re-enable, change a role, reset a
 * password), through the real app on real PostgreSQL and on the embedded
 * PGlite that `npm start` uses, with redis-server for the sign-in limits.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AccountError, changeRole, createSetupToken, listUsers, setDisabled } from '../../src/store/user-store.js';
import { AUDIT_ACTIONS } from '../../src/web/console/labels.js';
import { startHarness, type Harness } from '../support/harness.js';

const ADMIN_PASSWORD = 'the first admin password';
const OPERATOR_PASSWORD = 'awa chooses her own password';

describe.each([
  ['PostgreSQL', false],
  ['embedded PGlite', true],
])('accounts on %s', (_label, pglite) => {
  let h: Harness;
  /** Each test speaks from its own address: the sign-in limits count per address. */
  let from = '198.51.100.1';

  beforeAll(async () => {
    h = await startHarness(pglite ? 'accounts_pglite' : 'accounts', { pglite, context: { worker: false } });
  }, 60_000);
  afterAll(() => h?.close());

  const post = (path: string, fields: Record<string, string>, cookie = '') =>
    fetch(`${h.base}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from, ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams(fields).toString(),
    });
  const get = (path: string, cookie = '') => fetch(`${h.base}${path}`, { redirect: 'manual', headers: { 'x-forwarded-for': from, accept: 'text/html', ...(cookie ? { cookie } : {}) } });
  const cookieOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
  const login = (name: string, password: string) => post('/login', { name, password });
  const deadPage = async (res: Response) => {
    const html = await res.text();
    expect(html).toContain('Ce lien ne fonctionne pas : il a déjà servi, il a expiré, ou il n’est pas complet.');
    return html.replace(/\s+/g, ' ');
  };
  const account = async (name: string) => (await listUsers(h.ctx.db)).find((u) => u.name === name)!;
  const actions = async () => (await h.ctx.db.selectFrom('audit_log').select(['action', 'user_name', 'target', 'detail']).orderBy('id').execute());

  let adminCookie = '';
  let adminCsrf = '';

  describe('the first admin, from the setup link', () => {
    let token: string;
    let other: string;

    it('a start with no account makes a link, stored only as its SHA-256 hash', async () => {
      token = (await createSetupToken(h.ctx.db))!;
      other = (await createSetupToken(h.ctx.db))!;
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(other).not.toBe(token);
      const rows = await h.ctx.db.selectFrom('setup_tokens').selectAll().execute();
      expect(rows.map((r) => r.token_hash).sort()).toEqual([token, other].map((t) => createHash('sha256').update(t).digest('hex')).sort());
      expect(JSON.stringify(rows)).not.toContain(token);
      for (const r of rows) expect(new Date(r.expires_at).getTime() - Date.now()).toBeGreaterThan(59 * 60_000);
      const page = await get(`/setup?token=${token}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Premier administrateur');
    });

    it('a wrong, truncated or expired link answers the same plain page, saying not which', async () => {
      from = '198.51.100.2';
      const expired = (await createSetupToken(h.ctx.db, -1000))!;
      const pages = [];
      for (const t of ['x'.repeat(43), token.slice(0, 20), expired, '']) {
        const res = await get(`/setup?token=${encodeURIComponent(t)}`);
        expect(res.status).toBe(404);
        pages.push(await deadPage(res));
      }
      expect(new Set(pages).size).toBe(1);
      const posted = await post('/setup', { token: expired, name: 'intrus', password: ADMIN_PASSWORD, password2: ADMIN_PASSWORD });
      expect(posted.status).toBe(404);
      expect(await h.ctx.db.selectFrom('users').select('id').execute()).toEqual([]);
    });

    it('keeps the link when the form is wrong: passwords that differ, too short, a bad name', async () => {
      from = '198.51.100.3';
      const differ = await post('/setup', { token, name: 'amina', password: ADMIN_PASSWORD, password2: `${ADMIN_PASSWORD}!` });
      expect(differ.status).toBe(400);
      expect(await differ.text()).toContain('Les deux mots de passe diffèrent.');
      const short = await post('/setup', { token, name: 'amina', password: 'court', password2: 'court' });
      expect(await short.text()).toContain('Le mot de passe doit faire au moins 12 caractères.');
      const name = await post('/setup', { token, name: 'amina traoré', password: ADMIN_PASSWORD, password2: ADMIN_PASSWORD });
      expect([name.status, (await name.text()).includes('sans espace')]).toEqual([400, true]);
      expect((await get(`/setup?token=${token}`)).status).toBe(200);
    });

    it('two forms sent at once, on two links, make one admin, signed in; every link is then dead', async () => {
      from = '198.51.100.4';
      const [a, b] = await Promise.all([
        post('/setup', { token, name: 'amina', password: ADMIN_PASSWORD, password2: ADMIN_PASSWORD }),
        post('/setup', { token: other, name: 'moussa', password: ADMIN_PASSWORD, password2: ADMIN_PASSWORD }),
      ]);
      expect([a.status, b.status].sort()).toEqual([303, 404]);
      const won = a.status === 303 ? a : b;
      expect(won.headers.get('location')).toBe('/accounts?welcome=1');
      const users = await listUsers(h.ctx.db);
      expect(users.map((u) => u.role)).toEqual(['admin']);
      const name = users[0]!.name;
      adminCookie = cookieOf(won);
      const accounts = await get(won.headers.get('location')!, adminCookie);
      expect(accounts.status).toBe(200);
      const html = await accounts.text();
      expect(html).toContain('Bienvenue : votre compte administrateur est créé');
      adminCsrf = csrfOf(html);
      for (const t of [token, other]) await deadPage(await get(`/setup?token=${t}`));
      await deadPage(await post('/setup', { token, name: 'encore', password: ADMIN_PASSWORD, password2: ADMIN_PASSWORD }));
      expect(await createSetupToken(h.ctx.db)).toBeUndefined();
      expect(await h.ctx.db.selectFrom('setup_tokens').select('used_at').where('purpose', '=', 'first_admin').where('used_at', 'is', null).execute()).toEqual([]);
      expect((await actions()).filter((x) => x.action === 'setup_admin')).toEqual([{ action: 'setup_admin', user_name: name, target: name, detail: `depuis ${from}` }]);
      // The rest of the file speaks of amina.
      if (name !== 'amina') await h.ctx.db.updateTable('users').set({ name: 'amina' }).execute();
      expect((await login('amina', ADMIN_PASSWORD)).status).toBe(303);
    });

    it('wrong links are limited like sign-ins: past 10 failures from one address, even a good page is refused', async () => {
      from = '198.51.100.5';
      for (let i = 0; i < 10; i++) expect((await get(`/setup?token=${'y'.repeat(43)}`)).status).toBe(404);
      const refused = await get(`/setup?token=${'y'.repeat(43)}`);
      expect(refused.status).toBe(429);
      expect(await refused.text()).toContain('Trop de tentatives depuis cette adresse.');
    });
  });

  describe('the accounts page', () => {
    let awaCookie = '';

    it('is for admins only, and every change needs the CSRF token', async () => {
      from = '198.51.100.10';
      expect((await get('/accounts')).headers.get('location')).toBe('/login?next=%2Faccounts');
      const noToken = await post('/accounts', { name: 'awa', role: 'operator' }, adminCookie);
      expect(noToken.status).toBe(403);
      expect(await account('awa')).toBeUndefined();
    });

    it('creates an account without a password: its owner chooses one from a one-time link', async () => {
      const res = await post('/accounts', { _csrf: adminCsrf, name: 'awa', role: 'operator' }, adminCookie);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('Compte « awa » créé (Opérateur).');
      const link = /<code class="link" id="account-link-url">([^<]+)<\/code>/.exec(html)![1]!;
      expect(link).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/password\\?token=[A-Za-z0-9_-]{43}$`));
      expect((await account('awa')).password_pending).toBe(true);
      // Nothing signs in before the password is chosen.
      expect((await login('awa', '')).status).toBe(401);
      const path = new URL(link).pathname + new URL(link).search;
      const form = await get(path);
      expect(await form.text()).toContain('Choisissez le mot de passe du compte <strong id="account-name">awa</strong>');
      const token = new URL(link).searchParams.get('token')!;
      const set = await post('/password', { token, password: OPERATOR_PASSWORD, password2: OPERATOR_PASSWORD });
      expect([set.status, set.headers.get('location')]).toEqual([303, '/']);
      awaCookie = cookieOf(set);
      expect((await get('/', awaCookie)).status).toBe(200);
      expect((await get('/accounts', awaCookie)).status).toBe(403);
      await deadPage(await get(path));
      expect((await account('awa')).password_pending).toBe(false);
      const taken = await post('/accounts', { _csrf: adminCsrf, name: 'awa', role: 'admin' }, adminCookie);
      expect([taken.status, (await taken.text()).includes('Ce nom est déjà pris.')]).toEqual([409, true]);
    });

    it('disabling an account ends its open sessions at once and refuses its sign-in; re-enabling lets it back', async () => {
      from = '198.51.100.11';
      const awa = await account('awa');
      const res = await post(`/accounts/${awa.id}/disable`, { _csrf: adminCsrf }, adminCookie);
      expect(await res.text()).toContain('Compte « awa » désactivé');
      expect((await get('/', awaCookie)).status).toBe(303);
      expect(await h.ctx.db.selectFrom('console_sessions').select('id_hash').where('user_id', '=', awa.id).execute()).toEqual([]);
      expect((await login('awa', OPERATOR_PASSWORD)).status).toBe(401);
      expect((await account('awa')).disabled_at).toBeInstanceOf(Date);
      await post(`/accounts/${awa.id}/enable`, { _csrf: adminCsrf }, adminCookie);
      expect((await account('awa')).disabled_at).toBeNull();
      const back = await login('awa', OPERATOR_PASSWORD);
      expect(back.status).toBe(303);
      awaCookie = cookieOf(back);
      expect((await account('awa')).last_login_at).toBeInstanceOf(Date);
    });

    it('never leaves the console without an active admin: the last admin cannot disable nor demote themself', async () => {
      from = '198.51.100.12';
      // An admin who has not chosen a password yet cannot sign in: not an active admin.
      await post('/accounts', { _csrf: adminCsrf, name: 'moussa', role: 'admin' }, adminCookie);
      expect(await account('moussa')).toMatchObject({ role: 'admin', password_pending: true });
      const amina = await account('amina');
      for (const [path, body] of [
        [`/accounts/${amina.id}/disable`, {}],
        [`/accounts/${amina.id}/role`, { role: 'operator' }],
      ] as const) {
        const res = await post(path, { _csrf: adminCsrf, ...body }, adminCookie);
        expect(res.status).toBe(409);
        expect(await res.text()).toContain('Refusé : la console n’aurait plus aucun administrateur actif.');
      }
      expect(await account('amina')).toMatchObject({ role: 'admin', disabled_at: null });
      await expect(setDisabled(h.ctx.db, { name: 'amina' }, true)).rejects.toThrow(AccountError);
    });

    it('changes a role at once, for the open session too; two admins demoting each other at once leave one', async () => {
      const awa = await account('awa');
      const res = await post(`/accounts/${awa.id}/role`, { _csrf: adminCsrf, role: 'admin' }, adminCookie);
      expect(await res.text()).toContain('« awa » est maintenant administrateur.');
      expect((await get('/accounts', awaCookie)).status).toBe(200);
      const amina = await account('amina');
      const results = await Promise.allSettled([changeRole(h.ctx.db, { id: amina.id }, 'operator'), changeRole(h.ctx.db, { id: awa.id }, 'operator')]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const rejected = results.find((r) => r.status === 'rejected')!;
      expect(((rejected as PromiseRejectedResult).reason as AccountError).problem).toBe('last_admin');
      const admins = (await listUsers(h.ctx.db)).filter((u) => u.role === 'admin' && !u.disabled_at && !u.password_pending);
      expect(admins).toHaveLength(1);
      // Back to amina as the admin and awa as an operator, as the page would.
      if (admins[0]!.name === 'awa') {
        await changeRole(h.ctx.db, { id: amina.id }, 'admin');
        await changeRole(h.ctx.db, { id: awa.id }, 'operator');
      }
      expect((await get('/accounts', awaCookie)).status).toBe(403);
    });

    it('a password reset stops the old password and the sessions at once; the link works once', async () => {
      from = '198.51.100.13';
      const awa = await account('awa');
      const res = await post(`/accounts/${awa.id}/reset`, { _csrf: adminCsrf }, adminCookie);
      const html = await res.text();
      expect(html).toContain('Mot de passe de « awa » réinitialisé : l’ancien ne fonctionne plus');
      const token = new URL(/id="account-link-url">([^<]+)</.exec(html)![1]!).searchParams.get('token')!;
      expect((await get('/', awaCookie)).status).toBe(303);
      expect((await login('awa', OPERATOR_PASSWORD)).status).toBe(401);
      // A second reset replaces the first link.
      const again = await post(`/accounts/${awa.id}/reset`, { _csrf: adminCsrf }, adminCookie);
      const second = new URL(/id="account-link-url">([^<]+)</.exec(await again.text())![1]!).searchParams.get('token')!;
      await deadPage(await get(`/password?token=${token}`));
      const set = await post('/password', { token: second, password: 'a brand new password', password2: 'a brand new password' });
      expect(set.status).toBe(303);
      await deadPage(await post('/password', { token: second, password: 'yet another password', password2: 'yet another password' }));
      expect((await login('awa', 'a brand new password')).status).toBe(303);
    });

    it('a reset link dies with its account disabled', async () => {
      const awa = await account('awa');
      const res = await post(`/accounts/${awa.id}/reset`, { _csrf: adminCsrf }, adminCookie);
      const token = new URL(/id="account-link-url">([^<]+)</.exec(await res.text())![1]!).searchParams.get('token')!;
      await post(`/accounts/${awa.id}/disable`, { _csrf: adminCsrf }, adminCookie);
      await deadPage(await get(`/password?token=${token}`));
      const refused = await post(`/accounts/${awa.id}/reset`, { _csrf: adminCsrf }, adminCookie);
      expect([refused.status, (await refused.text()).includes('Ce compte est désactivé : réactivez-le d’abord.')]).toEqual([409, true]);
      await post(`/accounts/${awa.id}/enable`, { _csrf: adminCsrf }, adminCookie);
    });

    it('audits every change, each with a French label', async () => {
      const rows = await actions();
      const written = new Set(rows.map((r) => r.action));
      for (const action of ['setup_admin', 'create_account', 'set_password', 'disable_account', 'enable_account', 'change_role', 'reset_password', 'login']) expect([action, written.has(action)]).toEqual([action, true]);
      for (const action of written) expect([action, action in AUDIT_ACTIONS]).toEqual([action, true]);
      expect(rows).toContainEqual({ action: 'change_role', user_name: 'amina', target: 'awa', detail: 'Opérateur → Administrateur' });
      expect(rows).toContainEqual({ action: 'create_account', user_name: 'amina', target: 'awa', detail: 'Opérateur' });
      const audit = await get('/audit?action=disable_account', adminCookie);
      expect(await audit.text()).toContain('Compte désactivé');
    });
  });
});
