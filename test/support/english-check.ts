/**
 * Finds the French left on a console page read in English.
 *
 * Two nets. The catalogue's own French texts (src/web/locales/en/*.json,
 * the keys): one of them on the page means a text wrapped in `t()` that was
 * not translated where it is shown. And a heuristic for French nobody
 * wrapped: French-only words (le, les, des, avec, aucun…), elisions (l’, d’),
 * accented letters and « guillemets ».
 *
 * What is legitimately French or Bambara is taken out first: the hotline's
 * own content (every text of locales/fr and locales/bm, the election's
 * variables and the SMS keywords in flows/), the data a test typed, and any
 * element marked as another language (`lang="fr"`: the « Français » button).
 * A console text identical to a hotline text cannot be told apart from it:
 * such a text is left to the hotline (see `hotlineTwins`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { parse } from 'yaml';
import { loadCatalogue } from '../../src/web/console/console-i18n.js';
import { pattern, RAW_CODES, visibleText } from './console-pages.js';

export interface FrenchLeft {
  /** the stretch of text (a line, a table cell, an attribute) that holds French, shortened past 160 characters */
  text: string;
  /** the French in it: catalogue texts left untranslated, and the words the heuristic caught */
  why: string[];
  /** `catalogue` when a catalogue text is among them (wrapped, not translated), else `unwrapped` */
  kind: 'catalogue' | 'unwrapped';
  /** the 40 characters either side, to find it on the page */
  context: string;
  /** how many times the page shows it */
  times: number;
}

/** Every string in a nested JSON or YAML value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

const letters = (s: string) => (s.match(/\p{L}/gu) ?? []).length;
const words = (s: string) => s.split(/\s+/).filter((w) => /\p{L}/u.test(w)).length;

/**
 * The hotline's texts as they can appear on a page: each line apart (a
 * screen's title is its first line), and the pieces between `{{values}}`
 * (the value is filled in, or shown as `{{…}}` on the review page). A piece
 * as short as « le » or « des » would hide every French article on the
 * page: a piece counts from two words, four letters or one accent.
 */
function pieces(text: string): string[] {
  return text
    .split(/\n|\{\{[^}]*\}\}/)
    .map((p) => p.trim())
    .filter((p) => words(p) >= 2 || letters(p) >= 4 || /[^\p{ASCII}]/u.test(p));
}

/** The hotline's languages (flows/languages.yaml). */
const languages = (root = process.cwd()) => (parse(readFileSync(join(root, 'flows', 'languages.yaml'), 'utf8')) as { languages: { code: string; name: string }[] }).languages;
/** Each language's name in itself, as callers pick it. */
export const languageNames = (root = process.cwd()): string[] => languages(root).map((l) => l.name);

/**
 * The hotline's own content: what callers hear and read in each of its
 * languages (flows/languages.yaml), the languages' names in themselves
 * (Bamanankan), and the election's values ({{polling_hours}}…).
 */
export function hotlineTexts(root = process.cwd()): string[] {
  const texts: string[] = [...languageNames(root)];
  for (const lang of languages(root).map((l) => l.code)) {
    const dir = join(root, 'locales', lang);
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.json'))) texts.push(...strings(JSON.parse(readFileSync(join(dir, name), 'utf8'))));
  }
  texts.push(...strings(parse(readFileSync(join(root, 'flows', 'variables.yaml'), 'utf8'))));
  return [...new Set(texts.flatMap(pieces))];
}

/** The words callers text to the hotline (STATUT, ARRÊT, DƐMƐ…): shown as they are typed, in any language. */
export function smsKeywords(root = process.cwd()): string[] {
  return strings(parse(readFileSync(join(root, 'flows', 'keywords.yaml'), 'utf8')));
}

/** A French text specific enough to count: two words or more, or one word of five letters or more. */
const specific = (s: string) => words(s) >= 2 || letters(s) >= 5;
/** Spaces as one space; line breaks and tabs (innerText's table cells) kept: they part one text from the next. */
const normalize = (s: string) => s.replace(/[\u00a0\u202f\r ]+/g, ' ');

/**
 * The catalogue's French texts worth looking for: each piece of a key
 * between its `{{values}}` that is specific enough and that its English does
 * not contain (`Menus` is `Menus` in English: no proof of anything).
 */
