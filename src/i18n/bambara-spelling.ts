/**
 * Bambara has two spellings in the field: the official alphabet (ɛ ɔ ɲ ŋ, which
 * forces UCS-2 and 80-character screens) and the phone spelling that stays in
 * GSM-7 (è ò ny ng, 182-character screens). A deployment picks one.
 */

export type BambaraSpelling = 'standard' | 'gsm7';

const FOLDS: ReadonlyArray<[RegExp, string]> = [
  [/ɛ/g, 'è'],
  [/Ɛ/g, 'E'], // capital È is not GSM-7
  [/ɔ/g, 'ò'],
  [/Ɔ/g, 'O'], // capital Ò is not GSM-7
  [/ɲ/g, 'ny'],
  [/Ɲ/g, 'Ny'],
  [/ŋ/g, 'ng'],
  [/Ŋ/g, 'Ng'],
];

/** Folds standard Bambara letters to their GSM-7 phone spelling. */
export function foldToGsm7(text: string): string {
  let out = text;
  for (const [pattern, replacement] of FOLDS) out = out.replace(pattern, replacement);
  return out;
}

/** Applies the deployment's spelling to a Bambara text. */
export function applySpelling(text: string, spelling: BambaraSpelling): string {
  return spelling === 'gsm7' ? foldToGsm7(text) : text;
}
