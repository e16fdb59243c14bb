/**
 * Moves the database from one pair of keys to another, in one transaction
 * (`npm run keys -- rotate`; see docs/threat-model.md, "Changing a key").
 *
 * - Encrypted numbers (`reports.phone_enc`, `sms_outbox.phone_enc`,
 *   `sms_optout_numbers.phone_enc`, `callbacks.phone_enc`) are decrypted under the old
 *   DATA_ENCRYPTION_KEY and sealed again under the new one.
 * - Pseudonyms (`phone_hash` on calls, reports, callers, SMS, opt-outs and
 *   call-back requests)
 *   cannot be recomputed from the old HMAC. Where a number is still kept
 *   (decrypted from any of the columns above), every row with that caller's
 *   old pseudonym gets the new one, as if the caller had always been known
 *   under the new key. Where no number is kept (calls of callers who never
 *   filed a report or got an SMS, records older than PHONE_RETENTION_DAYS),
 *   the old pseudonym is replaced by an HMAC of it under the new key: the
 *   records of one caller stay together, but match nobody any more, and the
 *   old key no longer opens them.
 * - NINA hashes (`voter_assignments`) cannot be re-keyed at all (the numbers
 *   are never kept): they are deleted, only when asked (`dropVoters`), and
 *   the voters file must be imported again.
 *
 * The turn spool (Redis) holds turns sealed under the old keys: a rotation
 * refuses to run while it is not empty, and while other clients are
 * connected to the database (the hotline must be stopped: a process still
 * running on the old keys would write under them after the commit).
 */
import { createHmac } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Db } from '../store/database.js';
import type { Database } from '../store/schema.js';
import { KEY_NAMES, checkKeysAgainstData, keyFingerprint, keyOf, ROTATION_DOCS, type KeyName } from './key-fingerprints.js';
import { decryptText, encryptText, pseudonymizePhone } from './phone.js';
import type { Secrets } from './secrets.js';

/** The rotation was refused, or cannot be done as asked: nothing was changed. */
export class KeyRotationError extends Error {
  override name = 'KeyRotationError';
}

/** Columns holding a number sealed with DATA_ENCRYPTION_KEY, with what identifies their row. */
const SEALED = [
  { table: 'reports', id: 'id' },
  { table: 'sms_outbox', id: 'id' },
  // Keyed by the pseudonym itself, which follows sms_optouts (on update cascade).
  { table: 'sms_optout_numbers', id: 'phone_hash' },
  // Call-back requests keep the number until their outcome is recorded.
  { table: 'callbacks', id: 'id' },
] as const;
type SealedTable = (typeof SEALED)[number]['table'];

/** Tables whose `phone_hash` is a pseudonym under PHONE_HASH_KEY (sms_optout_numbers follows sms_optouts). */
const PSEUDONYMS = ['calls', 'reports', 'callers', 'sms_outbox', 'sms_inbound', 'sms_optouts', 'callbacks'] as const;

/**
 * Every column that looks like it holds a keyed value, and what it is. A new
 * one unknown here stops the rotation rather than being left under the old key.
 */
const KNOWN_COLUMNS: Record<string, 'sealed' | 'pseudonym' | 'nina' | 'not keyed'> = {
  'reports.phone_enc': 'sealed',
  'sms_outbox.phone_enc': 'sealed',
  'sms_optout_numbers.phone_enc': 'sealed',
  'callbacks.phone_enc': 'sealed',
  ...Object.fromEntries(PSEUDONYMS.map((t) => [`${t}.phone_hash`, 'pseudonym'])),
  'sms_optout_numbers.phone_hash': 'pseudonym',
  'voter_assignments.nina_hash': 'nina',
  'calls.flow_hash': 'not keyed',
  'flow_versions.hash': 'not keyed',
  // content hashes of a menus version and of its compiled flows (migration 010), under no key
  'content_versions.hash': 'not keyed',
  'content_versions.flows_hash': 'not keyed',
  'users.password_hash': 'not keyed',
  'console_sessions.id_hash': 'not keyed',
  // SHA-256 of a random one-time link token, under no key
  'setup_tokens.token_hash': 'not keyed',
};
const LOOKS_KEYED = /hash|(^|_)enc(rypted)?$|sealed|cipher/;

