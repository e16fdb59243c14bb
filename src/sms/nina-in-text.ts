/**
 * What looks like a NINA number in a citizen's message, found and redacted
 * whatever words surround it: the number must never be stored or shown in
 * clear (see src/stations/nina.ts for the lookups' own handling).
 */

/**
 * Runs of letters and digits (spaces, dots, dashes or slashes between), each
 * piece holding a digit: a NINA typed into a message, however it is spaced.
 */
const DIGIT_RUN = /[0-9A-Za-z]*\d[0-9A-Za-z]*(?:[\s.\-_/]+[0-9A-Za-z]*\d[0-9A-Za-z]*)*/g;
/** A report's reference (`KA-7Q4M2XH`, `ka 7q4m2xh`) is not private: STATUT needs it. */
const AFTER_REFERENCE_PREFIX = /KA[\s-]?$/i;
const REFERENCE = /^KA[\s-]?[0-9A-Z]{7}$/i;
/** Digits in a run past which it is taken for a NINA (or a phone number): never kept in clear. */
export const NINA_LIKE_DIGITS = 6;

function ninaLikeRuns(text: string): { run: string; index: number }[] {
  const found: { run: string; index: number }[] = [];
  for (const m of text.matchAll(DIGIT_RUN)) {
    const digits = m[0].replace(/\D/g, '').length;
    if (digits >= NINA_LIKE_DIGITS && !REFERENCE.test(m[0]) && !AFTER_REFERENCE_PREFIX.test(text.slice(0, m.index))) found.push({ run: m[0], index: m.index });
  }
  return found;
}

/** The first run in a text that looks like a NINA number, if any. */
export function findNinaLike(text: string): string | undefined {
  return ninaLikeRuns(text)[0]?.run;
}

/**
 * Replaces whatever looks like a NINA number (6 digits or more in a run) with
 * `mask`, whatever the message says around it: `Mon NINA est 1234 5678 9012`
 * is kept as `Mon NINA est [private]`. References stay.
 */
export function redactNinaLike(text: string, mask: string): string {
  let out = '';
  let at = 0;
  for (const { run, index } of ninaLikeRuns(text)) {
    out += text.slice(at, index) + mask;
    at = index + run.length;
  }
  return out + text.slice(at);
}
