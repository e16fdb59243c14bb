/**
 * Console accounts: the first admin from the one-time link printed at
 * start-up (`/setup`), the admins' accounts page (`/accounts`: create,
 * disable and re-enable, change a role, reset a password), and the one-time
 * link where an account's owner chooses a password (`/password`).
 *
 * An admin never chooses another person's password: creating an account or
 * resetting one makes a link (single use, 24 hours) that the admin hands
 * over, and a reset stops the old password and ends the account's sessions
 * at once. Links are tried under the sign-in limits; a dead link says so
 * plainly, never why (used, expired, wrong, or an account already exists).
 */
import express, { type Request, type Response, type Router } from 'express';
import type { AppContext } from '../../context.js';
import {
  AccountError,
  addAccount,
  audit,
  changeRole,
  closeSession,
  createFirstAdmin,
  createResetToken,
  linkIsLive,
  listUsers,
  openSession,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  resetLinkAccount,
  RESET_LINK_TTL_MS,
  ROLES,
  setDisabled,
  useResetToken,
  type AccountProblem,
  type Role,
  type User,
} from '../../store/user-store.js';
import { requireRole, setSessionCookie, SESSION_TTL_MS, verifyCsrf, type ConsoleLocals, type createLoginLimiter, type createSemaphore } from './console-auth.js';
import { t, word } from './console-i18n.js';
import { roleLabel, ROLE_LABELS } from './labels.js';
import { fmt, page } from './page.js';

/** What the console router shares: the sign-in limits (links count as sign-ins) and the Argon2 semaphore. */
export interface AccountRouteDeps {
  limiter: ReturnType<typeof createLoginLimiter>;
  passwordChecks: ReturnType<typeof createSemaphore>;
}

/** The limiter's account key for link attempts: `#` is never in an account name, so no account shares it. */
const LINK_KEY = '#link';

const PROBLEMS: Record<AccountProblem, string> = {
  bad_name: word('Le nom : de 2 à 40 lettres, chiffres, « . », « _ » ou « - », sans espace.'),
  password_short: word('Le mot de passe doit faire au moins {{min}} caractères.'),
  password_long: word('Le mot de passe doit faire au plus {{max}} caractères.'),
  name_taken: word('Ce nom est déjà pris.'),
  bad_role: word('Rôle inconnu.'),
  no_account: word('Ce compte n’existe pas.'),
  last_admin: word('Refusé : la console n’aurait plus aucun administrateur actif. Nommez d’abord un autre administrateur.'),
  account_disabled: word('Ce compte est désactivé : réactivez-le d’abord.'),
  link_invalid: word('Ce lien ne fonctionne pas.'),
};
/** An account problem as the reader reads it. */
const problemText = (problem: AccountProblem) => t(PROBLEMS[problem], { min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH });

/** A role as the audit log keeps it: in French, whoever reads the log later. */
const storedRole = (role: string) => ROLE_LABELS[role] ?? role;

const CONTROL = /[\u0000-\u001f\u007f]/;
const field = (body: unknown, key: string, max = 200) => String((body as Record<string, unknown> | undefined)?.[key] ?? '').slice(0, max);
const ID = /^\d{1,18}$/;

