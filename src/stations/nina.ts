/**
 * NINA numbers (Mali's national identification number). Their exact format
 * is not confirmed here (see docs), so they are only normalized (spaces and
 * dashes out, letters upper-case) and never stored or logged in clear: a
 * voter's assignment is keyed by a keyed HMAC of the number.
 */
import { createHmac } from 'node:crypto';

/** Letters and digits only, upper-case; undefined when nothing plausible is left. */
export function normalizeNina(raw: string): string | undefined {
  const nina = raw.normalize('NFKC').replace(/[\s.\-_/]+/g, '').toUpperCase();
  return /^[0-9A-Z]{6,30}$/.test(nina) ? nina : undefined;
}

/** The key a voter's assignment is stored under. Domain-separated from the phone pseudonyms. */
export function ninaHash(key: string, nina: string): string {
  return createHmac('sha256', key).update(`nina:${nina}`).digest('base64url').slice(0, 32);
}
