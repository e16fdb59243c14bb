/**
 * Phone numbers are the most sensitive thing Kalata handles: a fraud reporter
 * can be at risk. A Malian number has 8 digits, so a plain hash is reversible
 * by enumeration; numbers are pseudonymized with a keyed HMAC, encrypted with
 * AES-256-GCM where an SMS must reach them, and masked wherever shown.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** A stable pseudonym for a number: HMAC-SHA256 under a key kept outside the database. */
export function pseudonymizePhone(key: string, e164: string): string {
  return createHmac('sha256', key).update(e164).digest('base64url').slice(0, 32);
}

/** Pseudonyms of the numbers in calls now: a call's every turn needs its caller's. In memory, for minutes. */
const recentPseudonyms = new LRUCache<string, string>({ max: 20_000, ttl: 10 * 60_000 });

/** pseudonymizePhone, for a number seen on every turn of a call (the runtime's hot path). */
export function pseudonymOfCaller(key: string, e164: string): string {
  const id = `${e164}:${key}`;
  let pseudonym = recentPseudonyms.get(id);
  if (pseudonym === undefined) recentPseudonyms.set(id, (pseudonym = pseudonymizePhone(key, e164)));
  return pseudonym;
}

/** `+223 76 •• •• 56`: enough for an operator to tell callers apart, not to call them. */
export function maskPhone(e164: string): string {
  const digits = e164.replace(/\D/g, '');
  if (digits.startsWith('223') && digits.length === 11) {
    return `+223 ${digits.slice(3, 5)} •• •• ${digits.slice(9)}`;
  }
  return `+${digits.slice(0, Math.min(3, digits.length - 2))} •• ${digits.slice(-2)}`;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The 32 bytes of a DATA_ENCRYPTION_KEY (64 hex digits or base64). */
export function encryptionKeyBytes(key: string): Buffer {
  const bytes = /^[0-9a-fA-F]{64}$/.test(key) ? Buffer.from(key, 'hex') : Buffer.from(key, 'base64');
  if (bytes.length !== 32) throw new Error('DATA_ENCRYPTION_KEY must be 32 bytes');
  return bytes;
}

/** AES-256-GCM, as `v1.<iv>.<tag>.<ciphertext>` in base64url. */
export function encryptText(key: string, plain: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', encryptionKeyBytes(key), iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), data].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

export function decryptText(key: string, sealed: string): string {
  const [version, iv, tag, data] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not an encrypted value');
  const decipher = createDecipheriv('aes-256-gcm', encryptionKeyBytes(key), Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
}
