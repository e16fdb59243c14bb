/**
 * What an attack on a live deployment found (issue 12), each replayed against
 * the real app on a real PostgreSQL and redis-server: parallel password
 * guesses, an account locked for its owner, a database error during an
 * operator's action, hostile query strings and headers, a long dial string,
 * and an audit log where ordinary work hid the reveals.
 *
 * Requests come from 127.0.0.1; the app trusts X-Forwarded-For from loopback
 * (TRUST_PROXY's default), so each test names the address it attacks from.
 */
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { createLoginLimiter, DEFAULT_LOGIN_LIMITS } from '../../src/web/console/console-auth.js';
import { MAX_DIAL_INPUTS } from '../../src/runtime/call-runtime.js';
import { addUser, audit } from '../../src/store/user-store.js';
import { converse, startHarness, type Harness } from '../support/harness.js';
import { freshRedisPrefix } from '../support/databases.js';

const PASSWORD = 'the-real-password-of-amina';
let h: Harness;

beforeAll(async () => {
  h = await startHarness('attacks', { context: { worker: false } });
  await addUser(h.ctx.db, 'amina', 'admin', PASSWORD);
  await addUser(h.ctx.db, 'oumar', 'operator', PASSWORD);
  // Accounts no guess is aimed at (the others are slowed by the guesses of the first tests).
  await addUser(h.ctx.db, 'awa', 'operator', PASSWORD);
  await addUser(h.ctx.db, 'moussa', 'admin', PASSWORD);
  await addUser(h.ctx.db, 'fatou', 'operator', PASSWORD);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

function login(name: string, password: string, from: string, extra: Record<string, string> = {}) {
  return fetch(`${h.base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from, ...extra },
    body: new URLSearchParams({ name, password }).toString(),
  });
}

const failedChecks = async (name: string) =>
  Number((await h.ctx.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<string>().as('n')).where('action', '=', 'login_failed').where('target', '=', name).executeTakeFirstOrThrow()).n);

/** Signs in and returns the session cookie. */
async function session(name: string, from: string): Promise<string> {
  const res = await login(name, PASSWORD, from);
  expect(res.status).toBe(303);
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

describe('parallel password guesses', () => {
  it('the limit is counted before the check: of 300 guesses sent at once, and again and again, 10 are checked', async () => {
    const attacker = '203.0.113.7';
    const statuses = new Map<number, number>();
    const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
    // Three waves of 300 requests in flight at once: a guess refused as "busy" is simply sent again.
    for (let wave = 0; wave < 3; wave++) {
      const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => login('amina', `guess-${wave}-${i}`, attacker)));
      for (const a of answers) count(a.status);
      await Promise.all(answers.map((a) => a.arrayBuffer()));
    }
    const checked = statuses.get(401) ?? 0;
    console.log(`parallel guesses: ${checked} of 900 checked; answers ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(checked).toBe(DEFAULT_LOGIN_LIMITS.perAccountAndAddress);
    expect(await failedChecks('amina')).toBe(checked);
    expect(statuses.get(429)).toBe(900 - checked);
    // The right password, late, from the attacker's address: refused, never checked.
    const late = await login('amina', PASSWORD, attacker);
    expect(late.status).toBe(429);
    expect(await late.text()).toContain('Trop de tentatives');
  });

  it('a right password hidden in a burst of 60 does not get in past the limit', async () => {
    const attacker = '203.0.113.8';
    const burst = Array.from({ length: 60 }, (_, i) => login('oumar', i === 59 ? PASSWORD : `guess-${i}`, attacker));
    const answers = await Promise.all(burst);
    const checked = answers.filter((a) => a.status === 401 || a.status === 303).length;
    expect(checked).toBeLessThanOrEqual(DEFAULT_LOGIN_LIMITS.perAccountAndAddress);
    // Keep guessing until refused: no more than the limit is ever checked from this address.
    for (let i = 0; i < 20; i++) await (await login('oumar', `more-${i}`, attacker)).arrayBuffer();
    expect(await failedChecks('oumar')).toBeLessThanOrEqual(DEFAULT_LOGIN_LIMITS.perAccountAndAddress);
    expect((await login('oumar', PASSWORD, attacker)).status).toBe(429);
  });

  it('the owner, from her own address, still gets in: slowed, not refused', async () => {
    // amina's account has failed 10 times (the first test): her own sign-in waits, then succeeds.
    const began = Date.now();
    const res = await login('amina', PASSWORD, '198.51.100.20');
    expect(res.status).toBe(303);
    expect(Date.now() - began).toBeGreaterThanOrEqual(900);
  });

  it('slowed guesses from many addresses cannot keep the owner out (they hold no place she needs)', async () => {
    // amina has failed 10 times and more: every try on her account is slowed. Eight guesses from eight
    // other addresses wait their slow-down while she signs in from her own.
    const guesses = Array.from({ length: 8 }, (_, i) => login('amina', `slowed-${i}`, `203.0.113.${100 + i}`));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const owner = await login('amina', PASSWORD, '198.51.100.26');
    expect(owner.status).toBe(303);
    await Promise.all((await Promise.all(guesses)).map((g) => g.arrayBuffer()));
  });

  it('one /64 is one address however it is written: 4 addresses of 2001:db8::/64 get 10 checks together', async () => {
    let checked = 0;
    for (const host of ['2001:db8::a:1', '2001:db8::b:1', '2001:DB8:0:0::c:1', '2001:db8:0:0:d::1']) {
      for (let i = 0; i < 12; i++) {
        const res = await login('awa', `v6-${host}-${i}`, host);
        if (res.status === 401) checked += 1;
        await res.arrayBuffer();
      }
    }
    expect(checked).toBeLessThanOrEqual(DEFAULT_LOGIN_LIMITS.perAccountAndAddress);
  });

  it('the count is atomic across connections: 300 attempts at once on 4 connections admit exactly the limit', async () => {
    const prefix = `${freshRedisPrefix('login-atomic')}:`;
    const clients = Array.from({ length: 4 }, () => new Redis(process.env.TEST_REDIS_URL!));
    try {
      const limiters = clients.map((c) => createLoginLimiter(c, prefix));
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => limiters[i % 4]!.admit('192.0.2.1', 'awa')));
      expect(results.filter((r) => r.admitted)).toHaveLength(DEFAULT_LOGIN_LIMITS.perAccountAndAddress);
      // Another address is counted apart; a success gives its attempt back.
      const elsewhere = await limiters[0]!.admit('192.0.2.2', 'awa');
      expect(elsewhere).toEqual({ admitted: true, delayMs: 0 });
    } finally {
      for (const c of clients) c.disconnect();
    }
  });
});