export function createAccountRoutes(ctx: AppContext, deps: AccountRouteDeps): Router {
  const router = express.Router();
  const { db } = ctx;
  const production = ctx.config.production;
  const admin = requireRole('admin');
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  const me = (res: Response) => (res.locals as ConsoleLocals).session!.user;
  const { limiter, passwordChecks } = deps;

  /** One answer for every dead link, whatever the reason. */
  const deadLink = (res: Response, status = 404) => {
    res.status(status);
    page(res, 'setup', t('Lien sans effet'), 'login', { dead: true, tooMany: status === 429 });
  };

  /**
   * A link attempt under the sign-in limits of the address: past 10 wrong
   * links (or 30 attempts) in 15 minutes, that address is refused. Links are
   * 256 random bits: no slow-down shared by every address, which would only
   * let wrong links slow the right one down.
   */
  const underLimits = async (req: Request, res: Response, check: () => Promise<'good' | 'bad' | 'unchecked'>) => {
    const address = req.ip ?? 'unknown';
    const admission = await limiter.admit(address, LINK_KEY);
    if (!admission.admitted) return deadLink(res, 429);
    let outcome: 'good' | 'bad' | 'unchecked' = 'unchecked';
    try {
      outcome = await check();
    } finally {
      // A wrong link stays counted against the address; a used link gives its count back, a form shown or refused too.
      if (outcome === 'good') await limiter.succeeded(address, LINK_KEY);
      else if (outcome === 'unchecked') await limiter.cancelled(address, LINK_KEY);
    }
  };

  /** Signs the new account in from the link's page (a fresh session; any other in this browser is closed). */
  const signIn = async (req: Request, res: Response, user: User) => {
    const old = (res.locals as ConsoleLocals).token;
    if (old) await closeSession(db, old);
    const { token } = await openSession(db, user, SESSION_TTL_MS);
    setSessionCookie(res, req, production, token);
  };

  // The first admin, from the link printed at start-up.
  const setupForm = (res: Response, status: number, token: string, name: string, error: string | null) => {
    res.status(status);
    page(res, 'setup', t('Premier administrateur'), 'login', { dead: false, mode: 'setup', action: '/setup', token, name, error, minLength: PASSWORD_MIN_LENGTH });
  };
  router.get('/setup', (req, res) =>
    underLimits(req, res, async () => {
      const token = typeof req.query.token === 'string' ? req.query.token : '';
      if (!(await linkIsLive(db, token, 'first_admin'))) {
        deadLink(res);
        return 'bad';
      }
      setupForm(res, 200, token, '', null);
      return 'unchecked';
    }),
  );
  router.post('/setup', form, (req, res) =>
    underLimits(req, res, async () => {
      const token = field(req.body, 'token', 100);
      const name = field(req.body, 'name', 100).trim();
      const password = field(req.body, 'password', PASSWORD_MAX_LENGTH + 1);
      if (!(await linkIsLive(db, token, 'first_admin'))) {
        deadLink(res);
        return 'bad';
      }
      const problem = passwordPairProblem(password, field(req.body, 'password2', PASSWORD_MAX_LENGTH + 1)) ?? (CONTROL.test(name) ? problemText('bad_name') : null);
      if (problem) {
        setupForm(res, 400, token, name, problem);
        return 'unchecked';
      }
      let user: User;
      try {
        user = await passwordChecks(() => createFirstAdmin(db, token, name, password));
      } catch (err) {
        if (!(err instanceof AccountError)) throw err;
        if (err.problem === 'link_invalid') {
          deadLink(res);
          return 'bad';
        }
        setupForm(res, 400, token, name, problemText(err.problem));
        return 'unchecked';
      }
      await audit(db, user, 'setup_admin', user.name, `depuis ${req.ip ?? '?'}`);
      ctx.logger.info({ subsystem: 'accounts', user: user.name }, 'first admin created from the setup link');
      await signIn(req, res, user);
      res.redirect(303, '/accounts?welcome=1');
      return 'good';
    }),
  );

  // An account's owner chooses a password, from the link an admin made.
  const passwordForm = (res: Response, status: number, token: string, name: string, error: string | null) => {
    res.status(status);
    page(res, 'setup', t('Choisir un mot de passe'), 'login', { dead: false, mode: 'password', action: '/password', token, name, error, minLength: PASSWORD_MIN_LENGTH });
  };
  router.get('/password', (req, res) =>
    underLimits(req, res, async () => {
      const token = typeof req.query.token === 'string' ? req.query.token : '';
      const name = await resetLinkAccount(db, token);
      if (!name) {
        deadLink(res);
        return 'bad';
      }
      passwordForm(res, 200, token, name, null);
      return 'unchecked';
    }),
  );
  router.post('/password', form, (req, res) =>
    underLimits(req, res, async () => {
      const token = field(req.body, 'token', 100);
      const password = field(req.body, 'password', PASSWORD_MAX_LENGTH + 1);
      const name = await resetLinkAccount(db, token);
      if (!name) {
        deadLink(res);
        return 'bad';
      }
      const problem = passwordPairProblem(password, field(req.body, 'password2', PASSWORD_MAX_LENGTH + 1));
      if (problem) {
        passwordForm(res, 400, token, name, problem);
        return 'unchecked';
      }
      let user: User;
      try {
        user = await passwordChecks(() => useResetToken(db, token, password));
      } catch (err) {
        if (!(err instanceof AccountError)) throw err;
        if (err.problem === 'link_invalid') {
          deadLink(res);
          return 'bad';
        }
        passwordForm(res, 400, token, name, problemText(err.problem));
        return 'unchecked';
      }
      await audit(db, user, 'set_password', user.name, `depuis ${req.ip ?? '?'}`);
      await signIn(req, res, user);
      res.redirect(303, '/');
      return 'good';
    }),
  );

  // The admins' page.
  const linkOf = (req: Request, token: string) => `${req.protocol}://${req.get('host') ?? 'localhost'}/password?token=${token}`;
  interface Outcome {
    message?: string;
    error?: string;
    link?: { name: string; url: string; expires: string; isNew: boolean };
    draft?: { name: string; role: string };
  }
  const showAccounts = async (req: Request, res: Response, outcome: Outcome = {}, status = 200) => {
    const self = me(res);
    const accounts = (await listUsers(db)).map((a) => ({
      ...a,
      self: a.id === self.id,
      roleLabel: roleLabel(a.role),
      otherRole: a.role === 'admin' ? 'operator' : 'admin',
      otherRoleLabel: a.role === 'admin' ? t('Rendre opérateur') : t('Rendre administrateur'),
      state: a.disabled_at ? t('Désactivé') : a.password_pending ? t('Mot de passe à choisir') : t('Actif'),
      stateSince: a.disabled_at ? t('depuis le {{date}}', { date: fmt(a.disabled_at) }) : a.password_pending ? t('par le lien donné') : '',
      stateClass: a.disabled_at ? 'account-disabled' : a.password_pending ? 'account-pending' : 'account-active',
      created: fmt(a.created_at),
      lastLogin: a.last_login_at ? fmt(a.last_login_at) : t('jamais'),
    }));
    const welcome = req.method === 'GET' && req.query.welcome === '1' && !outcome.message ? t('Bienvenue : votre compte administrateur est créé et vous êtes connecté. Créez maintenant les comptes des opérateurs.') : undefined;
    res.status(status);
    page(res, 'accounts', t('Comptes'), 'accounts', {
      accounts,
      roles: ROLES.map((r) => ({ value: r, label: roleLabel(r) })),
      message: outcome.message ?? welcome ?? null,
      error: outcome.error ?? null,
      link: outcome.link ?? null,
      draft: outcome.draft ?? { name: '', role: 'operator' },
      linkHours: RESET_LINK_TTL_MS / 3600_000,
    });
  };
  const refused = (req: Request, res: Response, err: unknown, draft?: Outcome['draft']) => {
    if (!(err instanceof AccountError)) throw err;
    const status = err.problem === 'no_account' ? 404 : err.problem === 'last_admin' || err.problem === 'name_taken' || err.problem === 'account_disabled' ? 409 : 400;
    return showAccounts(req, res, { error: problemText(err.problem), ...(draft ? { draft } : {}) }, status);
  };
  const linkView = (req: Request, name: string, token: string, isNew: boolean) => ({ name, url: linkOf(req, token), expires: fmt(new Date(Date.now() + RESET_LINK_TTL_MS)), isNew });

  router.get('/accounts', admin, (req, res) => showAccounts(req, res));

  router.post('/accounts', form, admin, verifyCsrf, async (req, res) => {
    const name = field(req.body, 'name', 100).trim();
    const role = field(req.body, 'role', 20) as Role;
    try {
      const { user, token } = await addAccount(db, name, role, me(res));
      await audit(db, me(res), 'create_account', user.name, storedRole(user.role));
      await showAccounts(req, res, { message: t('Compte « {{name}} » créé ({{role}}).', { name: user.name, role: roleLabel(user.role) }), link: linkView(req, user.name, token, true) });
    } catch (err) {
      await refused(req, res, err, { name, role });
    }
  });

  router.post('/accounts/:id/:action', form, admin, verifyCsrf, async (req, res) => {
    const id = String(req.params.id);
    const action = String(req.params.action);
    if (!ID.test(id)) return refused(req, res, new AccountError('no_account', 'no such account'));
    const self = me(res);
    try {
      if (action === 'disable' || action === 'enable') {
        const changed = await setDisabled(db, { id }, action === 'disable');
        if (!changed) return await showAccounts(req, res, { message: action === 'disable' ? t('Ce compte était déjà désactivé.') : t('Ce compte était déjà actif.') });
        if (action === 'disable') await audit(db, self, 'disable_account', changed.name);
        else await audit(db, self, 'enable_account', changed.name);
        // Disabling oneself ends one's own session too.
        if (changed.id === self.id) return res.redirect(303, '/login');
        return await showAccounts(req, res, {
          message:
            action === 'disable'
              ? t('Compte « {{name}} » désactivé : il ne peut plus se connecter, et ses sessions sont fermées.', { name: changed.name })
              : t('Compte « {{name}} » réactivé.', { name: changed.name }),
        });
      }
      if (action === 'role') {
        const role = field(req.body, 'role', 20) as Role;
        const changed = await changeRole(db, { id }, role);
        if (!changed) return await showAccounts(req, res, { message: t('Ce compte avait déjà ce rôle.') });
        await audit(db, self, 'change_role', changed.user.name, `${storedRole(changed.from)} → ${storedRole(changed.user.role)}`);
        // An admin who made themself an operator has no business on this page any more.
        if (changed.user.id === self.id) return res.redirect(303, '/');
        const name = changed.user.name;
        return await showAccounts(req, res, {
          message: changed.user.role === 'admin' ? t('« {{name}} » est maintenant administrateur.', { name }) : t('« {{name}} » est maintenant opérateur.', { name }),
        });
      }
      if (action === 'reset') {
        const { token, user } = await createResetToken(db, id, self);
        await audit(db, self, 'reset_password', user.name);
        if (user.id === self.id) return res.redirect(303, `/password?token=${token}`);
        return await showAccounts(req, res, {
          message: t('Mot de passe de « {{name}} » réinitialisé : l’ancien ne fonctionne plus et ses sessions sont fermées.', { name: user.name }),
          link: linkView(req, user.name, token, false),
        });
      }
      res.status(404).type('text/plain').send(t('Action inconnue.'));
    } catch (err) {
      await refused(req, res, err);
    }
  });

  return router;
}

/** The two password fields of a form: the same, and within the rules (as `npm run users`). */
function passwordPairProblem(password: string, again: string): string | null {
  if (password.includes('\u0000')) return t('Mot de passe illisible.');
  if (password.length < PASSWORD_MIN_LENGTH) return problemText('password_short');
  if (password.length > PASSWORD_MAX_LENGTH) return problemText('password_long');
  if (password !== again) return t('Les deux mots de passe diffèrent.');
  return null;
}
