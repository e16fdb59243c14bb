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

export function isSecure(req: Request, production: boolean): boolean {
  return production || req.secure;
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

/** At most `limit` login attempts per address per 15 minutes, shared by every process. */
export async function loginAllowed(redis: Redis, prefix: string, address: string, limit = 10): Promise<boolean> {
  const key = `${prefix}login:${address}`;
  const n = await redis.incr(key);
  if (n === 1) await redis.expire(key, 15 * 60);
  return n <= limit;
}
