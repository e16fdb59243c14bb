/**
 * Accounts managed from the console (issue 15): one-time links, stored only
 * as a SHA-256 hash, that create the first admin (`first_admin`, no account
 * yet) or let one account choose a new password (`password_reset`); when an
 * account was disabled (`disabled_at`, instead of a bare flag) and when it
 * last signed in.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('disabled_at', 'timestamptz').execute();
  await db.schema.alterTable('users').addColumn('last_login_at', 'timestamptz').execute();
  await sql`update users set disabled_at = now() where disabled`.execute(db);
  await db.schema.alterTable('users').dropColumn('disabled').execute();

  await db.schema
    .createTable('setup_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('user_id', 'bigint', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute();
  // A first-admin link belongs to nobody yet; a reset link to exactly one account.
  await sql`alter table setup_tokens add constraint setup_tokens_purpose_check check ((purpose = 'first_admin' and user_id is null) or (purpose = 'password_reset' and user_id is not null))`.execute(db);
  await db.schema.createIndex('setup_tokens_user_idx').on('setup_tokens').column('user_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('setup_tokens').ifExists().execute();
  await db.schema.alterTable('users').addColumn('disabled', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
  await sql`update users set disabled = true where disabled_at is not null`.execute(db);
  await db.schema.alterTable('users').dropColumn('last_login_at').execute();
  await db.schema.alterTable('users').dropColumn('disabled_at').execute();
}