export function catalogueTexts(): string[] {
  const { catalogue } = loadCatalogue('en');
  const found = new Set<string>();
  // A language's name in itself (Bamanankan) is no French left, in any page or message that names it.
  const names = new Set(languageNames());
  for (const [french, english] of Object.entries(catalogue)) {
    for (const piece of french.split(/\{\{\w+\}\}/)) {
      const p = normalize(piece).trim();
      if (specific(p) && !names.has(p) && !normalize(english).toLowerCase().includes(p.toLowerCase())) found.add(p);
    }
  }
  return [...found];
}

/**
 * The stored codes (RAW_CODES) that are no English word: on an English page
 * « 0 pending, 0 queued » is English, `dry_run` or ` fr ` is still a code.
 */
export const CODES_IN_ENGLISH = RAW_CODES.filter((code) => /[_:.-]|^ /.test(code) || ['followup', 'bamako'].includes(code));

/** The stored codes an English page shows, each with the words around it (rawCodesIn for an English page). */
export async function codesInEnglish(p: Page): Promise<string[]> {
  const text = await visibleText(p);
  return CODES_IN_ENGLISH.filter((code) => pattern(code).test(text)).map((code) => {
    const i = text.search(pattern(code));
    return `"${code.trim()}" in « ${text.slice(Math.max(0, i - 40), i + code.length + 40).replace(/\s+/g, ' ')} »`;
  });
}

/** Catalogue texts that are also, letter for letter, hotline texts: where the hotline's own shows, the check cannot tell them apart. */
export function hotlineTwins(): string[] {
  const hotline = new Set(hotlineTexts().map((t) => normalize(t)));
  return catalogueTexts().filter((t) => hotline.has(t));
}

const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);

/** Where `needle` occurs in `haystack` as whole words (ignoring case, or not). */
function occurrences(haystack: string, needle: string, ignoreCase: boolean): number[] {
  const hay = ignoreCase ? haystack.toLowerCase() : haystack;
  const n = ignoreCase ? needle.toLowerCase() : needle;
  const at: number[] = [];
  // toLowerCase keeps the length of the texts here (no dotted capital I): indices stay the original's.
  if (hay.length !== haystack.length || n.length !== needle.length) return at;
  for (let i = hay.indexOf(n); i >= 0; i = hay.indexOf(n, i + 1)) {
    const startsWord = !isWordChar(needle[0]) || !isWordChar(haystack[i - 1]);
    const endsWord = !isWordChar(needle.at(-1)) || !isWordChar(haystack[i + n.length]);
    if (startsWord && endsWord) at.push(i);
  }
  return at;
}

/**
 * French that nobody wrapped: words only French uses (articles,
 * prepositions, and a few a console says without an accent: « ligne 2,
 * centre : valeur manquante »), elisions, accents and guillemets.
 */