/** A sign-in sent with a chosen Host header (fetch cannot set it): the status and the cookies set. */
function signInAs(host: string, name: string, password: string, cookie = ''): Promise<{ status: number; cookies: string[] }> {
  const body = new URLSearchParams({ name, password }).toString();
  const { port } = new URL(h.base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/login', agent: false, headers: { host, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), ...(cookie ? { cookie } : {}), 'x-forwarded-for': '198.51.100.50' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, cookies: ([] as string[]).concat(res.headers['set-cookie'] ?? []) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the session cookie', () => {
  it('is Secure and __Host- off this machine, even in development; plain only on localhost', async () => {
    await addUser(h.ctx.db, 'kadi', 'operator', PASSWORD);
    const lan = await signInAs('kalata.example.org', 'kadi', PASSWORD);
    expect(lan.status).toBe(303);
    expect(lan.cookies).toEqual([expect.stringMatching(/^__Host-kalata=[^;]+; .*HttpOnly.*Secure.*SameSite=Strict/i)]);
    const local = await signInAs(`localhost:${new URL(h.base).port}`, 'kadi', PASSWORD);
    expect(local.status).toBe(303);
    expect(local.cookies).toEqual([expect.stringMatching(/^kalata=[^;]+; /)]);
    expect(local.cookies[0]).not.toMatch(/Secure/i);
  });

  it('is a new one at each sign-in: a session id planted before sign-in is not the one signed in (no fixation)', async () => {
    const host = `localhost:${new URL(h.base).port}`;
    const first = await signInAs(host, 'kadi', PASSWORD);
    const planted = first.cookies[0]!.split(';')[0]!;
    const again = await signInAs(host, 'kadi', PASSWORD, planted);
    const issued = again.cookies[0]!.split(';')[0]!;
    expect(issued).toMatch(/^kalata=/);
    expect(issued).not.toBe(planted);
  });
});

describe('a role the code does not know', () => {
  it('opens no page at all, not even an operator one (the check failed open before)', async () => {
    await addUser(h.ctx.db, 'issa', 'operator', PASSWORD);
    const cookie = await session('issa', '198.51.100.40');
    await sql`update users set role = 'superviseur' where name = 'issa'`.execute(h.ctx.db);
    for (const path of ['/calls', '/reports', '/flows', '/audit']) {
      const res = await fetch(`${h.base}${path}`, { headers: { cookie }, redirect: 'manual' });
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
  });
});

describe('a database error during an operator action', () => {
  it('answers 500 and keeps serving; no promise is left to reject unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const [, , , , , , , , , end] = await converse(h, { sessionId: 'ATUid_attack_report', phoneNumber: '+22376300001' }, ['1', '2', '1', '1', '1', '5', 'Kati', 'Des billets', '1']);
      const ref = /KA-[0-9A-Z]{7}/.exec(end!)![0];
      const report = await h.ctx.db.selectFrom('reports').select('id').where('ref', '=', ref).executeTakeFirstOrThrow();
      const cookie = await session('moussa', '198.51.100.21');
      const page = await (await fetch(`${h.base}/reports/${report.id}`, { headers: { cookie } })).text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
      // The status change commits; the page shown after it cannot be read (a table it reads is gone).
      await sql`alter table sms_outbox rename to sms_outbox_away`.execute(h.ctx.db);
      let res: Response;
      try {
        res = await fetch(`${h.base}/reports/${report.id}/status`, {
          method: 'POST',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ _csrf: csrf, status: 'verifying' }).toString(),
          signal: AbortSignal.timeout(5000),
        });
      } finally {
        await sql`alter table sms_outbox_away rename to sms_outbox`.execute(h.ctx.db);
      }
      expect(res.status).toBe(500);
      expect(await res.text()).toBe('internal error');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(unhandled).toEqual([]);
      expect((await fetch(`${h.base}/reports/${report.id}`, { headers: { cookie } })).status).toBe(200);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a web or worker process logs an unhandled rejection and keeps serving', () => {
    const script = `
      import { createLogger } from './src/logger.ts';
      import { keepServingOnUnhandledRejection } from './src/main/process-guards.ts';
      keepServingOnUnhandledRejection(createLogger('info'));
      void Promise.reject(new Error('a bug somewhere'));
      setTimeout(() => console.log('still serving'), 200);
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('unhandled promise rejection');
    expect(r.stdout).toContain('a bug somewhere');
    expect(r.stdout).toContain('still serving');
  });
});

describe('small faults answer 4xx with a reason, never 500', () => {
  it('a malformed Origin header on /login is a 400, and nothing is logged as a failure', async () => {
    const logged = h.logs.length;
    const res = await login('amina', PASSWORD, '198.51.100.22', { origin: 'http://[not a url' });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('En-tête Origin illisible.');
    expect(h.logs.slice(logged).join('')).not.toContain('request failed');
  });

  it('a NUL byte in a sign-in name or a filter is a 400 or ignored, never a 500', async () => {
    const res = await login('ami\u0000na', 'x', '198.51.100.27');
    expect(res.status).toBe(400);
    const cookie = await session('moussa', '198.51.100.28');
    for (const q of ['?action=%00', '?user=%00']) expect((await fetch(`${h.base}/audit${q}`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${h.base}/reports?region=%00`, { headers: { cookie } })).status).toBe(200);
  });

  it('a call id of 36 dashes is a 404', async () => {
    const cookie = await session('fatou', '198.51.100.23');
    const res = await fetch(`${h.base}/calls/${'-'.repeat(36)}`, { headers: { cookie } });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('Appel introuvable');
  });

  it('sign-in never redirects to /.//evil.example (normalized to //evil.example)', async () => {
    for (const next of ['/.//evil.example', '/./\\evil.example', '/a/..//evil.example']) {
      const res = await fetch(`${h.base}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '198.51.100.24' },
        body: new URLSearchParams({ name: 'fatou', password: PASSWORD, next }).toString(),
      });
      expect([next, res.status, res.headers.get('location')]).toEqual([next, 303, '/']);
    }
  });
});

describe('a dial string of thousands of inputs', () => {
  it(`is answered with the home screen and writes one step, not one per input (at most ${MAX_DIAL_INPUTS} are read)`, async () => {
    const text = Array.from({ length: 2000 }, () => '1').join('*');
    const res = await h.at({ sessionId: 'ATUid_attack_long_dial', serviceCode: '*384*123#', phoneNumber: '+22376300002', networkCode: '61001', text });
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/^CON Kalata/);
    const call = await h.ctx.db.selectFrom('calls').select('id').where('gateway_session_id', '=', 'ATUid_attack_long_dial').executeTakeFirstOrThrow();
    const steps = await h.ctx.db.selectFrom('call_steps').select('seq').where('call_id', '=', call.id).execute();
    expect(steps).toHaveLength(1);
    // A real dial string still goes straight to its menu.
    const direct = await h.at({ sessionId: 'ATUid_attack_short_dial', serviceCode: '*384*123#', phoneNumber: '+22376300003', networkCode: '61001', text: '1*1' });
    expect(direct.body).toMatch(/^CON Comment voter/);
  });
});

describe('the audit log (reveals hidden by ordinary work)', () => {
  it('pages through every row, and lists reveals, one account or one day on their own', async () => {
    const admin = await h.ctx.db.selectFrom('users').select(['id', 'name', 'role']).where('name', '=', 'moussa').executeTakeFirstOrThrow();
    const operator = await h.ctx.db.selectFrom('users').select(['id', 'name', 'role']).where('name', '=', 'fatou').executeTakeFirstOrThrow();
    await audit(h.ctx.db, admin, 'reveal_number', 'KA-REVEAL1', 'vérification (depuis 198.51.100.1)');
    for (let i = 0; i < 260; i++) await audit(h.ctx.db, operator, 'view_report', String(i));
    const cookie = await session('moussa', '198.51.100.25');
    const get = async (query: string) => {
      const res = await fetch(`${h.base}/audit${query}`, { headers: { cookie } });
      return { status: res.status, html: await res.text() };
    };
    // Every row can be reached, 50 at a time, through "plus anciens".
    let query = '';
    let seen = 0;
    let foundReveal = false;
    for (let pages = 0; pages < 20; pages++) {
      const { status, html } = await get(query);
      expect(status).toBe(200);
      seen += (html.match(/<tr class="/g) ?? []).length;
      foundReveal ||= html.includes('KA-REVEAL1');
      const older = /id="audit-older" href="\/audit\?([^"]*)"/.exec(html);
      if (!older) break;
      query = `?${older[1]!.replace(/&amp;/g, '&')}`;
    }
    const total = Number((await h.ctx.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    expect(seen).toBe(total);
    expect(foundReveal).toBe(true);

    const reveals = await get('?action=reveal_number');
    expect(reveals.html).toContain('KA-REVEAL1');
    expect(reveals.html).not.toContain('Signalement consulté</td>');
    const byUser = await get('?user=fatou&action=view_report');
    expect(byUser.html).not.toContain('KA-REVEAL1');
    expect((byUser.html.match(/<tr class="/g) ?? []).length).toBe(50);
    const today = new Date().toISOString().slice(0, 10);
    expect((await get(`?action=reveal_number&from=${today}&to=${today}`)).html).toContain('KA-REVEAL1');
    expect((await get('?action=reveal_number&to=2000-01-01')).html).toContain('Aucune ligne pour ces filtres.');
    expect(await get('?before=abc')).toEqual({ status: 400, html: '« before » doit être un numéro de ligne du journal.' });
  });
});
