/**
 * Locale files (`locales/<lang>/<namespace>.json`) and the text lookup built on
 * i18next. Bambara files carry a `$review` block listing the keys a native
 * speaker has checked; every other Bambara string is machine-drafted.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import i18next, { type i18n } from 'i18next';
import type { Lang, TextLookup } from '../engine/types.js';
import type { Problem } from '../flows/problems.js';
import { DEFAULT_LANGUAGES, languageSet, type LanguageSet } from './languages.js';

export type Namespace = Record<string, unknown>;
/** language -> namespace -> texts; every language of the set has an entry */
export type Resources = Record<Lang, Record<string, Namespace>>;

export interface ReviewInfo {
  /** for each language under review: namespace -> keys a native speaker has reviewed (`$review` blocks) */
  reviewed: Record<Lang, Record<string, Set<string>>>;
}

export interface LoadedLocales {
  resources: Resources;
  review: ReviewInfo;
  /** raw file contents, for the version hash */
  sources: { file: string; content: string }[];
  problems: Problem[];
  /** where a namespace's file is (or would be), relative to the root */
  fileOf(lang: Lang, ns: string): string;
}

const REVIEW_KEY = '$review';

function positionOf(content: string, offset: number): { line: number; col: number } {
  const before = content.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - before.lastIndexOf('\n') };
}

/** Reads every locale file under `dir` for each language of the set, reporting unreadable JSON with its position. */
export function loadLocales(dir: string, root = process.cwd(), languages: LanguageSet = languageSet(DEFAULT_LANGUAGES)): LoadedLocales {
  const resources: Resources = Object.fromEntries(languages.codes.map((lang) => [lang, {}]));
  const review: ReviewInfo = { reviewed: {} };
  const sources: LoadedLocales['sources'] = [];
  const problems: Problem[] = [];
  for (const lang of languages.codes) {
    const langDir = join(dir, lang);
    let files: string[] = [];
    try {
      files = readdirSync(langDir).filter((f) => f.endsWith('.json')).sort();
    } catch {
      problems.push({ file: relative(root, langDir), line: 1, col: 1, severity: 'error', message: `no locale folder for ${lang}` });
      continue;
    }
    for (const name of files) {
      const path = join(langDir, name);
      const file = relative(root, path);
      if (!statSync(path).isFile()) continue;
      // Editors on Windows may save a byte-order mark; JSON.parse refuses it.
      const content = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
      sources.push({ file, content });
      let data: unknown;
      try {
        data = JSON.parse(content);
      } catch (err) {
        const match = /position (\d+)/.exec(String(err));
        const offset = match ? Number(match[1]) : /end of JSON/.test(String(err)) ? content.length : 0;
        const { line, col } = positionOf(content, offset);
        problems.push({ file, line, col, severity: 'error', message: `invalid JSON: ${(err as Error).message}` });
        continue;
      }
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        problems.push({ file, line: 1, col: 1, severity: 'error', message: 'a locale file holds one JSON object' });
        continue;
      }
      const ns = name.slice(0, -'.json'.length);
      const { [REVIEW_KEY]: meta, ...texts } = data as Record<string, unknown>;
      resources[lang]![ns] = deepNormalize(texts) as Namespace;
      if (languages.get(lang)?.review) {
        const keys = (meta as { reviewed?: unknown } | undefined)?.reviewed;
        (review.reviewed[lang] ??= {})[ns] = new Set(Array.isArray(keys) ? keys.map(String) : []);
      }
    }
  }
  const fileOf = (lang: Lang, ns: string) => relative(root, join(dir, lang, `${ns}.json`));
  return { resources, review, sources, problems, fileOf };
}

/** Texts are measured and shown in NFC: in NFD even `é` is not GSM-7. */
function deepNormalize(value: unknown): unknown {
  if (typeof value === 'string') return value.normalize('NFC');
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepNormalize(v)]));
  }
  return value;
}

/** Looks a dotted key up in a namespace; undefined when missing or not a string. */
export function getText(resources: Resources, lang: Lang, ns: string, key: string): string | undefined {
  let node: unknown = resources[lang]?.[ns];
  for (const part of key.split('.')) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string' ? node : undefined;
}

/** Every dotted key of string values in a namespace. */
export function listKeys(ns: Namespace, prefix = ''): string[] {
  const keys: string[] = [];
  for (const [k, v] of Object.entries(ns)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') keys.push(key);
    else if (v && typeof v === 'object') keys.push(...listKeys(v as Namespace, key));
  }
  return keys;
}

/** `{{name}}` placeholders in a text. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(/\{\{\s*([a-zA-Z0-9_]+)\s*\}\}/g)].map((m) => m[1]!);
}

export interface TextLookupOptions {
  resources: Resources;
  /** admin-editable values per language, available to every text */
  variables: Record<Lang, Record<string, string>>;
  /** the source language: what a text missing in another language falls back to */
  source: Lang;
  /** a text as the deployment's spelling of its language writes it */
  spell: (lang: Lang, text: string) => string;
}

/**
 * Builds the pure text lookup the engine renders with. i18next resolves each
 * key once per language (fallback to the source language, the admin-set variables filled
 * in); the result is kept as a template whose runtime placeholders (`{{ref}}`,
 * answers) are filled on each call, which keeps a render to a few
 * microseconds. A missing key comes back as the key itself: a caller never
 * sees an exception.
 */
export function createTextLookup(options: TextLookupOptions): TextLookup {
  const instance: i18n = i18next.createInstance();
  void instance.init({
    resources: options.resources,
    lng: options.source,
    fallbackLng: options.source,
    initAsync: false,
    interpolation: {
      escapeValue: false,
      // Runtime placeholders stay in the template, to be filled per call.
      missingInterpolationHandler: (_text: string, match: RegExpExecArray) => match[0],
    },
    returnNull: false,
    keySeparator: '.',
    nsSeparator: ':',
    showSupportNotice: false,
  } as Parameters<i18n['init']>[0]);
  const { spell } = options;
  const templates = new Map<string, string>();
  const template = (lang: Lang, key: string): string => {
    const id = `${lang}\u0000${key}`;
    let text = templates.get(id);
    if (text === undefined) {
      text = spell(lang, instance.t(key, { lng: lang, ...(options.variables[lang] ?? {}) }) as string);
      templates.set(id, text);
    }
    return text;
  };
  return (lang, key, vars) => {
    const text = template(lang, key);
    if (!vars || !text.includes('{{')) return text;
    return text.replace(PLACEHOLDER, (whole, name: string) => {
      const value = vars[name];
      return value === undefined ? whole : spell(lang, value);
    });
  };
}

const PLACEHOLDER = /\{\{\s*([a-zA-Z0-9_]+)\s*\}\}/g;