export interface RotationOptions {
  /** the keys the data is under now; a key given as `lost` is gone for good (see `lost`) */
  from: Secrets;
  /** the keys to move to (those the hotline will start with) */
  to: Secrets;
  /**
   * Keys whose old value is lost: a lost DATA_ENCRYPTION_KEY forgets every
   * number (they cannot be read); a lost PHONE_HASH_KEY re-keys pseudonyms
   * only through the rows that keep a number beside them.
   */
  lost?: readonly KeyName[];
  /** delete voters' assignments (required when PHONE_HASH_KEY changes and there are some) */
  dropVoters?: boolean;
  /** delete the encrypted numbers the old key cannot read, rather than refusing */
  forgetUnreadable?: boolean;
  /**
   * go on although some opt-outs keep no number (STOPs from before numbers
   * were kept with them): those numbers may get follow-ups again. Refused
   * without it: an SMS can put someone who sent STOP at risk.
   */
  loseOptouts?: boolean;
  /** do everything, report it, and roll back */
  dryRun?: boolean;
  /** turns waiting in Redis under the old keys (the rotation refuses while there are some) */
  spool?: { size(): Promise<number> };
  /** other clients connected to the database: refused unless 'ignore' (default 'refuse') */
  otherConnections?: 'refuse' | 'ignore';
}

export interface RotationSummary {
  rotated: KeyName[];
  dryRun: boolean;
  /** encrypted numbers rewritten (sealed again under the new key, or given their new pseudonym), by table */
  resealed: Record<SealedTable, number>;
  /** encrypted numbers the old key could not read, deleted */
  forgotten: number;
  /** distinct callers' pseudonyms: re-keyed from a kept number, or replaced by one that matches nobody */
  pseudonyms: { rekeyed: number; unlinked: number };
  /** opt-outs among them */
  optouts: { rekeyed: number; unlinked: number };
  /** pseudonyms of reports among the unlinked (their authors' STATUT finds them no more) */
  reportsUnlinked: number;
  votersDropped: number;
  fingerprints: Record<KeyName, string>;
}

class RolledBack extends Error {
  constructor(readonly summary: RotationSummary) {
    super('dry run');
  }
}

type Trx = Transaction<Database>;

/** A pseudonym that cannot be re-keyed: keyed by the new key, over the old pseudonym, in its own domain. */
function unlinkedPseudonym(newKey: string, oldHash: string): string {
  return createHmac('sha256', newKey).update(`unlinked:${oldHash}`).digest('base64url').slice(0, 32);
}

const chunks = <T>(items: readonly T[], size = 500): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

async function refuseUnknownColumns(trx: Trx): Promise<void> {
  const columns = await sql<{ table_name: string; column_name: string }>`
    select table_name, column_name from information_schema.columns where table_schema = current_schema()
  `.execute(trx);
  const unknown = columns.rows
    .map((c) => `${c.table_name}.${c.column_name}`)
    .filter((c) => LOOKS_KEYED.test(c.split('.')[1]!) && !(c in KNOWN_COLUMNS) && !c.startsWith('kysely_'));
  if (unknown.length) {
    throw new KeyRotationError(`the rotation does not know what ${unknown.join(', ')} holds: add it to src/privacy/key-rotation.ts (KNOWN_COLUMNS) before rotating`);
  }
}

