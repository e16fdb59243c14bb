/**
 * Console sessions: a cookie holding a random token (stored hashed),
 * `HttpOnly; SameSite=Strict`, `Secure` with the `__Host-` prefix except on
 * plain-http development; a CSRF token per session checked on every
 * state-changing request; deny by default, role checked on every request;
 * login attempts limited per address in Redis.
 */
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { parse as parseCookie, serialize as serializeCookie } from 'cookie';
import type { Redis } from 'ioredis';
import type { Db } from '../../store/database.js';
import { findSession, type ConsoleSession, type Role, type User } from '../../store/user-store.js';
import { t } from './console-i18n.js';
import { forbiddenPage } from './page.js';

export const SESSION_TTL_MS = 12 * 3600 * 1000;

export interface ConsoleLocals {
  session?: ConsoleSession;
  token?: string;
}

/** Secure cookies everywhere but plain-http development. */
export function cookieName(secure: boolean): string {
  return secure ? '__Host-kalata' : 'kalata';
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * Secure cookies unless this is plain-http development on this very machine:
 * a server reached over the LAN in development still gets Secure cookies.
 */
export function isSecure(req: Request, production: boolean): boolean {
  return production || req.secure || !LOOPBACK.has(req.hostname);
}

/** A redirect target after sign-in: a path on this site, never `//host` or `/\host`, even once normalized (`/.//host`). */
export function safeNext(next: unknown): string {
  const local = (path: string) => /^\/(?![\/\\])[^\\\s]*$/.test(path);
  if (typeof next !== 'string' || !local(next)) return '/';
  const url = new URL(next, 'http://kalata.invalid');
  return url.origin === 'http://kalata.invalid' && local(url.pathname) ? `${url.pathname}${url.search}` : '/';
}

/** The host an Origin header names, or undefined when it is not a URL. */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/**
 * Refuses a state-changing request sent from another site (login CSRF
 * included): browsers say where a request comes from in Sec-Fetch-Site or
 * Origin.
 */
export function sameOriginOnly(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  const site = req.get('sec-fetch-site');
  const origin = req.get('origin');
  if (origin !== undefined && origin !== 'null' && originHost(origin) === undefined) {
    res.status(400).type('text/plain').send(t('En-tête Origin illisible.'));
    return;
  }
  const crossSite = (site !== undefined && site !== 'same-origin' && site !== 'none') || (origin !== undefined && origin !== 'null' && originHost(origin) !== req.get('host'));
  if (crossSite) {
    res.status(403).type('text/plain').send(t('Requête venue d’un autre site : refusée.'));
    return;
  }
  next();
}

/** Headers for every console page: nothing cached, nothing framed, scripts from this site only. */
export function consoleHeaders(production: boolean): (req: Request, res: Response, next: NextFunction) => void {
  return (_req, res, next) => {
    res.set({
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      ...(production ? { 'Strict-Transport-Security': 'max-age=31536000' } : {}),
    });
    next();
  };
}

export function setSessionCookie(res: Response, req: Request, production: boolean, token: string | null): void {
  const secure = isSecure(req, production);
  res.append(
    'Set-Cookie',
    serializeCookie(cookieName(secure), token ?? '', {
      httpOnly: true,
      sameSite: 'strict',
      secure,
      path: '/',
      ...(token ? { maxAge: SESSION_TTL_MS / 1000 } : { maxAge: 0 }),
    }),
  );
}

/** Loads the session, if any, into res.locals. */
export function loadSession(db: Db, production: boolean): RequestHandler {
  return async (req, res, next) => {
    try {
      const cookies = parseCookie(req.headers.cookie ?? '');
      const token = cookies[cookieName(isSecure(req, production))];
      if (token) {
        const session = await findSession(db, token);
        if (session) Object.assign(res.locals, { session, token } satisfies ConsoleLocals);
      }
      next();
    } catch (err) {
      next(err);
    }
  };
}

const RANK: Record<Role, number> = { operator: 1, admin: 2 };

/** Deny by default: anonymous users go to the login page, wrong roles get 403. */
export function requireRole(role: Role): RequestHandler {
  return (req, res, next) => {
    const session = (res.locals as ConsoleLocals).session;
    if (!session) {
      if (req.method === 'GET' && req.accepts('html')) res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      else res.status(401).type('text/plain').send(t('Connectez-vous d’abord à la console.'));
      return;
    }
    // A role this code does not know (the column is free text) is no role at all: denied, never let through.
    const rank = (RANK as Record<string, number | undefined>)[session.user.role];
    if (rank === undefined || rank < RANK[role]) {
      // A page opened in the browser gets the console's own page; a form or a script, a line of text.
      if (req.method === 'GET' && req.accepts('html')) forbiddenPage(res);
      else res.status(403).type('text/plain').send(t('Votre rôle ne permet pas cette action.'));
      return;
    }
    next();
  };
}

/** The signed-in account of a request that passed requireRole. */
export function signedIn(res: Response): User {
  return (res.locals as ConsoleLocals).session!.user;
}

/** Every state-changing request carries the session's CSRF token (form field `_csrf` or header `x-csrf-token`). */
export function verifyCsrf(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  const session = (res.locals as ConsoleLocals).session;
  const given = String((req.body as Record<string, unknown> | undefined)?._csrf ?? req.get('x-csrf-token') ?? '');
  const expected = session?.csrfToken ?? '';
  const ok = expected.length > 0 && given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
  if (!ok) {
    res.status(403).type('text/plain').send(t('Jeton de formulaire absent ou périmé : rechargez la page et recommencez.'));
    return;
  }
  next();
}

/**
 * The key an address is counted under. IPv6 addresses are counted by /64 (one
 * host holds a whole /64), from their parsed groups, so that `2001:db8::1:1`
 * and `2001:DB8:0:0::2:1` are one key; IPv4-mapped addresses count as IPv4.
 */
export function addressKey(address: string): string {
  const plain = address.replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(plain);
  if (mapped) return mapped[1]!;
  if (!plain.includes(':')) return plain;
  const groups = ipv6Groups(plain);
  return groups ? `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64` : plain;
}

/** The eight 16-bit groups of an IPv6 address, or undefined if it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part ? part.split(':') : []);
  let head = parse(halves[0]!);
  let tail = halves.length === 2 ? parse(halves[1]!) : [];
  // A trailing dotted IPv4 (`::1.2.3.4`) is two groups.
  const last = (halves.length === 2 ? tail : head).at(-1);
  if (last?.includes('.')) {
    const octets = last.split('.').map(Number);
    if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) return undefined;
    const words = [((octets[0]! << 8) | octets[1]!).toString(16), ((octets[2]! << 8) | octets[3]!).toString(16)];
    if (halves.length === 2) tail = [...tail.slice(0, -1), ...words];
    else head = [...head.slice(0, -1), ...words];
  }
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(missing).fill('0'), ...tail];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return all.map((g) => parseInt(g, 16));
}

export interface LoginLimits {
  /** sign-ins (right or wrong, in flight included) one address may try per window, all accounts together (default 30) */
  perAddress: number;
  /** failed sign-ins for one account from one address per window: past it, that address is refused for that account (default 10) */
  perAccountAndAddress: number;
  /** failures of one account from every address past which each try is slowed, never refused (default 10) */
  slowAccountAfter: number;
  /** the slow-down's longest wait (default 8 s) */
  maxDelayMs: number;
  /** the counting window (default 15 minutes) */
  windowSeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perAddress: 30, perAccountAndAddress: 10, slowAccountAfter: 10, maxDelayMs: 8000, windowSeconds: 15 * 60 };

