/**
 * Terminology as data (`flows/terminology.yaml`): per language, each concept's
 * one term to use and the forms to avoid. `flows:check` reports every locale
 * text, variable and SMS keyword that uses an avoided form; Bambara is checked
 * in both spellings (standard and the GSM-7 folding), so `nimòrò` is caught
 * like `nimɔrɔ`.
 *
 * Matching is by whole words, ignoring case. Where a term to use contains an
 * avoided form (`telefɔni nimɔrɔ` holds `nimɔrɔ`), the occurrence inside the
 * term does not count; where two avoided forms overlap, only the longer is
 * reported (`NINA nimɔrɔ`, not also `nimɔrɔ`).
 */
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { Lang } from '../engine/types.js';
import { AS_WRITTEN, languageCode, type LanguageSet } from '../i18n/languages.js';
import { listKeys, type LoadedLocales } from '../i18n/locales.js';
import type { KeywordsFile, VariablesFile } from './flow-schema.js';
import type { ParsedFile } from './flow-loader.js';
import type { Problem } from './problems.js';

/** A form written `/.../` is a regular expression (still matched as whole words). */
const REGEX_FORM = /^\/(.+)\/$/s;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** What texts and terms are compared in: NFC, lower case, one kind of apostrophe, placeholders blocked out. */
function normalizeText(text: string): string {
  return text
    .normalize('NFC')
    .toLowerCase()
    .replace(/[’‘ʼ]/g, "'")
    .replace(/\{\{[^}]*\}\}/g, (m) => '\u0000'.repeat(m.length));
}

/** A text in one spelling of its language (languages.yaml). */
type Spell = (text: string) => string;

function formSource(form: string, spell: Spell): string {
  const regex = REGEX_FORM.exec(form);
  const source = regex
    ? regex[1]!.normalize('NFC').replace(/[ƐƆƝŊ]/g, (c) => c.toLowerCase())
    : escapeRegExp(normalizeText(form)).replace(/\s+/g, '\\s+');
  return spell(source);
}

function compileForm(form: string, spell: Spell): RegExp {
  return new RegExp(`(?<![\\p{L}\\p{N}])(?:${formSource(form, spell)})(?![\\p{L}\\p{N}])`, 'giu');
}

function isValidForm(form: string): boolean {
  try {
    compileForm(form, (t) => t);
    return true;
  } catch {
    return false;
  }
}

const literal = z.string().trim().min(1, 'a term is at least one letter');
const form = literal.refine(isValidForm, 'not a valid regular expression');

const termSchema = z.strictObject({
  /** the one term to use */
  use: literal,
  /** other accepted forms of it (an inflection, a short form in context); they are not reported either */
  also: z.array(literal).optional(),
  /** forms to avoid: words or phrases, or `/regular expressions/` */
  avoid: z.array(form),
  /** why, for the writer who meets the problem */
  note: literal,
});

const languageSchema = z.strictObject({
  /** `machine-drafted` until a native speaker has confirmed the choices */
  status: z.enum(['machine-drafted', 'reviewed']),
  terms: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, 'a concept is lowercase letters, digits and _'), termSchema),
});

/** `flows/terminology.yaml`, by language code (of languages.yaml). A missing file means no terminology check. */
export const terminologyFileSchema = z.record(languageCode, languageSchema);
export type TerminologyFile = z.infer<typeof terminologyFileSchema>;
export type Term = z.infer<typeof termSchema>;

/** One use of an avoided form, with where it is. */
export interface TermUse {
  file: string;
  line: number;
  col: number;
  /** `text` (a locale string), `variable` or `keyword` */
  kind: 'text' | 'variable' | 'keyword';
  /** `ns:key` for a text, the variable's name, or `action[i]` for a keyword */
  key: string;
  lang: Lang;
  concept: string;
  term: Term;
  /** what the text says, as found */
  found: string;
  /** found only in another spelling of the language (the text mixes spellings, or is written in phone spelling) */
  foldedOnly: boolean;
  /** that spelling's name, when foldedOnly */
  spelling?: string;
}