async function refuseOtherConnections(trx: Trx): Promise<void> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'
  `.execute(trx);
  const n = rows[0]?.n ?? 0;
  if (n > 0) {
    throw new KeyRotationError(
      `${n} other connection${n === 1 ? ' is' : 's are'} open on this database: stop the hotline (every web process and worker) first, ` +
        'or, if they are not Kalata (a psql session, a backup), pass --ignore-connections',
    );
  }
}

/** The old keys must be the database's: by its fingerprints, or by its data when it has none yet. */
async function verifyOldKeys(trx: Trx, from: Secrets, lost: readonly KeyName[], rotated: readonly KeyName[]): Promise<void> {
  const rows = await trx.selectFrom('key_fingerprints').select(['name', 'fingerprint']).execute();
  const recorded = new Map(rows.map((r) => [r.name as KeyName, r.fingerprint]));
  const unrecorded: KeyName[] = [];
  for (const name of KEY_NAMES) {
    if (lost.includes(name)) continue;
    const expected = recorded.get(name);
    if (expected === undefined) {
      unrecorded.push(name);
      continue;
    }
    const given = keyFingerprint(name, keyOf(from, name));
    if (given !== expected && !rotated.includes(name)) {
      throw new KeyRotationError(
        `${name} (fingerprint ${given}) is not the key this database uses (fingerprint ${expected}), and it is not being rotated: ` +
          `set ${name} to the database's key, or give that as OLD_${name} to rotate it too (${ROTATION_DOCS})`,
      );
    }
    if (given !== expected) {
      throw new KeyRotationError(
        `the old ${name} (fingerprint ${given}) is not the key this database uses (fingerprint ${expected}): ` +
          `give it as OLD_${name}, or, if it is lost for good, pass --lost ${name} (${ROTATION_DOCS})`,
      );
    }
  }
  if (unrecorded.length) {
    const disproved = await checkKeysAgainstData(trx, from, unrecorded);
    if (disproved) throw new KeyRotationError(`the old keys are not this database's: ${disproved.message}`);
  }
}

interface Sealed {
  table: SealedTable;
  id: string;
  hash: string;
  enc: string;
  phone?: string;
}

/**
 * Rotates the keys, all or nothing, and records the new fingerprints.
 *
 * @example
 * const summary = await rotateKeys(db, { from: { phoneHashKey: oldKey, dataEncryptionKey }, to: loadSecrets(config), spool });
 */