/**
 * Admits one sign-in attempt or refuses it, atomically, before any password
 * is checked: concurrent guesses cannot all read "under the limit" first.
 * The attempt is counted at once; a sign-in that succeeds gives its count back.
 * KEYS: address, account@address, account. ARGV: perAddress, perAccountAndAddress, window.
 * Returns -1 (refused) or the account's failures from every address (for the slow-down).
 */
const ADMIT_LOGIN = `
local address = tonumber(redis.call('GET', KEYS[1]) or '0')
local pair = tonumber(redis.call('GET', KEYS[2]) or '0')
if address >= tonumber(ARGV[1]) or pair >= tonumber(ARGV[2]) then return -1 end
for i = 1, 2 do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], ARGV[3]) end
end
return tonumber(redis.call('GET', KEYS[3]) or '0')
`;

/** A success takes its attempt back from the address's and the pair's counts, and clears the pair. */
const LOGIN_SUCCEEDED = `
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
redis.call('DEL', KEYS[2])
return 1
`;

/** An attempt admitted but never checked takes its count back from the address and the pair. */
const LOGIN_CANCELLED = `
for i = 1, 2 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 1
`;

/** A failure counts against the account everywhere (the slow-down), and stays counted for the address and the pair. */
const LOGIN_FAILED = `
if redis.call('INCR', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return 1
`;