const FRENCH_MARKERS = [
  /(?<![\p{L}\p{N}])(?:le|les|des|du|une|avec|pour|dans|aucun|aucune|à|de|la|et|ou|est|sont|sur|par|pas|ne|ce|cette|sans|au|aux|qui|que|ligne|lignes|valeur)(?![\p{L}\p{N}])/giu,
  /(?<![\p{L}\p{N}])(?:l|d|qu|n|j|s)[’'](?=\p{L})\p{L}*/giu,
  /\p{L}*[éèêëàâîïôûùçœ]\p{L}*/giu,
  /[«»]/gu,
];

export interface DetectorOptions {
  /** the hotline's content and the data the test typed: French or Bambara on purpose */
  legitimate: readonly string[];
  /** the catalogue's French texts (catalogueTexts()) */
  catalogue: readonly string[];
}

/**
 * The French left in `raw` (a page's visible text, or its attributes one per
 * line), one finding per stretch of text (a line or a table cell) however
 * often the page shows it. Legitimate texts are masked first; a catalogue
 * text counts unless all of it is inside a legitimate one (a hotline
 * sentence that holds a console word).
 */
export function frenchIn(raw: string, { legitimate, catalogue }: DetectorOptions): FrenchLeft[] {
  const text = normalize(raw);
  const masked = new Array<boolean>(text.length).fill(false);
  const pieces = legitimate.map((l) => normalize(l).replace(/\s+/g, ' ').trim()).filter(Boolean);
  for (const piece of pieces) for (const i of occurrences(text, piece, false)) masked.fill(true, i, i + piece.length);
  // A label shortens a long screen to its first words and « … » (src/web/console/labels.ts), the values filled in:
  // the words before « … » begin a hotline text. Twelve letters at least, or three right after a masked text (a value).
  const beginnings = pieces.map((p) => p.replace(/^[^\p{L}\p{N}]+/u, ''));
  for (const cut of text.matchAll(/…/g)) {
    const end = text.slice(0, cut.index).replace(/[\s,.;:]+$/, '').length;
    const lineStart = Math.max(text.lastIndexOf('\n', cut.index), text.lastIndexOf('\t', cut.index)) + 1;
    for (let c = lineStart; c < end; c++) {
      if (!isWordChar(text[c]) || isWordChar(text[c - 1])) continue;
      let j = c - 1;
      while (j >= lineStart && !masked[j] && !/\p{L}/u.test(text[j]!)) j--;
      const rest = text.slice(c, end);
      if (rest.length < (j >= lineStart && masked[j] ? 3 : 12) || !beginnings.some((b) => b.startsWith(rest))) continue;
      masked.fill(true, c, cut.index + 1);
      break;
    }
  }
  const keys = [...catalogue].sort((a, b) => b.length - a.length);
  const found = new Map<string, FrenchLeft>();
  let start = 0;
  for (const stretch of text.split(/[\n\t]/)) {
    const at = start;
    start += stretch.length + 1;
    const why: string[] = [];
    let kind: FrenchLeft['kind'] = 'unwrapped';
    // What is left to read: a text found is blanked, so that a shorter one inside it is not counted again.
    let work = stretch;
    for (const key of keys) {
      for (const i of occurrences(work, key, true)) {
        if (masked.slice(at + i, at + i + key.length).every(Boolean)) continue;
        why.push(key);
        kind = 'catalogue';
        work = work.slice(0, i) + ' '.repeat(key.length) + work.slice(i + key.length);
      }
    }
    work = [...work].map((c, i) => (masked[at + i] ? ' ' : c)).join('');
    for (const marker of FRENCH_MARKERS) for (const m of work.matchAll(marker)) why.push(m[0]);
    if (!why.length) continue;
    const shown = stretch.trim().length > 160 ? `${stretch.trim().slice(0, 160)}…` : stretch.trim();
    const seen = found.get(shown);
    if (seen) {
      seen.times += 1;
      continue;
    }
    const context = `${text.slice(Math.max(0, at - 40), at)}⟦…⟧${text.slice(at + stretch.length, at + stretch.length + 40)}`.replace(/\s+/g, ' ').trim();
    found.set(shown, { text: shown, why: [...new Set(why)], kind, context, times: 1 });
  }
  return [...found.values()];
}

/**
 * What an English reader reads on the page: its visible text (as
 * visibleText in console-pages.ts: without `<code>`, scripts and the
 * simulator's own screen) and, apart, the words in attributes a screen reader
 * or a tooltip shows (`aria-label`, `title`, `placeholder`, `alt`) and the
 * page's title. Elements marked as another language are left out, and so are
 * the screens a caller saw (a call's transcript) and the screens and SMS the
 * simulator replays in its history and inbox (the same content as its
 * screen).
 */
export async function englishReading(p: Page): Promise<{ text: string; attributes: string }> {
  return (await p.evaluate(`(() => {
    const body = document.body.cloneNode(true);
    const foreign = '[lang]:not([lang=""]):not([lang|="en"])';
    const hotline = '#sim-screen, #sim-meta, #sim-history .sim-seen .sim-text, #sim-inbox .sim-text, #transcript .screen:not(.muted)';
    for (const el of body.querySelectorAll('code, script, ' + hotline + ', ' + foreign)) el.remove();
    const attributes = ['<title> ' + document.title];
    for (const el of body.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
      for (const name of ['aria-label', 'title', 'placeholder', 'alt']) {
        const value = el.getAttribute(name);
        if (value) attributes.push(name + '="' + value.replace(/\\s+/g, ' ') + '"');
      }
    }
    // A detached clone has no layout: innerText on it reads like textContent, so put it back for a moment.
    const box = document.createElement('div');
    box.setAttribute('hidden', '');
    document.body.appendChild(box);
    box.appendChild(body);
    box.removeAttribute('hidden');
    const text = body.innerText.replace(/\\{\\{[^}]*\\}\\}/g, '{{…}}');
    box.remove();
    return { text, attributes: attributes.join('\\n') };
  })()`)) as { text: string; attributes: string };
}

/** The French left on a page read in English, in its text and in its attributes. */
export async function frenchOnPage(p: Page, options: DetectorOptions): Promise<FrenchLeft[]> {
  const { text, attributes } = await englishReading(p);
  return [...frenchIn(text, options), ...frenchIn(attributes, options).map((f) => ({ ...f, context: 'attribute' }))];
}
