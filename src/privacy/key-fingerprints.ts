/**
 * Keys that change must not break things silently. A new PHONE_HASH_KEY makes
 * every pseudonym in the database unmatchable (opt-outs stop applying, STATUT
 * finds no report, NINA lookups find nobody); a new DATA_ENCRYPTION_KEY makes
 * every stored number unreadable. Neither shows until it hurts.
 *
 * So the database keeps a keyed fingerprint of each key: an HMAC-SHA256, under
 * the key, of a fixed label, truncated to 64 bits. It says nothing about the
 * key (it is not the key, nor a hash of it), yet only the same key gives the
 * same fingerprint. The first process to start records them; every later one
 * compares, and refuses to start on a mismatch.
 */
import { createHmac } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import { decryptText, encryptionKeyBytes, pseudonymizePhone } from './phone.js';
import type { Secrets } from './secrets.js';

export const KEY_NAMES = ['PHONE_HASH_KEY', 'DATA_ENCRYPTION_KEY'] as const;
export type KeyName = (typeof KEY_NAMES)[number];

/** Where the rotation is documented, for the messages that send an operator there. */
export const ROTATION_DOCS = 'docs/threat-model.md, "Changing a key"';

export function keyOf(secrets: Secrets, name: KeyName): string {
  return name === 'PHONE_HASH_KEY' ? secrets.phoneHashKey : secrets.dataEncryptionKey;
}

/**
 * The fingerprint of a key: 16 hex digits. A DATA_ENCRYPTION_KEY is taken as
 * its 32 bytes, so writing it in hex or in base64 gives the same fingerprint.
 *
 * @example
 * keyFingerprint('PHONE_HASH_KEY', secrets.phoneHashKey); // '5f0c2a…'
 */
export function keyFingerprint(name: KeyName, key: string): string {
  const material = name === 'DATA_ENCRYPTION_KEY' ? encryptionKeyBytes(key) : key;
  return createHmac('sha256', material).update(`kalata key fingerprint v1 ${name}`).digest('hex').slice(0, 16);
}

/** A configured key is not the one the database's data is under: the process must not start. */
export class KeyMismatchError extends Error {
  override name = 'KeyMismatchError';
  constructor(
    readonly key: KeyName,
    message: string,
  ) {
    super(message);
  }
}

interface Recorded {
  fingerprint: string;
  since: Date;
}

async function recordedFingerprints(db: Db): Promise<Map<KeyName, Recorded>> {
  const rows = await db.selectFrom('key_fingerprints').select(['name', 'fingerprint', 'created_at']).execute();
  return new Map(rows.map((r) => [r.name as KeyName, { fingerprint: r.fingerprint, since: new Date(r.created_at) }]));
}

const day = (d: Date) => d.toISOString().slice(0, 10);

function mismatch(name: KeyName, recorded: Recorded, configured: string): KeyMismatchError {
  return new KeyMismatchError(
    name,
    `${name} does not match the key this database was created with (fingerprint ${recorded.fingerprint}, since ${day(recorded.since)}; ` +
      `the configured key's is ${configured}): restore the old key, or move the data to the new one with ` +
      `OLD_${name}=<old key> npm run keys -- rotate (${ROTATION_DOCS})`,
  );
}

/**
 * For a database that has data but no fingerprints yet (a deployment
 * upgrading): the newest number kept encrypted says whether the configured
 * keys are the ones its data is under. Undefined when they are, or when
 * there is nothing to compare with.
 */
