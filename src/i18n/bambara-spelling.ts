/**
 * Bambara has two spellings in the field: the official alphabet (ɛ ɔ ɲ ŋ, which
 * forces UCS-2 and 80-character screens) and the phone spelling that stays in
 * GSM-7 (è ò ny ng, 182-character screens). The content names it as a spelling
 * of Bambara (flows/languages.yaml); the gateways' text forms and the SMS
 * keywords fold these letters whatever the language.
 */

export type BambaraSpelling = 'standard' | 'gsm7';

/** The phone spelling's letters (capital È and Ò are not GSM-7: E and O). */
export const BAMBARA_GSM7_LETTERS: Readonly<Record<string, string>> = Object.freeze({ ɛ: 'è', Ɛ: 'E', ɔ: 'ò', Ɔ: 'O', ɲ: 'ny', Ɲ: 'Ny', ŋ: 'ng', Ŋ: 'Ng' });

const FOLD = new RegExp(`[${Object.keys(BAMBARA_GSM7_LETTERS).join('')}]`, 'g');

/** Folds standard Bambara letters to their GSM-7 phone spelling. */
export function foldToGsm7(text: string): string {
  return text.replace(FOLD, (letter) => BAMBARA_GSM7_LETTERS[letter]!);
}
