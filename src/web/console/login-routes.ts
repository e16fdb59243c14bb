/**
 * Signing in and out, and the language an account reads the console in.
 * Every attempt is counted before its password is checked
 * (src/web/console/console-auth.ts has the limits), and a sign-in always
 * opens a new session.
 */
import express, { type Response, type Router } from 'express';
import type { AppContext } from '../../context.js';
import { audit, checkPassword, closeSession, openSession, setConsoleLanguage } from '../../store/user-store.js';
import { addressKey, createInFlightCap, isSecure, requireRole, safeNext, setSessionCookie, SESSION_TTL_MS, verifyCsrf, type ConsoleLocals, type createLoginLimiter, type createSemaphore } from './console-auth.js';
import { isLanguage, rememberLanguage, t } from './console-i18n.js';
import { page } from './page.js';
import { CONTROL } from './query.js';

export interface SignInLimits {
  limiter: ReturnType<typeof createLoginLimiter>;
  passwordChecks: ReturnType<typeof createSemaphore>;
}

export function createLoginRoutes(ctx: AppContext, { limiter, passwordChecks }: SignInLimits): Router {
  const router = express.Router();
  const { db } = ctx;
  const production = ctx.config.production;
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  // Checks waiting or running in this process: 4 per address while it waits or is checked, and 64
  // checks in all. None per account: guesses from elsewhere could fill it and refuse the owner.
  const inFlight = createInFlightCap();

  const loginPage = (res: Response, status: number, next: string, error: string | null) => {
    res.status(status);
    page(res, 'login', t('Connexion'), 'login', { next, error });
  };
  const busy = () => t('Trop de connexions en cours. Réessayez dans quelques secondes.');
  router.get('/login', (req, res) => loginPage(res, 200, safeNext(req.query.next), null));
  router.post('/login', form, async (req, res) => {
    const b = req.body as Record<string, string | undefined>;
    const next = safeNext(b.next);
    const name = String(b.name ?? '').slice(0, 100);
    const password = String(b.password ?? '').slice(0, 200);
    if (CONTROL.test(name) || password.includes('\u0000')) return loginPage(res, 400, next, t('Nom ou mot de passe illisible.'));
    const address = req.ip ?? 'unknown';
    const mine = inFlight.take([`ip:${addressKey(address)}`, 4]);
    if (!mine) return loginPage(res, 429, next, busy());
    try {
      // Counted before the password is checked, in one step: parallel guesses cannot outrun the limit.
      const admission = await limiter.admit(address, name);
      if (!admission.admitted) return loginPage(res, 429, next, t('Trop de tentatives. Réessayez dans 15 minutes.'));
      if (admission.delayMs) await new Promise((resolve) => setTimeout(resolve, admission.delayMs));
      // Taken after the slow-down: slowed guesses hold no place that the owner's sign-in needs.
      const checking = inFlight.take(['all', 64]);
      if (!checking) {
        await limiter.cancelled(address, name);
        return loginPage(res, 429, next, busy());
      }
      let found;
      try {
        found = await passwordChecks(() => checkPassword(db, name, password));
      } finally {
        checking();
      }
      if (!found) {
        await limiter.failed(address, name);
        await audit(db, undefined, 'login_failed', name, address);
        return loginPage(res, 401, next, t('Nom ou mot de passe incorrect.'));
      }
      await limiter.succeeded(address, name);
      // A new session id at every login; the old one, if any, is closed.
      const old = (res.locals as ConsoleLocals).token;
      if (old) await closeSession(db, old);
      const { token } = await openSession(db, found, SESSION_TTL_MS);
      setSessionCookie(res, req, production, token);
      await audit(db, found, 'login');
      res.redirect(303, next);
    } finally {
      mine();
    }
  });
  // The header's language button: a signed-in account reads every page in that language from now on (its
  // form carries the session's CSRF token); a reader without a session, this browser keeps it in a cookie
  // (sameOriginOnly already refuses a post from another site).
  const sessionCsrf: express.RequestHandler = (req, res, next) => ((res.locals as ConsoleLocals).session ? verifyCsrf(req, res, next) : next());
  router.post('/language', form, sessionCsrf, async (req, res) => {
    const b = req.body as Record<string, string | undefined>;
    const wanted = b.language;
    if (!isLanguage(wanted)) {
      res.status(400).type('text/plain').send(t('Langue inconnue : choisissez français (fr) ou anglais (en).'));
      return;
    }
    const session = (res.locals as ConsoleLocals).session;
    if (session) await setConsoleLanguage(db, session.user.id, wanted);
    else rememberLanguage(res, wanted, isSecure(req, production));
    res.redirect(303, safeNext(b.next));
  });
  router.post('/logout', form, requireRole('operator'), verifyCsrf, async (req, res) => {
    await closeSession(db, (res.locals as ConsoleLocals).token!);
    setSessionCookie(res, req, production, null);
    res.redirect(303, '/login');
  });
  return router;
}