export async function checkKeysAgainstData(db: Db, secrets: Secrets, names: readonly KeyName[] = KEY_NAMES): Promise<KeyMismatchError | undefined> {
  const newest = async (table: 'reports' | 'sms_outbox') =>
    db.selectFrom(table).select(['id', 'phone_hash', 'phone_enc', 'created_at']).where('phone_enc', 'is not', null).orderBy('id', 'desc').limit(1).executeTakeFirst();
  const report = await newest('reports');
  const sms = await newest('sms_outbox');
  const [table, row] = !sms || (report && new Date(report.created_at) > new Date(sms.created_at)) ? ['reports', report] : ['sms_outbox', sms];
  if (!row?.phone_enc) return undefined;
  let phone: string;
  try {
    phone = decryptText(secrets.dataEncryptionKey, row.phone_enc);
  } catch {
    // With the encryption key already vouched for, an unreadable value says nothing about the other key.
    if (!names.includes('DATA_ENCRYPTION_KEY')) return undefined;
    return new KeyMismatchError(
      'DATA_ENCRYPTION_KEY',
      `DATA_ENCRYPTION_KEY cannot decrypt the numbers already in this database (the newest, ${table} ${row.id}): ` +
        `restore the key they were encrypted with, or move them to the new one with OLD_DATA_ENCRYPTION_KEY=<old key> npm run keys -- rotate (${ROTATION_DOCS})`,
    );
  }
  if (names.includes('PHONE_HASH_KEY') && pseudonymizePhone(secrets.phoneHashKey, phone) !== row.phone_hash) {
    return new KeyMismatchError(
      'PHONE_HASH_KEY',
      `PHONE_HASH_KEY is not the key the pseudonyms already in this database were made with (the newest, ${table} ${row.id}): ` +
        `restore the old key, or move the data to the new one with OLD_PHONE_HASH_KEY=<old key> npm run keys -- rotate (${ROTATION_DOCS})`,
    );
  }
  return undefined;
}

/**
 * At start, right after the migrations: records the keys' fingerprints on a
 * database that has none (after checking them against its data, if it has
 * some), and throws KeyMismatchError when a configured key is not the
 * database's. Safe when several processes start at once: the first one's
 * fingerprints win, and the others compare with them.
 *
 * @example
 * await verifyKeyFingerprints(db, secrets, logger); // throws on a changed key
 */
export async function verifyKeyFingerprints(db: Db, secrets: Secrets, logger?: Logger): Promise<{ recorded: KeyName[] }> {
  const compare = (recorded: Map<KeyName, Recorded>) => {
    for (const name of KEY_NAMES) {
      const found = recorded.get(name);
      const configured = keyFingerprint(name, keyOf(secrets, name));
      if (found && found.fingerprint !== configured) throw mismatch(name, found, configured);
    }
  };
  const before = await recordedFingerprints(db);
  compare(before);
  const missing = KEY_NAMES.filter((name) => !before.has(name));
  if (!missing.length) return { recorded: [] };
  const disproved = await checkKeysAgainstData(db, secrets, missing);
  if (disproved) throw disproved;
  await db
    .insertInto('key_fingerprints')
    .values(missing.map((name) => ({ name, fingerprint: keyFingerprint(name, keyOf(secrets, name)) })))
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  // Another process starting at the same moment may have recorded its own.
  compare(await recordedFingerprints(db));
  logger?.child({ subsystem: 'keys' }).info({ keys: missing }, 'key fingerprints recorded');
  return { recorded: missing };
}

export interface KeyCheck {
  name: KeyName;
  /** the configured key's */
  fingerprint: string;
  recorded?: Recorded;
  state: 'matches' | 'differs' | 'unrecorded';
  /** for an unrecorded key: why the database's data says it is the wrong one */
  problem?: string;
}

/** What `npm run keys -- check` prints: each configured key against the database, read only. */
export async function checkKeys(db: Db, secrets: Secrets): Promise<KeyCheck[]> {
  const recorded = await recordedFingerprints(db);
  const unrecorded = KEY_NAMES.filter((name) => !recorded.has(name));
  const disproved = unrecorded.length ? await checkKeysAgainstData(db, secrets, unrecorded) : undefined;
  return KEY_NAMES.map((name) => {
    const fingerprint = keyFingerprint(name, keyOf(secrets, name));
    const found = recorded.get(name);
    if (found) return { name, fingerprint, recorded: found, state: found.fingerprint === fingerprint ? 'matches' : 'differs' };
    return { name, fingerprint, state: 'unrecorded', ...(disproved?.key === name ? { problem: disproved.message } : {}) };
  });
}
