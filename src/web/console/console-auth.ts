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
import { findSession, type ConsoleSession, type Role } from '../../store/user-store.js';

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

/** A redirect target after sign-in: a path on this site, never `//host` or `/\host`. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !/^\/(?![\/\\])[^\\\s]*$/.test(next)) return '/';
  const url = new URL(next, 'http://kalata.invalid');
  return url.origin === 'http://kalata.invalid' ? `${url.pathname}${url.search}` : '/';
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
  const crossSite = (site !== undefined && site !== 'same-origin' && site !== 'none') || (origin !== undefined && origin !== 'null' && new URL(origin).host !== req.get('host'));
  if (crossSite) {
    res.status(403).type('text/plain').send('cross-site request refused');
    return;
  }
  next();
}

/** Headers for every console page: nothing cached, nothing framed, scripts from this site only. */
export function consoleHeaders(production: boolean): (req: Request, res: Response, next: NextFunction) => void {
  return (_req, res, next) => {
    res.set({
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
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
      else res.status(401).type('text/plain').send('sign in first');
      return;
    }
    if (RANK[session.user.role] < RANK[role]) {
      res.status(403).type('text/plain').send('not allowed for your role');
      return;
    }
    next();
  };
}

/** Every state-changing request carries the session's CSRF token (form field `_csrf` or header `x-csrf-token`). */
export function verifyCsrf(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  const session = (res.locals as ConsoleLocals).session;
  const given = String((req.body as Record<string, unknown> | undefined)?._csrf ?? req.get('x-csrf-token') ?? '');
  const expected = session?.csrfToken ?? '';
  const ok = expected.length > 0 && given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
  if (!ok) {
    res.status(403).type('text/plain').send('invalid or missing CSRF token');
    return;
  }
  next();
}

/** IPv6 addresses are counted by /64: one host holds a whole /64. */
function addressKey(address: string): string {
  if (!address.includes(':') || address.startsWith('::ffff:')) return address.replace(/^::ffff:/, '');
  return address.split(':').slice(0, 4).join(':');
}

/**
 * Failed sign-ins are counted per address and per account name, for 15
 * minutes, in Redis (every process agrees). Past `limit` failures either way,
 * sign-in is refused until the window passes.
 */
export function createLoginLimiter(redis: Redis, prefix: string, limit = 10) {
  const keys = (address: string, name: string) => [`${prefix}login:ip:${addressKey(address)}`, `${prefix}login:name:${name.toLowerCase()}`];
  return {
    async allowed(address: string, name: string): Promise<boolean> {
      const counts = await redis.mget(...keys(address, name));
      return counts.every((c) => Number(c ?? 0) < limit);
    },
    async failed(address: string, name: string): Promise<void> {
      const multi = redis.multi();
      for (const key of keys(address, name)) multi.incr(key).expire(key, 15 * 60);
      await multi.exec();
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
