/**
 * The console's English catalogue against the code: every French text the
 * console shows through `t(…)`, `word(…)` or (in the browser's scripts)
 * `consoleText(…)` has an English entry with the same `{{values}}`, and no
 * entry is left over from a text the code no longer shows.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { CATALOGUE_DIR, clientCatalogue, inLanguage, isClientFile, loadCatalogue, t } from '../../src/web/console/console-i18n.js';

const WEB = join(process.cwd(), 'src', 'web');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : /\.(ts|eta|js)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** `t('…')`, `it.t("…")`, `word('…')`, `consoleText('…')`: the literal French text of each call, with where it is. */
function textsIn(source: string): { text: string; index: number; fn: string }[] {
  const found: { text: string; index: number; fn: string }[] = [];
  const call = /(?<![\w$])(t|word|consoleText)\(\s*(?:'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)"|`((?:\\.|[^`\\])*)`)/g;
  for (const m of source.matchAll(call)) {
    const raw = m[2] ?? m[3] ?? m[4] ?? '';
    const text = raw.replace(/\\(['"`\\])/g, '$1').replace(/\\n/g, '\n').replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    found.push({ text, index: m.index, fn: m[1]! });
  }
  return found;
}

const placeholders = (text: string) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();

// console-i18n.ts shows no text of its own: its comments only name examples.
// Outside src/web, the import messages the stations page shows (src/stations/import-text.ts) are written for it too.
const sources = [...filesUnder(WEB).filter((f) => !f.startsWith(join(WEB, 'locales')) && !f.endsWith('console-i18n.ts')), join(process.cwd(), 'src', 'stations', 'import-text.ts')];
const used = sources.flatMap((file) => {
  const source = readFileSync(file, 'utf8');
  return textsIn(source).map((x) => ({ ...x, file: relative(process.cwd(), file), line: source.slice(0, x.index).split('\n').length }));
});
const { catalogue, files } = loadCatalogue('en');

describe('the console catalogue (English)', () => {
  it('finds the texts the console shows', () => {
    expect(textsIn(`it.t('Appels') + t("l'appel") + word('a\\'b') + consoleText(\`x {{n}}\`) + format('no')`).map((x) => x.text)).toEqual(['Appels', "l'appel", "a'b", 'x {{n}}']);
    // The layout alone has a dozen: a scanner that finds nothing would pass every check below.
    expect(used.filter((u) => u.file.endsWith('layout.eta')).length).toBeGreaterThan(10);
  });

  it('translates every text the console shows', () => {
    const missing = used.filter((u) => !(u.text in catalogue)).map((u) => `${u.file}:${u.line} ${u.fn}(${JSON.stringify(u.text)})`);
    expect([...new Set(missing)]).toEqual([]);
  });

  it('keeps no translation of a text the console no longer shows', () => {
    const shown = new Set(used.map((u) => u.text));
    expect(Object.keys(catalogue).filter((k) => !shown.has(k))).toEqual([]);
  });

  it('uses, in each translation, the values its French text names', () => {
    const wrong = Object.entries(catalogue).filter(([fr, en]) => placeholders(fr).join() !== placeholders(en).join()).map(([fr, en]) => `${fr} -> ${en}`);
    expect(wrong).toEqual([]);
  });

  it('gives the browser scripts exactly the texts they show (en/client*.json)', () => {
    const client = new Set(used.filter((u) => u.fn === 'consoleText').map((u) => u.text));
    const forClient = clientCatalogue('en');
    expect(Object.keys(files).filter(isClientFile).length).toBeGreaterThan(0);
    expect(Object.keys(forClient).filter((k) => !client.has(k))).toEqual([]);
    expect([...client].filter((k) => !(k in forClient))).toEqual([]);
    expect(clientCatalogue('fr')).toEqual({});
  });

  it('leaves no English entry empty or identical to a different text', () => {
    expect(Object.entries(catalogue).filter(([, en]) => typeof en !== 'string' || en.trim() === '')).toEqual([]);
    expect(CATALOGUE_DIR.endsWith(join('src', 'web', 'locales'))).toBe(true);
  });

  it('answers in the reader\'s language, French outside a request', () => {
    expect(t('Appels')).toBe('Appels');
    expect(inLanguage('en', () => t('Appels'))).toBe(catalogue.Appels);
    // An unknown text shows as written, with its values.
    expect(inLanguage('en', () => t('Texte {{n}} inconnu', { n: 3 }))).toBe('Texte 3 inconnu');
    expect(t('Texte {{n}} inconnu', { n: 3 })).toBe('Texte 3 inconnu');
  });
});
