/**
 * Console accounts (operators and admins), their sessions, and the audit log.
 * Passwords are hashed with Argon2id at OWASP's parameters; session tokens
 * are stored only as a SHA-256 hash.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import argon2 from 'argon2';
import { sql } from 'kysely';
import type { Db } from './database.js';

export type Role = 'operator' | 'admin';
export const ROLES: readonly Role[] = ['operator', 'admin'];

/** OWASP: Argon2id, m=19 MiB, t=2, p=1. */
const ARGON2 = { type: argon2.argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;
/** Verified against when the name is unknown, so a login takes as long either way. */
let decoyHash: Promise<string> | undefined;

export interface User {
  id: string;
  name: string;
  role: Role;
}

/** Account names: letters (accents included), digits, `.`, `_`, `-`; what an operator types at sign-in. */
export const NAME_PATTERN = /^[\p{L}\p{N}._-]{2,40}$/u;
/** The sign-in form reads at most 200 characters of a password: a longer one could never be typed back. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 200;

export type AccountProblem = 'bad_name' | 'password_short' | 'password_long' | 'name_taken' | 'bad_role' | 'no_account' | 'last_admin' | 'account_disabled' | 'link_invalid';

/** A change to accounts that was refused; `problem` says why (the console words it in French, the CLI prints the message). */
export class AccountError extends Error {
  constructor(
    readonly problem: AccountProblem,
    message: string,
  ) {
    super(message);
    this.name = 'AccountError';
  }
}

/** The same rules for `npm run users`, the setup page and the accounts page. */
export function checkNewPassword(password: string): void {
  if (password.length < PASSWORD_MIN_LENGTH) throw new AccountError('password_short', `the password must be at least ${PASSWORD_MIN_LENGTH} characters`);
  if (password.length > PASSWORD_MAX_LENGTH) throw new AccountError('password_long', `the password must be at most ${PASSWORD_MAX_LENGTH} characters`);
}

export function checkNewName(name: string): void {
  if (!NAME_PATTERN.test(name)) throw new AccountError('bad_name', 'a name is 2 to 40 letters, digits, ".", "_" or "-"');
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505' || /unique|duplicate key/i.test((err as Error).message);

export async function addUser(db: Db, name: string, role: Role, password: string): Promise<User> {
  checkNewName(name);
  if (!ROLES.includes(role)) throw new AccountError('bad_role', 'the role is operator or admin');
  checkNewPassword(password);
  const hash = await argon2.hash(password, ARGON2);
  try {
    return await db.insertInto('users').values({ name, role, password_hash: hash }).returning(['id', 'name', 'role']).executeTakeFirstOrThrow();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AccountError('name_taken', `user ${name} exists already`);
    throw err;
  }
}

/**
 * An account made from the console: no password yet; its owner chooses one
 * from a one-time link the admin hands over (see createResetToken).
 */
export async function addAccount(db: Db, name: string, role: Role, by: User): Promise<{ user: User; token: string }> {
  checkNewName(name);
  if (!ROLES.includes(role)) throw new AccountError('bad_role', 'the role is operator or admin');
  let user: User;
  try {
    user = await db.insertInto('users').values({ name, role, password_hash: '' }).returning(['id', 'name', 'role']).executeTakeFirstOrThrow();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AccountError('name_taken', `user ${name} exists already`);
    throw err;
  }
  const { token } = await createResetToken(db, user.id, by);
  return { user, token };
}

export interface AccountRow {
  id: string;
  name: string;
  role: Role;
  disabled_at: Date | null;
  last_login_at: Date | null;
  created_at: Date;
  /** no password until its owner uses the link an admin made */
  password_pending: boolean;
}

export async function listUsers(db: Db): Promise<AccountRow[]> {
  return db
    .selectFrom('users')
    .select(['id', 'name', 'role', 'disabled_at', 'last_login_at', 'created_at', sql<boolean>`password_hash = ''`.as('password_pending')])
    .orderBy('name')
    .execute();
}

export async function countUsers(db: Db): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Locks the target and every enabled admin, in one order, so that two admins
 * demoting or disabling each other at once cannot both succeed: the second
 * waits, then sees the first's change. An admin still choosing a password
 * (a link not yet used) cannot sign in, so does not count as active.
 */
async function lockForChange(trx: Db, target: { id?: string; name?: string }) {
  const admins = await trx
    .selectFrom('users')
    .select(['id', sql<boolean>`password_hash <> ''`.as('usable')])
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .orderBy('id')
    .forUpdate()
    .execute();
  let q = trx.selectFrom('users').select(['id', 'name', 'role', 'disabled_at']);
  q = target.id !== undefined ? q.where('id', '=', target.id) : q.where('name', '=', target.name ?? '');
  const row = await q.forUpdate().executeTakeFirst();
  if (!row) throw new AccountError('no_account', `no user ${target.name ?? target.id}`);
  const active = admins.filter((a) => a.usable);
  const leavesNoAdmin = () => active.some((a) => a.id === row.id) && active.length <= 1;
  return { row, leavesNoAdmin };
}

const LAST_ADMIN = 'the console would have no active admin left';

/**
 * Disables (or enables) an account. A disabled account cannot sign in, and
 * its open sessions end at once. Refused if it would leave no active admin.
 * Returns the account, or undefined when it already was in that state.
 */
export async function setDisabled(db: Db, target: { id?: string; name?: string }, disabled: boolean): Promise<User | undefined> {
  return db.transaction().execute(async (trx) => {
    const { row, leavesNoAdmin } = await lockForChange(trx, target);
    if ((row.disabled_at !== null) === disabled) return undefined;
    if (disabled && leavesNoAdmin()) throw new AccountError('last_admin', LAST_ADMIN);
    await trx.updateTable('users').set({ disabled_at: disabled ? new Date() : null }).where('id', '=', row.id).execute();
    if (disabled) await trx.deleteFrom('console_sessions').where('user_id', '=', row.id).execute();
    return { id: row.id, name: row.name, role: row.role };
  });
}

/** Changes an account's role (at once: sessions read the role on every request). Refused if it would leave no active admin. */
export async function changeRole(db: Db, target: { id?: string; name?: string }, role: Role): Promise<{ user: User; from: Role } | undefined> {
  if (!ROLES.includes(role)) throw new AccountError('bad_role', 'the role is operator or admin');
  return db.transaction().execute(async (trx) => {
    const { row, leavesNoAdmin } = await lockForChange(trx, target);
    if (row.role === role) return undefined;
    if (role !== 'admin' && leavesNoAdmin()) throw new AccountError('last_admin', LAST_ADMIN);
    await trx.updateTable('users').set({ role }).where('id', '=', row.id).execute();
    return { user: { id: row.id, name: row.name, role }, from: row.role };
  });
}

/** The user if the name and password match an enabled account. */
export async function checkPassword(db: Db, name: string, password: string): Promise<User | undefined> {
  const row = await db.selectFrom('users').select(['id', 'name', 'role', 'password_hash', 'disabled_at']).where('name', '=', name).executeTakeFirst();
  // An unknown name, or an account whose password was reset (no hash until the link is used): as long as a real check.
  if (!row || !row.password_hash.startsWith('$argon2')) {
    decoyHash ??= argon2.hash(randomBytes(16).toString('hex'), ARGON2);
    await argon2.verify(await decoyHash, password).catch(() => false);
    return undefined;
  }
  const ok = await argon2.verify(row.password_hash, password).catch(() => false);
  if (!ok || row.disabled_at !== null) return undefined;
  return { id: row.id, name: row.name, role: row.role };
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** The languages the console is written in: French first, English second. */
export const CONSOLE_LANGUAGES = ['fr', 'en'] as const;
export type ConsoleLanguage = (typeof CONSOLE_LANGUAGES)[number];

export interface ConsoleSession {
  user: User;
  csrfToken: string;
  /** the language this account reads the console in */
  language: ConsoleLanguage;
}

/** Opens a new session (a fresh id at every login); returns the cookie token. */
export async function openSession(db: Db, user: User, ttlMs: number): Promise<{ token: string; csrfToken: string }> {
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  // Sign-ins are rare: a good moment to forget expired sessions.
  await db.deleteFrom('console_sessions').where('expires_at', '<', new Date()).execute();
  await db
    .insertInto('console_sessions')
    .values({ id_hash: hashToken(token), user_id: user.id, csrf_token: csrfToken, expires_at: new Date(Date.now() + ttlMs) })
    .execute();
  await db.updateTable('users').set({ last_login_at: new Date() }).where('id', '=', user.id).execute();
  return { token, csrfToken };
}

export async function findSession(db: Db, token: string): Promise<ConsoleSession | undefined> {
  const row = await db
    .selectFrom('console_sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['u.id', 'u.name', 'u.role', 'u.language', 'u.disabled_at', 's.csrf_token', 's.expires_at'])
    .where('s.id_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row || row.disabled_at !== null || new Date(row.expires_at) < new Date()) return undefined;
  return { user: { id: row.id, name: row.name, role: row.role }, csrfToken: row.csrf_token, language: row.language };
}

/** The language an account reads the console in, from its next page on. */
export async function setConsoleLanguage(db: Db, userId: string, language: ConsoleLanguage): Promise<void> {
  await db.updateTable('users').set({ language }).where('id', '=', userId).execute();
}

/**
 * Which of these session tokens still open a session (not closed, not
 * expired, the account not disabled): one query for every viewer.
 */
export async function sessionsStillOpen(db: Db, tokens: readonly string[]): Promise<Set<string>> {
  if (!tokens.length) return new Set();
  const byHash = new Map(tokens.map((t) => [hashToken(t), t]));
  const rows = await db
    .selectFrom('console_sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select('s.id_hash')
    .where('s.id_hash', 'in', [...byHash.keys()])
    .where('s.expires_at', '>', new Date())
    .where('u.disabled_at', 'is', null)
    .execute();
  return new Set(rows.map((r) => byHash.get(r.id_hash)!));
}

export async function closeSession(db: Db, token: string): Promise<void> {
  await db.deleteFrom('console_sessions').where('id_hash', '=', hashToken(token)).execute();
}

export async function audit(db: Db, who: User | undefined, action: string, target?: string, detail?: string): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({ user_id: who?.id ?? null, user_name: who?.name ?? null, action, target: target ?? null, detail: detail ?? null })
    .execute();
}

/** How long a first-admin link printed at start-up works. */
export const SETUP_LINK_TTL_MS = 3600 * 1000;
/** How long a password-reset link made by an admin works. */
export const RESET_LINK_TTL_MS = 24 * 3600 * 1000;

export type LinkPurpose = 'first_admin' | 'password_reset';

/**
 * The live link the token opens, if any. Every live link of that purpose is
 * compared with the token's hash in constant time (never a lookup that
 * returns sooner for a near miss); a first-admin link is dead once any
 * account exists, a reset link once its account is disabled.
 */
async function liveLink(db: Db, token: string, purpose: LinkPurpose) {
  if (typeof token !== 'string' || token.length < 20 || token.length > 100) return undefined;
  const rows = await db
    .selectFrom('setup_tokens as t')
    .leftJoin('users as u', 'u.id', 't.user_id')
    .select(['t.token_hash', 't.user_id', 'u.name', 'u.role', 'u.disabled_at'])
    .where('t.purpose', '=', purpose)
    .where('t.used_at', 'is', null)
    .where('t.expires_at', '>', new Date())
    .execute();
  const given = Buffer.from(hashToken(token));
  let found: (typeof rows)[number] | undefined;
  for (const row of rows) {
    const stored = Buffer.from(row.token_hash);
    if (stored.length === given.length && timingSafeEqual(stored, given)) found = row;
  }
  if (!found) return undefined;
  if (purpose === 'first_admin' && (await db.selectFrom('users').select('id').limit(1).executeTakeFirst())) return undefined;
  if (purpose === 'password_reset' && (found.disabled_at !== null || found.name === null)) return undefined;
  return found;
}

const newToken = () => randomBytes(32).toString('base64url');

/**
 * A first-admin link, made at start-up while there is no account (else
 * undefined). Each start makes a new one; those printed by other processes
 * stay valid until they expire or an account exists.
 */
export async function createSetupToken(db: Db, ttlMs = SETUP_LINK_TTL_MS): Promise<string | undefined> {
  if ((await countUsers(db)) > 0) return undefined;
  await db.deleteFrom('setup_tokens').where((eb) => eb.or([eb('expires_at', '<', new Date()), eb('used_at', 'is not', null)])).execute();
  const token = newToken();
  await db.insertInto('setup_tokens').values({ token_hash: hashToken(token), purpose: 'first_admin', expires_at: new Date(Date.now() + ttlMs) }).execute();
  return token;
}

/** Whether the link opens a page (the form is shown only then). */
export async function linkIsLive(db: Db, token: string, purpose: LinkPurpose): Promise<boolean> {
  return (await liveLink(db, token, purpose)) !== undefined;
}

/**
 * Creates the first admin from a setup link, once: the link is used up, and
 * every other first-admin link dies with it. Two forms sent at once (one link
 * or two) make one admin; the other gets `link_invalid`.
 */
export async function createFirstAdmin(db: Db, token: string, name: string, password: string): Promise<User> {
  checkNewName(name);
  checkNewPassword(password);
  const hash = await argon2.hash(password, ARGON2);
  return db.transaction().execute(async (trx) => {
    await sql`lock table setup_tokens in exclusive mode`.execute(trx);
    const link = await liveLink(trx, token, 'first_admin');
    if (!link) throw new AccountError('link_invalid', 'this setup link is used, expired or wrong, or an account exists already');
    const user = await trx.insertInto('users').values({ name, role: 'admin', password_hash: hash }).returning(['id', 'name', 'role']).executeTakeFirstOrThrow();
    await trx.updateTable('setup_tokens').set({ used_at: new Date() }).where('token_hash', '=', link.token_hash).execute();
    await trx.deleteFrom('setup_tokens').where('purpose', '=', 'first_admin').where('used_at', 'is', null).execute();
    return user;
  });
}

/**
 * A password reset by an admin: the old password stops working and the
 * account's sessions end at once; the link (shown once to the admin, who
 * hands it over) lets its owner choose a new password. A new link replaces
 * any earlier one.
 */
export async function createResetToken(db: Db, userId: string, by: User, ttlMs = RESET_LINK_TTL_MS): Promise<{ token: string; user: User }> {
  return db.transaction().execute(async (trx) => {
    // Locked as the other changes are: a reset stops a password, and the count of active admins with it.
    const { row } = await lockForChange(trx, { id: userId });
    if (row.disabled_at !== null) throw new AccountError('account_disabled', 'enable the account first');
    await trx.deleteFrom('setup_tokens').where('user_id', '=', row.id).execute();
    await trx.updateTable('users').set({ password_hash: '' }).where('id', '=', row.id).execute();
    await trx.deleteFrom('console_sessions').where('user_id', '=', row.id).execute();
    const token = newToken();
    await trx
      .insertInto('setup_tokens')
      .values({ token_hash: hashToken(token), purpose: 'password_reset', user_id: row.id, created_by: by.name, expires_at: new Date(Date.now() + ttlMs) })
      .execute();
    return { token, user: { id: row.id, name: row.name, role: row.role } };
  });
}

/** The account a live reset link is for (its name is shown on the form). */
export async function resetLinkAccount(db: Db, token: string): Promise<string | undefined> {
  return (await liveLink(db, token, 'password_reset'))?.name ?? undefined;
}

/** Sets the new password from a reset link, once; any session of that account ends. */
export async function useResetToken(db: Db, token: string, password: string): Promise<User> {
  checkNewPassword(password);
  const hash = await argon2.hash(password, ARGON2);
  return db.transaction().execute(async (trx) => {
    await sql`lock table setup_tokens in exclusive mode`.execute(trx);
    const link = await liveLink(trx, token, 'password_reset');
    if (!link?.user_id || !link.name || !link.role) throw new AccountError('link_invalid', 'this link is used, expired or wrong');
    await trx.updateTable('setup_tokens').set({ used_at: new Date() }).where('token_hash', '=', link.token_hash).execute();
    await trx.updateTable('users').set({ password_hash: hash }).where('id', '=', link.user_id).execute();
    await trx.deleteFrom('console_sessions').where('user_id', '=', link.user_id).execute();
    return { id: link.user_id, name: link.name, role: link.role };
  });
}
