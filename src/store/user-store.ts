/**
 * Console accounts (operators and admins), their sessions, and the audit log.
 * Passwords are hashed with Argon2id at OWASP's parameters; session tokens
 * are stored only as a SHA-256 hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import argon2 from 'argon2';
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

export async function addUser(db: Db, name: string, role: Role, password: string): Promise<User> {
  if (password.length < 12) throw new Error('the password must be at least 12 characters');
  const hash = await argon2.hash(password, ARGON2);
  const row = await db.insertInto('users').values({ name, role, password_hash: hash }).returning(['id', 'name', 'role']).executeTakeFirstOrThrow();
  return row;
}

export async function listUsers(db: Db) {
  return db.selectFrom('users').select(['id', 'name', 'role', 'disabled', 'created_at']).orderBy('name').execute();
}

export async function disableUser(db: Db, name: string): Promise<boolean> {
  const rows = await db.updateTable('users').set({ disabled: true }).where('name', '=', name).returning('id').execute();
  if (rows[0]) await db.deleteFrom('console_sessions').where('user_id', '=', rows[0].id).execute();
  return rows.length > 0;
}

/** The user if the name and password match an enabled account. */
export async function checkPassword(db: Db, name: string, password: string): Promise<User | undefined> {
  const row = await db.selectFrom('users').select(['id', 'name', 'role', 'password_hash', 'disabled']).where('name', '=', name).executeTakeFirst();
  if (!row) {
    decoyHash ??= argon2.hash(randomBytes(16).toString('hex'), ARGON2);
    await argon2.verify(await decoyHash, password).catch(() => false);
    return undefined;
  }
  const ok = await argon2.verify(row.password_hash, password).catch(() => false);
  if (!ok || row.disabled) return undefined;
  return { id: row.id, name: row.name, role: row.role };
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface ConsoleSession {
  user: User;
  csrfToken: string;
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
  return { token, csrfToken };
}

export async function findSession(db: Db, token: string): Promise<ConsoleSession | undefined> {
  const row = await db
    .selectFrom('console_sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['u.id', 'u.name', 'u.role', 'u.disabled', 's.csrf_token', 's.expires_at'])
    .where('s.id_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row || row.disabled || new Date(row.expires_at) < new Date()) return undefined;
  return { user: { id: row.id, name: row.name, role: row.role }, csrfToken: row.csrf_token };
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
