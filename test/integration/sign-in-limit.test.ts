/**
 * The sign-in limit, one attempt after another (console-attacks.test.ts has
 * the parallel guesses): ten failed sign-ins for one account from one address
 * are each checked, the eleventh is refused with 429 even with the right
 * password, and once the window is over the owner gets in again. The window
 * is the limiter's (DEFAULT_LOGIN_LIMITS.windowSeconds, the TTL of its Redis
 * counts); the test ends it by expiring those counts, under its own prefix,
 * instead of waiting 15 minutes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_LOGIN_LIMITS } from '../../src/web/console/console-auth.js';
import { addUser } from '../../src/store/user-store.js';
import { startHarness, type Harness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

const PASSWORD = 'le-vrai-mot-de-passe-de-kadi';
const FROM = '198.51.100.23';
let h: Harness;

beforeAll(async () => {
  h = await startHarness('sign in limit', { context: { worker: false } });
  await addUser(h.ctx.db, 'kadi', 'operator', PASSWORD);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

async function login(name: string, password: string, from = FROM): Promise<{ status: number; body: string; cookies: string[] }> {
  const res = await fetch(`${h.base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
    body: new URLSearchParams({ name, password }).toString(),
  });
  return { status: res.status, body: await res.text(), cookies: res.headers.getSetCookie() };
}

const failedChecks = async () =>
  Number((await h.ctx.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<string>().as('n')).where('action', '=', 'login_failed').where('target', '=', 'kadi').executeTakeFirstOrThrow()).n);

/** This file's sign-in counts in Redis, with their time to live in seconds. */
async function loginCounts(): Promise<{ key: string; ttl: number }[]> {
  const keys = await h.ctx.redis.keys(`${h.ctx.redisPrefix}login:*`);
  return Promise.all(keys.sort().map(async (key) => ({ key: key.slice(h.ctx.redisPrefix.length), ttl: await h.ctx.redis.ttl(key) })));
}

describe('the sign-in limit, attempt after attempt', () => {
  it('checks ten wrong passwords, refuses the eleventh attempt even with the right password, and lets the owner in after the window', async () => {
    const limit = DEFAULT_LOGIN_LIMITS.perAccountAndAddress;
    expect(limit).toBe(10);
    for (let i = 1; i <= limit; i++) {
      const wrong = await login('kadi', `essai-${i}`);
      expect({ attempt: i, status: wrong.status }).toEqual({ attempt: i, status: 401 });
      expect(wrong.body).toContain('Nom ou mot de passe incorrect.');
      // Each one was checked: one failure in the audit log per attempt.
      expect(await failedChecks()).toBe(i);
    }

    const eleventh = await login('kadi', PASSWORD);
    expect(eleventh.status).toBe(429);
    expect(eleventh.body).toContain('Trop de tentatives. Réessayez dans 15 minutes.');
    expect(eleventh.cookies).toEqual([]); // no session
    expect(await failedChecks()).toBe(limit); // refused before any check
    // Refused again, however often: the count does not move while it refuses.
    expect((await login('kadi', PASSWORD)).status).toBe(429);
    // The limit is on the pair: the same account from another address is checked (and gets in).
    const elsewhere = await login('kadi', PASSWORD, '198.51.100.99');
    expect(elsewhere.status).toBe(303);

    // The counts live for the limiter's window, 15 minutes from the first failure.
    const counts = await loginCounts();
    const pair = counts.find((c) => c.key.startsWith('login:pair:kadi@'));
    expect(pair).toBeDefined();
    for (const c of counts) {
      expect(c.ttl).toBeGreaterThan(DEFAULT_LOGIN_LIMITS.windowSeconds - 120);
      expect(c.ttl).toBeLessThanOrEqual(DEFAULT_LOGIN_LIMITS.windowSeconds);
    }
    expect(Number(await h.ctx.redis.get(`${h.ctx.redisPrefix}${pair!.key}`))).toBe(limit);

    // The window ends: what Redis does at the TTL, now.
    for (const c of counts) await h.ctx.redis.pexpire(`${h.ctx.redisPrefix}${c.key}`, 1);
    await waitFor('the counts to expire', loginCounts, (left) => left.length === 0);

    const after = await login('kadi', PASSWORD);
    expect(after.status).toBe(303);
    expect(after.cookies.length).toBeGreaterThan(0);
    // A new window: ten more failures are checked before the next refusal.
    for (let i = 1; i <= limit; i++) expect((await login('kadi', `encore-${i}`)).status).toBe(401);
    expect((await login('kadi', PASSWORD)).status).toBe(429);
  }, 60_000);
});