interface CompiledTerms {
  uses: RegExp[];
  avoids: { concept: string; term: Term; re: RegExp }[];
}

type Range = { start: number; end: number };

function ranges(re: RegExp, text: string): (Range & { text: string })[] {
  const out: (Range & { text: string })[] = [];
  re.lastIndex = 0;
  for (const m of text.matchAll(re)) {
    if (m[0].length === 0) continue;
    out.push({ start: m.index, end: m.index + m[0].length, text: m[0] });
  }
  return out;
}

const covers = (outer: Range, inner: Range) => outer.start <= inner.start && inner.end <= outer.end;

function compileTerms(terms: Record<string, Term>, spell: Spell): CompiledTerms {
  const uses: RegExp[] = [];
  const avoids: CompiledTerms['avoids'] = [];
  for (const [concept, term] of Object.entries(terms)) {
    for (const use of [term.use, ...(term.also ?? [])]) uses.push(compileForm(use, spell));
    for (const avoided of term.avoid) avoids.push({ concept, term, re: compileForm(avoided, spell) });
  }
  return { uses, avoids };
}

/**
 * The avoided forms a text uses, once per concept and form found. `shown` is
 * the text as written (same spelling), to quote from when its length allows.
 */
function findInText(text: string, shown: string, compiled: CompiledTerms): { concept: string; term: Term; found: string; match: string }[] {
  const used = compiled.uses.flatMap((re) => ranges(re, text));
  const hits = compiled.avoids
    .flatMap(({ concept, term, re }) => ranges(re, text).map((r) => ({ concept, term, ...r })))
    .filter((h) => !used.some((u) => covers(u, h)));
  const kept = hits.filter((h) => !hits.some((o) => o !== h && covers(o, h) && o.end - o.start > h.end - h.start));
  const seen = new Set<string>();
  return kept.filter((h) => {
    const id = `${h.concept}\u0000${h.text}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  }).map(({ concept, term, text: match, start, end }) => ({ concept, term, match, found: shown.length === text.length ? shown.slice(start, end) : match }));
}

/** Points at the key of a dotted path in a JSON file (JSON is YAML, which keeps positions). */
function jsonKeyLocator(content: string): (path: readonly string[]) => { line: number; col: number } {
  const lines = new LineCounter();
  const doc = parseDocument(content, { lineCounter: lines, prettyErrors: false });
  return (path) => {
    const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
      if (pair && isScalar(pair.key) && pair.key.range) return lines.linePos(pair.key.range[0]);
    }
    return { line: 1, col: 1 };
  };
}

export interface TerminologySources {
  terminology: TerminologyFile;
  locales: LoadedLocales;
  /** the languages and their spellings: each text is searched in every spelling of its language */
  languages: LanguageSet;
  variables?: ParsedFile<VariablesFile>;
  keywords?: ParsedFile<KeywordsFile>;
}

/**
 * Every use of an avoided form in the locale texts, the variables (each in
 * its language) and the SMS keywords (against both languages' lists).
 *
 * @example
 * const uses = findTermUses({ terminology, locales, variables, keywords });
 * // [{ file: 'locales/bm/sms.json', line: 6, col: 3, key: 'sms:help', concept: 'phone_number', found: 'nimɔrɔ', ... }]
 */
export function findTermUses(sources: TerminologySources): TermUse[] {
  const { terminology, locales, languages } = sources;
  const compiled = new Map<string, CompiledTerms>();
  const spellFor = (lang: Lang, spelling: string): Spell => (t) => languages.spell(lang, spelling, t);
  /** A form in every other spelling of its language at once: what tells two spellings' finds of one form apart. */
  const folded = (lang: Lang, t: string) => languages.spellingsOf(lang).reduce((out, spelling) => languages.spell(lang, spelling, out), t);
  const termsFor = (lang: Lang, spelling: string) => {
    const id = `${lang}/${spelling}`;
    let c = compiled.get(id);
    if (!c) compiled.set(id, (c = compileTerms(terminology[lang]?.terms ?? {}, spellFor(lang, spelling))));
    return c;
  };
  /** Finds in each spelling; a form found in the standard one is reported once. */
  const find = (lang: Lang, text: string) => {
    const out: { concept: string; term: Term; found: string; foldedOnly: boolean; spelling?: string }[] = [];
    const seen = new Set<string>();
    for (const spelling of languages.spellingsOf(lang)) {
      const spell = spellFor(lang, spelling);
      for (const { match, ...hit } of findInText(spell(normalizeText(text)), spell(text.normalize('NFC')), termsFor(lang, spelling))) {
        const id = `${hit.concept}\u0000${folded(lang, match)}`;
        if (seen.has(id)) continue;
        seen.add(id);
        out.push({ ...hit, foldedOnly: spelling !== AS_WRITTEN, ...(spelling !== AS_WRITTEN ? { spelling } : {}) });
      }
    }
    return out;
  };

  const uses: TermUse[] = [];
  const contents = new Map(locales.sources.map((s) => [s.file, s.content]));
  for (const lang of languages.codes) {
    if (!terminology[lang]) continue;
    for (const [ns, texts] of Object.entries(locales.resources[lang] ?? {})) {
      const file = locales.fileOf(lang, ns);
      let locate: ReturnType<typeof jsonKeyLocator> | undefined;
      for (const key of listKeys(texts)) {
        const path = key.split('.');
        let text: unknown = texts;
        for (const part of path) text = (text as Record<string, unknown>)[part];
        for (const hit of find(lang, text as string)) {
          locate ??= jsonKeyLocator(contents.get(file) ?? '{}');
          uses.push({ file, ...locate(path), kind: 'text', key: `${ns}:${key}`, lang, ...hit });
        }
      }
    }
  }
  const variables = sources.variables;
  for (const [name, value] of Object.entries(variables?.data ?? {})) {
    for (const lang of languages.codes) {
      if (!terminology[lang]) continue;
      for (const hit of find(lang, value[lang] ?? '')) {
        uses.push({ file: variables!.file, ...variables!.locate([name, lang]), kind: 'variable', key: name, lang, ...hit });
      }
    }
  }
  const keywords = sources.keywords;
  for (const [action, words] of Object.entries(keywords?.data ?? {})) {
    words.forEach((word, i) => {
      for (const lang of languages.codes) {
        if (!terminology[lang]) continue;
        for (const hit of find(lang, word)) {
          uses.push({ file: keywords!.file, ...keywords!.locate([action, i]), kind: 'keyword', key: `${action}[${i}]`, lang, ...hit });
        }
      }
    });
  }
  return uses;
}

/** The message a writer reads: what was found, the term to use, and why. */
export function termUseMessage(use: TermUse): string {
  const what = use.kind === 'text' ? `text "${use.key}"` : use.kind === 'variable' ? `variable ${use.key}` : `keyword ${use.key}`;
  const spelling = use.foldedOnly ? ` (in the ${use.spelling === 'gsm7' ? 'GSM-7' : use.spelling} spelling)` : '';
  return `terminology: ${use.lang} ${what} uses "${use.found}"${spelling}; for ${use.concept.replace(/_/g, ' ')} write "${use.term.use}" (${use.term.note})`;
}

/**
 * The terminology check `flows:check` runs: one error per avoided form a
 * text, variable or keyword uses, at the key that holds it.
 */
export function terminologyProblems(sources: TerminologySources): Problem[] {
  return findTermUses(sources).map((use) => ({
    file: use.file,
    line: use.line,
    col: use.col,
    severity: 'error' as const,
    message: termUseMessage(use),
  }));
}
