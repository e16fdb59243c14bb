/**
 * What looks like a NINA number in a citizen's message, found and redacted
 * whatever words surround it: the number must never be stored or shown in
 * clear (see src/stations/nina.ts for the lookups' own handling).
 */

/**
 * Runs of letters and digits, each piece holding a digit of any script
 * (fullwidth, N'Ko, Arabic-Indic...), joined by up to three characters that
 * are neither (spaces, dots, commas, dashes, plus signs...): a NINA typed into
 * a message, however it is spaced.
 */
const DIGIT_RUN = /[\p{L}\p{Nd}]*\p{Nd}[\p{L}\p{Nd}]*(?:[^\p{L}\p{Nd}\n]{1,3}[\p{L}\p{Nd}]*\p{Nd}[\p{L}\p{Nd}]*)*/gu;
const DIGIT = /\p{Nd}/gu;
/** A report's reference (`KA-7Q4M2XH`, `ka 7q4m2xh`, `7Q4M2XH` after `KA`) is not private: STATUT needs it. */
const REFERENCE = /^KA[\s-]?[0-9A-HJKMNP-TV-Z]{7}$/i;
const REFERENCE_BODY = /^[0-9A-HJKMNP-TV-Z]{7}$/i;
const AFTER_REFERENCE_PREFIX = /(?:^|[^\p{L}\p{Nd}])KA[\s-]?$/iu;
/** Digits in a run past which it is taken for a NINA (or a phone number): never kept in clear. */
export const NINA_LIKE_DIGITS = 6;

function isReference(run: string, before: string): boolean {
  return REFERENCE.test(run) || (REFERENCE_BODY.test(run) && AFTER_REFERENCE_PREFIX.test(before));
}

function ninaLikeRuns(text: string): { run: string; index: number }[] {
  const found: { run: string; index: number }[] = [];
  for (const m of text.matchAll(DIGIT_RUN)) {
    const digits = m[0].match(DIGIT)?.length ?? 0;
    if (digits >= NINA_LIKE_DIGITS && !isReference(m[0], text.slice(0, m.index))) found.push({ run: m[0], index: m.index });
  }
  return found;
}

/** The first run in a text that looks like a NINA number, if any: its letters and digits only, in their compatibility form (fullwidth digits become ASCII). */
export function findNinaLike(text: string): string | undefined {
  const run = ninaLikeRuns(text)[0]?.run;
  return run?.normalize('NFKC').replace(/[^\p{L}\p{Nd}]/gu, '');
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