export async function rotateKeys(db: Db, options: RotationOptions): Promise<RotationSummary> {
  const lost = options.lost ?? [];
  const rotated = KEY_NAMES.filter((name) => lost.includes(name) || keyFingerprint(name, keyOf(options.from, name)) !== keyFingerprint(name, keyOf(options.to, name)));
  if (!rotated.length) throw new KeyRotationError('the old and new keys are the same: nothing to rotate (set the new keys, and the old ones as OLD_PHONE_HASH_KEY / OLD_DATA_ENCRYPTION_KEY)');
  const rehash = rotated.includes('PHONE_HASH_KEY');
  const reseal = rotated.includes('DATA_ENCRYPTION_KEY');
  const encLost = lost.includes('DATA_ENCRYPTION_KEY');
  const hashLost = lost.includes('PHONE_HASH_KEY');

  const spooled = options.spool ? await options.spool.size() : 0;
  if (spooled > 0) {
    throw new KeyRotationError(
      `${spooled} turn${spooled === 1 ? ' waits' : 's wait'} in the Redis spool, sealed under the old keys: start the hotline with the old keys until the database takes them (it drains within seconds once PostgreSQL answers), stop it, then rotate`,
    );
  }

  const run = async (trx: Trx): Promise<RotationSummary> => {
    if (options.otherConnections !== 'ignore') await refuseOtherConnections(trx);
    await refuseUnknownColumns(trx);
    // Nothing else writes these while the numbers are moved.
    await sql`lock table calls, reports, callers, sms_outbox, sms_inbound, sms_optouts, sms_optout_numbers, callbacks, voter_assignments, key_fingerprints in exclusive mode`.execute(trx);
    await verifyOldKeys(trx, options.from, lost, rotated);

    const voters = Number((await trx.selectFrom('voter_assignments').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    if (rehash && voters > 0 && !options.dropVoters) {
      throw new KeyRotationError(
        `${voters} voters' assignments are keyed by PHONE_HASH_KEY, and their NINA numbers are not kept: they cannot be re-keyed. ` +
          'Rerun with --drop-voters, then import the voters file again (npm run stations -- import FILE.csv)',
      );
    }

    // 1. Every number still kept, read under the old key.
    const sealed: Sealed[] = [];
    for (const { table, id } of SEALED) {
      const rows = await sql<{ id: string; hash: string; enc: string }>`
        select ${sql.ref(id)}::text as id, phone_hash as hash, phone_enc as enc from ${sql.table(table)} where phone_enc is not null
      `.execute(trx);
      for (const r of rows.rows) {
        let phone: string | undefined;
        if (!encLost) {
          try {
            phone = decryptText(options.from.dataEncryptionKey, r.enc);
          } catch {
            // unreadable: counted below
          }
        }
        sealed.push({ table, id: r.id, hash: r.hash, enc: r.enc, ...(phone ? { phone } : {}) });
      }
    }
    const unreadable = sealed.filter((s) => s.phone === undefined);
    if (unreadable.length && !encLost && !options.forgetUnreadable) {
      const first = unreadable[0]!;
      throw new KeyRotationError(
        `${unreadable.length} encrypted number${unreadable.length === 1 ? '' : 's'} cannot be read with the old DATA_ENCRYPTION_KEY (the first: ${first.table} ${first.id}), ` +
          'so they were sealed under yet another key: rerun with that key, or with --forget-unreadable to delete them (they are lost either way)',
      );
    }

    // 2. Pseudonyms: the old one of each number kept, and what every old one becomes.
    const rekey = new Map<string, string>();
    const pseudonyms = { rekeyed: 0, unlinked: 0 };
    let optouts = { rekeyed: 0, unlinked: 0 };
    let reportsUnlinked = 0;
    if (rehash) {
      const known = new Map<string, string>();
      for (const s of sealed) {
        if (s.phone === undefined) continue;
        // A row whose pseudonym is not its number's under the old key (an earlier silent key change) vouches for nothing.
        if (hashLost || pseudonymizePhone(options.from.phoneHashKey, s.phone) === s.hash) known.set(s.hash, pseudonymizePhone(options.to.phoneHashKey, s.phone));
      }
      const all = await sql<{ hash: string }>`
        ${sql.join(PSEUDONYMS.map((t) => sql`select phone_hash as hash from ${sql.table(t)} where phone_hash is not null`), sql` union `)}
      `.execute(trx);
      for (const { hash } of all.rows) {
        const next = known.get(hash);
        rekey.set(hash, next ?? unlinkedPseudonym(options.to.phoneHashKey, hash));
        pseudonyms[next ? 'rekeyed' : 'unlinked'] += 1;
      }
      const optedOut = await trx.selectFrom('sms_optouts').select('phone_hash').execute();
      optouts = { rekeyed: optedOut.filter((o) => known.has(o.phone_hash)).length, unlinked: optedOut.filter((o) => !known.has(o.phone_hash)).length };
      if (optouts.unlinked > 0 && !options.loseOptouts) {
        throw new KeyRotationError(
          `${optouts.unlinked} opt-out(s) keep no number, so they cannot follow the new PHONE_HASH_KEY: those callers sent STOP and could get SMS again. ` +
            'Keep the old key, or rerun with --lose-optouts to accept it',
        );
      }
      const reportHashes = await trx.selectFrom('reports').select('phone_hash').where('phone_hash', 'is not', null).execute();
      reportsUnlinked = reportHashes.filter((r) => !known.has(r.phone_hash!)).length;

      await sql`create temp table kalata_rekey (old_hash text primary key, new_hash text not null) on commit drop`.execute(trx);
      for (const part of chunks([...rekey])) {
        await sql`insert into kalata_rekey (old_hash, new_hash) values ${sql.join(part.map(([o, n]) => sql`(${o}, ${n})`))}`.execute(trx);
      }
      for (const table of PSEUDONYMS) {
        await sql`update ${sql.table(table)} as t set phone_hash = r.new_hash from kalata_rekey r where t.phone_hash = r.old_hash`.execute(trx);
      }
      if (voters > 0) await trx.deleteFrom('voter_assignments').execute();
    }

    // 3. The numbers, sealed again (and their rows' pseudonyms made from the number itself).
    const resealed: Record<SealedTable, number> = { reports: 0, sms_outbox: 0, sms_optout_numbers: 0, callbacks: 0 };
    let forgotten = 0;
    for (const { table, id } of SEALED) {
      const rows = sealed.filter((s) => s.table === table);
      const gone = rows.filter((s) => s.phone === undefined);
      const kept = rows.filter((s) => s.phone !== undefined);
      // sms_optout_numbers is keyed by the pseudonym, already moved by step 2 (cascade from sms_optouts).
      const rowKey = (s: Sealed) => (table === 'sms_optout_numbers' ? (rekey.get(s.id) ?? s.id) : s.id);
      for (const part of chunks(gone)) {
        const keys = part.map(rowKey);
        if (table === 'sms_optout_numbers') await trx.deleteFrom('sms_optout_numbers').where('phone_hash', 'in', keys).execute();
        else await sql`update ${sql.table(table)} set phone_enc = null where id in (${sql.join(keys.map((k) => sql`${k}::bigint`))})`.execute(trx);
        forgotten += part.length;
      }
      for (const part of chunks(kept)) {
        const values = part.map((s) => {
          const enc = reseal ? encryptText(options.to.dataEncryptionKey, s.phone!) : s.enc;
          const hash = rehash ? pseudonymizePhone(options.to.phoneHashKey, s.phone!) : s.hash;
          return sql`(${rowKey(s)}, ${enc}, ${hash})`;
        });
        if (table === 'sms_optout_numbers') {
          await sql`update sms_optout_numbers as t set phone_enc = v.enc from (values ${sql.join(values)}) as v(key, enc, hash) where t.phone_hash = v.key`.execute(trx);
        } else {
          await sql`
            update ${sql.table(table)} as t set phone_enc = v.enc, phone_hash = v.hash
            from (values ${sql.join(values)}) as v(key, enc, hash) where t.${sql.ref(id)} = v.key::bigint
          `.execute(trx);
        }
        resealed[table] += part.length;
      }
    }

    // 4. The new fingerprints, and a line in the audit log.
    const fingerprints = Object.fromEntries(KEY_NAMES.map((name) => [name, keyFingerprint(name, keyOf(options.to, name))])) as Record<KeyName, string>;
    for (const name of KEY_NAMES) {
      await trx
        .insertInto('key_fingerprints')
        .values({ name, fingerprint: fingerprints[name], created_at: new Date() })
        .onConflict((oc) => oc.column('name').doUpdateSet({ fingerprint: fingerprints[name], created_at: new Date() }))
        .execute();
    }
    const summary: RotationSummary = {
      rotated,
      dryRun: options.dryRun === true,
      resealed,
      forgotten,
      pseudonyms,
      optouts,
      reportsUnlinked,
      votersDropped: rehash ? voters : 0,
      fingerprints,
    };
    await trx
      .insertInto('audit_log')
      .values({
        user_id: null,
        user_name: null,
        action: 'rotate_keys',
        target: rotated.join(','),
        detail: `resealed ${resealed.reports + resealed.sms_outbox + resealed.sms_optout_numbers + resealed.callbacks}, forgotten ${forgotten}, pseudonyms re-keyed ${pseudonyms.rekeyed}, unlinked ${pseudonyms.unlinked}, voters dropped ${summary.votersDropped}`,
      })
      .execute();
    return summary;
  };

  try {
    return await db.transaction().execute(async (trx) => {
      const summary = await run(trx);
      if (options.dryRun) throw new RolledBack(summary);
      return summary;
    });
  } catch (err) {
    if (err instanceof RolledBack) return err.summary;
    throw err;
  }
}
