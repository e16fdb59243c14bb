/**
 * The hotline's languages, as data: `flows/languages.yaml`, versioned with
 * the texts. A language has a code (its folder `locales/<code>/`), its name
 * as callers see it, whether its texts wait for a native speaker's review,
 * and optional spellings: other ways to write it on a phone, as letter
 * replacements, each with the encoding its screens must then stay in.
 * Adding a language takes a locale folder and one entry here; the validator,
 * the linter, the golden tests and the review warnings read this list.
 *
 * @example
 * languages:
 *   - { code: fr, name: Français }
 *   - code: bm
 *     name: Bamanankan
 *     review: true
 *     spellings:
 *       gsm7: { encoding: GSM-7, letters: { ɛ: è, ɔ: ò, ɲ: ny, ŋ: ng } }
 */
import { z } from 'zod';
import { BAMBARA_GSM7_LETTERS } from './bambara-spelling.js';

export const LANGUAGES_FILE = 'languages.yaml';

/** How a language is written as the files hold it: no replacement. */
export const AS_WRITTEN = 'standard';

/** A language's code: ISO 639, 2 or 3 lowercase letters (fr, bm, ses, ff, taq, snk). */
export const LANGUAGE_CODE = /^[a-z]{2,3}$/;
/** The code as every content file names a language (languages.yaml, a menu option, terminology.yaml). */
export const languageCode = z.string().regex(LANGUAGE_CODE, 'a language code is 2 or 3 lowercase letters (ISO 639: fr, bm, ses, ff, taq, snk)');
const spellingName = z.string().regex(/^[a-z][a-z0-9_]{0,19}$/, 'a spelling name is lowercase letters, digits and _');

const spellingSchema = z.strictObject({
  /** each letter (or letters) of the written language, and what this spelling writes instead */
  letters: z.record(z.string().min(1).max(4), z.string().max(8)),
  /** the encoding every screen in this spelling must fit (GSM-7: 182-character screens); absent: no rule */
  encoding: z.enum(['GSM-7']).optional(),
});

export const languagesFileSchema = z.strictObject({
  /** in the order the language menu offers them; the first is the source the others translate */
  languages: z
    .array(
      z.strictObject({
        code: languageCode,
        /** the language's name in itself, as a caller picks it */
        name: z.string().min(1).max(40),
        /** its texts are machine drafts until a native speaker signs each one off */
        review: z.boolean().optional(),
        spellings: z.record(spellingName, spellingSchema).optional(),
      }),
    )
    .min(1, 'at least one language'),
});
export type LanguagesFile = z.infer<typeof languagesFileSchema>;

export interface Spelling {
  readonly name: string;
  readonly encoding?: 'GSM-7';
  /** longest first, so that a replacement of two letters wins over one of them */
  readonly letters: readonly (readonly [string, string])[];
}

export interface Language {
  readonly code: string;
  readonly name: string;
  readonly review: boolean;
  /** the spellings besides the one the files are written in */
  readonly spellings: readonly Spelling[];
}

export interface LanguageSet {
  /** every code, in menu order; the first is the source language */
  readonly codes: readonly string[];
  readonly source: string;
  get(code: string): Language | undefined;
  has(code: string): boolean;
  /** the spelling names of a language: `standard` first, then its own */
  spellingsOf(code: string): readonly string[];
  /** `text` of `lang` in `spelling` (`standard`, or unknown: as written) */
  spell(lang: string, spelling: string, text: string): string;
}

/**
 * The languages when a content has no `flows/languages.yaml`: French, then
 * Bambara with its phone spelling that stays in GSM-7 (è ò ny ng), the
 * hotline's two languages before languages were data.
 */
export const DEFAULT_LANGUAGES: LanguagesFile = {
  languages: [
    { code: 'fr', name: 'Français' },
    {
      code: 'bm',
      name: 'Bamanankan',
      review: true,
      spellings: {
        gsm7: { encoding: 'GSM-7', letters: { ...BAMBARA_GSM7_LETTERS } },
      },
    },
  ],
};

export function languageSet(file: LanguagesFile): LanguageSet {
  const byCode = new Map<string, Language>(
    file.languages.map((l) => [
      l.code,
      {
        code: l.code,
        name: l.name,
        review: l.review === true,
        spellings: Object.entries(l.spellings ?? {}).map(([name, s]) => ({
          name,
          ...(s.encoding ? { encoding: s.encoding } : {}),
          letters: Object.entries(s.letters)
            .map(([from, to]) => [from.normalize('NFC'), to.normalize('NFC')] as const)
            .sort((a, b) => b[0].length - a[0].length),
        })),
      },
    ]),
  );
  const codes = file.languages.map((l) => l.code);
  const spellingOf = (lang: string, spelling: string) => byCode.get(lang)?.spellings.find((s) => s.name === spelling);
  return {
    codes,
    source: codes[0]!,
    get: (c) => byCode.get(c),
    has: (c) => byCode.has(c),
    spellingsOf: (c) => [AS_WRITTEN, ...(byCode.get(c)?.spellings.map((s) => s.name) ?? [])],
    spell(lang, spelling, text) {
      const s = spelling === AS_WRITTEN ? undefined : spellingOf(lang, spelling);
      if (!s) return text;
      let out = text;
      for (const [from, to] of s.letters) out = out.split(from).join(to);
      return out;
    },
  };
}
