/**
 * Reference numbers for fraud reports: `KA-` and 7 characters of Crockford's
 * base32 (no I, L, O, U: nothing to misread on a small screen or over the
 * phone). 32^7 ≈ 3.4e10 values; the reports table's unique key catches the
 * rare collision.
 */
import { randomInt } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const REFERENCE_PATTERN = /^KA-[0-9A-HJKMNP-TV-Z]{7}$/;

export function mintReference(): string {
  let out = 'KA-';
  for (let i = 0; i < 7; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}
