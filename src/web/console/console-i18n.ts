/**
 * The console's own words, in the language each account chose: French, the
 * language the console is written in, or English.
 *
 * The French text is the key (gettext's way, which i18next supports as
 * "natural language keys"): a page reads `t('Signalements')` and stays
 * readable, and the English catalogue (`src/web/locales/en/*.json`, one file
 * per part of the console) maps each French text to its translation. A text
 * with values names them: `t('{{calls}} appels', { calls })` (never `count`, `ns` or
 * `context`: i18next reads those as its own options).
 *
 * The language of a request is set once, by `consoleLanguage()` below, and
 * read through Node's AsyncLocalStorage, so the label helpers that pages and
 * exports already call (roleLabel, smsStatusLabel, ...) answer in the
 * reader's language without passing it through every call.
 *
 * This is not the hotline's content: a caller's texts are in `locales/` and
 * versioned with the menus; these are the console's, and ship with the code.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseCookie } from 'cookie';
import type { RequestHandler, Response } from 'express';
import i18next from 'i18next';
import { CONSOLE_LANGUAGES, type ConsoleLanguage } from '../../store/user-store.js';
import type { ConsoleLocals } from './console-auth.js';

const here = dirname(fileURLToPath(import.meta.url));
export const CATALOGUE_DIR = join(here, '..', 'locales');

/** A catalogue: French text -> its translation. */
export type Catalogue = Record<string, string>;

/**
 * Every file of one language's catalogue, merged. A French text translated
 * two different ways in two files is an error: one text, one translation.
 */
export function loadCatalogue(language: ConsoleLanguage, dir = CATALOGUE_DIR): { catalogue: Catalogue; files: Record<string, Catalogue> } {
  const files: Record<string, Catalogue> = {};
  const catalogue: Catalogue = {};
  const folder = join(dir, language);
  let names: string[];
  try {
    names = readdirSync(folder).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return { catalogue, files };
  }
  for (const name of names) {
    const entries = JSON.parse(readFileSync(join(folder, name), 'utf8')) as Catalogue;
    files[name] = entries;
    for (const [key, value] of Object.entries(entries)) {
      if (key in catalogue && catalogue[key] !== value) {
        throw new Error(`console catalogue ${language}/${name}: "${key}" is already translated as "${catalogue[key]}", here as "${value}"`);
      }
      catalogue[key] = value;
    }
  }
  return { catalogue, files };
}

const { catalogue: english, files: englishFiles } = loadCatalogue('en');

const i18n = i18next.createInstance();
void i18n.init({
  lng: 'fr',
  supportedLngs: [...CONSOLE_LANGUAGES],
  fallbackLng: false,
  // Natural-language keys: a French text holds `.` and `:` of its own.
  keySeparator: false,
  nsSeparator: false,
  defaultNS: 'console',
  ns: ['console'],
  resources: { en: { console: english } },
  // Eta escapes what a page shows; escaping here too would show `&amp;`.
  interpolation: { escapeValue: false },
  returnEmptyString: false,
  initAsync: false,
});

const current = new AsyncLocalStorage<ConsoleLanguage>();

/** The language of the request being served (French outside a request). */
export const language = (): ConsoleLanguage => current.getStore() ?? 'fr';

/** The BCP 47 tag for dates and numbers in the reader's language. */
export const locale = (): string => (language() === 'en' ? 'en-GB' : 'fr-FR');

/**
 * `text` (French) in the reader's language, with `{{name}}` replaced by
 * `values.name`. A French text with no English entry shows in French: the
 * catalogue test (test/unit/console-catalogue.test.ts) keeps that from
 * shipping.
 */
export function t(text: string, values: Record<string, unknown> = {}): string {
  return i18n.t(text, { ...values, lng: language(), defaultValue: text });
}

/**
 * Marks a French text that is translated where it is shown, not where it is
 * written (a table of labels: `{ new: word('Nouveau') }`, shown with
 * `t(STATUS[code])`), so that the catalogue test finds it.
 */
export const word = (text: string): string => text;

/** Runs `fn` with the console in `lang` (tests, and work done outside a request). */
export function inLanguage<T>(lang: ConsoleLanguage, fn: () => T): T {
  return current.run(lang, fn);
}

/** The cookie that keeps the language of a reader without a session (the sign-in page, the public simulator). */
export const LANGUAGE_COOKIE = 'kalata_lang';

export const isLanguage = (value: unknown): value is ConsoleLanguage => typeof value === 'string' && (CONSOLE_LANGUAGES as readonly string[]).includes(value);

/**
 * Sets the language of the request: the signed-in account's choice, or, for
 * a reader without a session, the one chosen with the header's button (a
 * cookie); French otherwise. Not the browser's Accept-Language: an
 * operator's phone set to English would otherwise get an English sign-in
 * page and a French console behind it. Mounted after loadSession.
 */
export function consoleLanguage(): RequestHandler {
  return (req, res, next) => {
    const session = (res.locals as ConsoleLocals).session;
    const chosen = parseCookie(req.headers.cookie ?? '')[LANGUAGE_COOKIE];
    const lang = session?.language ?? (isLanguage(chosen) ? chosen : 'fr');
    res.locals.language = lang;
    current.run(lang, next);
  };
}

/** Keeps the language of a reader without a session for a year (it says nothing about them but a language). */
export function rememberLanguage(res: Response, lang: ConsoleLanguage, secure: boolean): void {
  res.cookie(LANGUAGE_COOKIE, lang, { maxAge: 365 * 24 * 3600 * 1000, httpOnly: true, sameSite: 'lax', secure, path: '/' });
}

/** The files of a catalogue the browser's scripts read: `client.json`, `client-<part>.json`. */
export const isClientFile = (name: string) => /^client(-[a-z-]+)?\.json$/.test(name);

const englishClient: Catalogue = Object.assign({}, ...Object.entries(englishFiles).filter(([name]) => isClientFile(name)).map(([, entries]) => entries));

/** The part of the catalogue the browser's scripts need (`en/client*.json`), for a page in `lang`. */
export function clientCatalogue(lang: ConsoleLanguage): Catalogue {
  return lang === 'fr' ? {} : englishClient;
}