type ScriptedRedis = Redis & {
  kalataAdmitLogin(...args: (string | number)[]): Promise<number>;
  kalataLoginSucceeded(...args: string[]): Promise<number>;
  kalataLoginCancelled(...args: string[]): Promise<number>;
  kalataLoginFailed(...args: (string | number)[]): Promise<number>;
};

export type LoginAdmission = { admitted: true; delayMs: number } | { admitted: false };

/**
 * Sign-in limits shared by every process (Redis):
 * - hard limits on the address and on (account, address): an attacker who
 *   fails ten times for `amina` is refused for `amina`, from that address only;
 * - per account alone, tries are slowed (1 s, 2 s, 4 s... up to `maxDelayMs`)
 *   once it has failed `slowAccountAfter` times from anywhere: the real
 *   `amina`, from her own address, still gets in. Nothing caps an account's
 *   attempts in flight: a cap there would let guesses from elsewhere fill it
 *   and refuse her.
 */
export function createLoginLimiter(redis: Redis, prefix: string, limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {
  redis.defineCommand('kalataAdmitLogin', { numberOfKeys: 3, lua: ADMIT_LOGIN });
  redis.defineCommand('kalataLoginSucceeded', { numberOfKeys: 2, lua: LOGIN_SUCCEEDED });
  redis.defineCommand('kalataLoginCancelled', { numberOfKeys: 2, lua: LOGIN_CANCELLED });
  redis.defineCommand('kalataLoginFailed', { numberOfKeys: 1, lua: LOGIN_FAILED });
  const r = redis as ScriptedRedis;
  const keys = (address: string, name: string) => {
    const a = addressKey(address);
    const n = name.toLowerCase();
    return [`${prefix}login:ip:${a}`, `${prefix}login:pair:${n}@${a}`, `${prefix}login:name:${n}`] as const;
  };
  return {
    limits,
    /** Counts this attempt; refused past a hard limit, else how long to wait before checking the password. */
    async admit(address: string, name: string): Promise<LoginAdmission> {
      const failures = await r.kalataAdmitLogin(...keys(address, name), limits.perAddress, limits.perAccountAndAddress, limits.windowSeconds);
      if (failures < 0) return { admitted: false };
      const over = failures - limits.slowAccountAfter;
      return { admitted: true, delayMs: over < 0 ? 0 : Math.min(limits.maxDelayMs, 1000 * 2 ** Math.min(over, 20)) };
    },
    /** Gives back an attempt that was admitted but never checked (the process was too busy to check it). */
    async cancelled(address: string, name: string): Promise<void> {
      const [address_, pair] = keys(address, name);
      await r.kalataLoginCancelled(address_, pair);
    },
    async succeeded(address: string, name: string): Promise<void> {
      const [address_, pair] = keys(address, name);
      await r.kalataLoginSucceeded(address_, pair);
    },
    async failed(address: string, name: string): Promise<void> {
      await r.kalataLoginFailed(keys(address, name)[2], limits.windowSeconds);
    },
  };
}

/**
 * Caps the password checks waiting or running in this process per key (an
 * account, an address, all of them): a burst is refused at once rather than
 * queued for minutes behind the Argon2 semaphore.
 */
export function createInFlightCap() {
  const counts = new Map<string, number>();
  return {
    /** Takes a place under every `[key, max]`, or none if one is full. Returns the release, or undefined. */
    take(...caps: (readonly [key: string, max: number])[]): (() => void) | undefined {
      if (caps.some(([k, max]) => (counts.get(k) ?? 0) >= max)) return undefined;
      for (const [k] of caps) counts.set(k, (counts.get(k) ?? 0) + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        for (const [k] of caps) {
          const n = (counts.get(k) ?? 1) - 1;
          if (n > 0) counts.set(k, n);
          else counts.delete(k);
        }
      };
    },
  };
}

/** At most `n` password checks at once: each Argon2id check takes 19 MiB and real CPU. */
export function createSemaphore(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async function run<T>(fn: () => Promise<T>): Promise<T> {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await fn();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}
