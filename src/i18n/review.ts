/**
 * The review of what callers read in each language under review (those with
 * `review: true` in flows/languages.yaml, Bambara among them): every locale
 * text (`namespace:key`), every admin variable (`variables:<name>`) and every
 * SMS keyword list (`keywords:<action>`) is, in each such language, a machine
 * `draft`, `reviewed` (by whom, when) or `changed` since it was signed off.
 * The source language (French, the first of languages.yaml) is the reference
 * every text is read against.
 *
 * Sign-offs live in one ledger, `locales/review.json` by default: one block
 * per language, sorted, one entry per string, each with the hash of the
 * French and translated texts it was signed off on, so that an edit to either
 * shows as `changed`. A version-1 ledger (one flat block, from before
 * languages were data) is Bambara's. The legacy `$review.reviewed` arrays in
 * `locales/<lang>/*.json` still count as reviewed (without who or when, and
 * without a hash: they cannot show a change).
 *
 * Edits go through {@link applyReview}: every change is checked (the id
 * exists, the placeholders match the French, the whole content still passes
 * the flow check with the new texts) before anything is written; then the
 * edited files and the ledger are written atomically, each in place with its
 * formatting kept. The SMS keywords are one list shared by every language:
 * each language signs it off on its own, and an edit to it shows as changed
 * in the others.
 *
 * @example
 * const sources = reviewSources({ flowsDir: 'flows', localesDir: 'locales' });
 * const done = applyReview(sources, options, 'bm', [{ id: 'common:nav.more', signOff: true }], 'awa');
 * if (!done.ok) console.log(done.problems.join('\n'));
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { isNode, isSeq, parseDocument, type Document } from 'yaml';
import { parseYamlFile } from '../flows/flow-loader.js';
import { checkFlows, type FlowSetOptions } from '../flows/flow-set.js';
import { formatProblem, type Problem } from '../flows/problems.js';
import { KEYWORD_ACTIONS, type KeywordAction } from '../sms/keywords.js';
import { DEFAULT_LANGUAGES, LANGUAGE_CODE, LANGUAGES_FILE, languagesFileSchema, languageSet, type LanguageSet } from './languages.js';
import { getText, listKeys, loadLocales, placeholders, type Namespace } from './locales.js';

export type ReviewKind = 'text' | 'variable' | 'keyword';
export type ReviewState = 'draft' | 'reviewed' | 'changed';
export const REVIEW_STATES: readonly ReviewState[] = ['draft', 'reviewed', 'changed'];

/** The pseudo-namespaces of the variables and keywords, as their ids start. */
export const VARIABLES_NS = 'variables';
export const KEYWORDS_NS = 'keywords';

export interface ReviewEntry {
  /** `vote:menu.title`, `variables:polling_hours`, `keywords:help`: unique inside a language */
  id: string;
  /** the code of the language under review (`bm`, `qaa`) */
  language: string;
  kind: ReviewKind;
  /** the locale namespace, or `variables` / `keywords` */
  namespace: string;
  key: string;
  /** the source language's text (the reference a reviewer reads); for a keyword list, what it does */
  french: string;
  /** the translated text, in the standard spelling, as the files hold it; keywords are the whole list, comma-separated */
  text: string;
  state: ReviewState;
  /** who signed it off (null: never, or a legacy `$review` entry) */
  by: string | null;
  /** when (ISO 8601, UTC) */
  at: string | null;
  /** the hash of the French and translated texts as they are now */
  hash: string;
  /** the file an edit is written to, relative to the content root */
  file: string;
}

/** A language under review, as languages.yaml names it. */
export interface ReviewLanguage {
  code: string;
  name: string;
}

export interface ReviewSources {
  flowsDir: string;
  localesDir: string;
  /** the ledger (default `<localesDir>/review.json`) */
  ledgerFile: string;
}

export function reviewSources(dirs: { flowsDir: string; localesDir: string; ledgerFile?: string }): ReviewSources {
  return { flowsDir: dirs.flowsDir, localesDir: dirs.localesDir, ledgerFile: dirs.ledgerFile ?? join(dirs.localesDir, 'review.json') };
}

/** One sign-off in the ledger. */
export interface SignOff {
  by: string;
  at: string;
  /** {@link reviewHash} of the texts signed off */
  hash: string;
}

/** The ledger: language code -> id -> sign-off. */
export interface Ledger {
  version: 2;
  signoffs: Record<string, Record<string, SignOff>>;
}

/** Whose sign-offs a version-1 ledger (one flat `signoffs` block) holds: it was written when only Bambara was reviewed. */
export const V1_LEDGER_LANGUAGE = 'bm';

/** What a keyword list does, in French: the keywords have no French text of their own. */
export const KEYWORD_MEANINGS: Readonly<Record<KeywordAction, string>> = {
  help: 'Aide : la liste des mots-clés',
  status: 'Statut d’un signalement (suivi de la référence)',
  stop: 'Arrêter tous les SMS',
  start: 'Reprendre les SMS',
  station: 'Trouver son bureau de vote (suivi du NINA)',
};

/**
 * The hash a sign-off keeps: both texts, NFC, so that a change of either (or
 * a mere re-encoding of the same letters, which is no change) is seen right.
 * The same as version 1's, so that Bambara's sign-offs carried over still hold.
 */
export function reviewHash(french: string, text: string): string {
  return createHash('sha256').update(JSON.stringify([french.normalize('NFC'), text.normalize('NFC')])).digest('hex').slice(0, 16);
}

/**
 * The ledger's text: languages and ids sorted, two-space indented, one final
 * newline (diffs stay one line per sign-off field); a language without
 * sign-offs is left out.
 *
 * @example
 * { "version": 2, "signoffs": { "bm": { "vote:menu.title": { "by": "awa", "at": "…", "hash": "…" } } } }
 */
export function formatLedger(ledger: Ledger): string {
  const signoffs: Record<string, Record<string, SignOff>> = {};
  for (const lang of Object.keys(ledger.signoffs).sort()) {
    const block = ledger.signoffs[lang]!;
    const ids = Object.keys(block).sort();
    if (!ids.length) continue;
    signoffs[lang] = {};
    for (const id of ids) {
      const s = block[id]!;
      signoffs[lang][id] = { by: s.by, at: s.at, hash: s.hash };
    }
  }
  return `${JSON.stringify({ version: 2, signoffs }, null, 2)}\n`;
}

export class LedgerError extends Error {}

const emptyLedger = (): Ledger => ({ version: 2, signoffs: {} });

function signOffsOf(file: string, block: Record<string, unknown>, where: string): Record<string, SignOff> {
  const out: Record<string, SignOff> = {};
  for (const [id, value] of Object.entries(block)) {
    const s = value as Partial<SignOff> | null;
    if (!s || typeof s.by !== 'string' || typeof s.at !== 'string' || typeof s.hash !== 'string') throw new LedgerError(`${basename(file)} : entrée ${where}${id} incomplète (by, at, hash)`);
    out[id] = { by: s.by, at: s.at, hash: s.hash };
  }
  return out;
}

const isBlock = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Reads the ledger; an absent file is an empty ledger, an unreadable one a
 * LedgerError (never silently emptied). A version-1 ledger is read as
 * Bambara's sign-offs; it is written back as version 2 at the next sign-off.
 */
export function readLedger(file: string): Ledger {
  if (!existsSync(file)) return emptyLedger();
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new LedgerError(`${basename(file)} : JSON illisible (${(err as Error).message})`);
  }
  const signoffs = (data as { signoffs?: unknown } | null)?.signoffs;
  if (!isBlock(signoffs)) throw new LedgerError(`${basename(file)} : pas de bloc "signoffs"`);
  const version = (data as { version?: unknown }).version;
  if (version === undefined || version === 1) return { version: 2, signoffs: { [V1_LEDGER_LANGUAGE]: signOffsOf(file, signoffs, '') } };
  if (version !== 2) throw new LedgerError(`${basename(file)} : version ${JSON.stringify(version)} inconnue (1 ou 2 attendu)`);
  const out: Ledger = emptyLedger();
  for (const [lang, block] of Object.entries(signoffs)) {
    if (!LANGUAGE_CODE.test(lang) || !isBlock(block)) throw new LedgerError(`${basename(file)} : "${lang}" n’est pas un bloc de langue (un code de 2 ou 3 lettres et ses relectures)`);
    out.signoffs[lang] = signOffsOf(file, block, `${lang}/`);
  }
  return out;
}

/** Writes a file whole or not at all: a reader never sees half of it. */
export function writeAtomically(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

/** Every string of every language under review, with its state. */
export interface LoadedReview {
  /** the languages' entries one after the other, in languages.yaml's order */
  entries: ReviewEntry[];
  /** what could not be read (left out of the review), as warnings */
  problems: Problem[];
  /** the languages under review, in languages.yaml's order */
  languages: ReviewLanguage[];
  /** the source language's code: the reference column */
  source: string;
}

const yamlDoc = (text: string) => parseDocument(text, { keepSourceTokens: false });

function readYaml(file: string): { doc?: Document; problem?: string } {
  if (!existsSync(file)) return {};
  const doc = yamlDoc(readFileSync(file, 'utf8'));
  if (doc.errors.length) return { problem: `${basename(file)} : YAML illisible` };
  return { doc };
}

/** The content's languages (flows/languages.yaml, or the default two without it); a bad file is said and the default used. */
function contentLanguages(sources: ReviewSources, root: string, problems: Problem[]): LanguageSet {
  const file = join(sources.flowsDir, LANGUAGES_FILE);
  if (!existsSync(file)) return languageSet(DEFAULT_LANGUAGES);
  const found: Problem[] = [];
  const parsed = parseYamlFile(file, languagesFileSchema, found, root);
  if (parsed.data) return languageSet(parsed.data);
  problems.push({ file: relative(root, file), line: 1, col: 1, severity: 'warning', message: `${LANGUAGES_FILE} is unreadable: the review reads the default languages (fr, bm)` });
  return languageSet(DEFAULT_LANGUAGES);
}

/** The languages under review in a content, and its source language, without reading the texts. */
export function reviewLanguages(sources: ReviewSources, root = process.cwd()): { languages: ReviewLanguage[]; source: string } {
  const set = contentLanguages(sources, root, []);
  return { languages: reviewedOf(set), source: set.source };
}

const reviewedOf = (set: LanguageSet): ReviewLanguage[] =>
  set.codes.filter((c) => c !== set.source && set.get(c)!.review).map((c) => ({ code: c, name: set.get(c)!.name }));

/**
 * Every string a caller can see, in every language under review, with its
 * review state. Never throws on bad content: what cannot be read is left out
 * and said. Filter `entries` on `language` for one language's review.
 *
 * @example
 * const review = loadReview(sources);
 * const bambara = review.entries.filter((e) => e.language === 'bm');
 */
export function loadReview(sources: ReviewSources, root = process.cwd()): LoadedReview {
  const problems: Problem[] = [];
  let ledger = emptyLedger();
  try {
    ledger = readLedger(sources.ledgerFile);
  } catch (err) {
    problems.push({ file: relative(root, sources.ledgerFile), line: 1, col: 1, severity: 'warning', message: `review ledger ignored: ${(err as Error).message}` });
  }
  const set = contentLanguages(sources, root, problems);
  const source = set.source;
  const languages = reviewedOf(set);
  const locales = loadLocales(sources.localesDir, root, set);
  const entries: ReviewEntry[] = [];

  const variablesFile = join(sources.flowsDir, 'variables.yaml');
  const variables = readYaml(variablesFile);
  if (variables.problem) problems.push({ file: relative(root, variablesFile), line: 1, col: 1, severity: 'warning', message: `variables left out of the review: ${variables.problem}` });
  const vars = variables.doc?.toJS() as Record<string, Record<string, unknown> | null> | null | undefined;
  const keywordsFile = join(sources.flowsDir, 'keywords.yaml');
  const keywords = readYaml(keywordsFile);
  if (keywords.problem) problems.push({ file: relative(root, keywordsFile), line: 1, col: 1, severity: 'warning', message: `keywords left out of the review: ${keywords.problem}` });
  const words = keywords.doc?.toJS() as Record<string, unknown> | null | undefined;

  for (const { code: lang } of languages) {
    const signoffs = ledger.signoffs[lang] ?? {};
    const stateOf = (id: string, hash: string, legacy: boolean): Pick<ReviewEntry, 'state' | 'by' | 'at'> => {
      const s = signoffs[id];
      if (s) return { state: s.hash === hash ? 'reviewed' : 'changed', by: s.by, at: s.at };
      return legacy ? { state: 'reviewed', by: null, at: null } : { state: 'draft', by: null, at: null };
    };
    const add = (kind: ReviewKind, namespace: string, key: string, french: string, text: string, file: string, legacy = false) => {
      const id = `${namespace}:${key}`;
      const hash = reviewHash(french, text);
      entries.push({ id, language: lang, kind, namespace, key, french, text, hash, file, ...stateOf(id, hash, legacy) });
    };

    const namespaces = [...new Set([...Object.keys(locales.resources[source] ?? {}), ...Object.keys(locales.resources[lang] ?? {})])].sort();
    for (const ns of namespaces) {
      if (ns === VARIABLES_NS || ns === KEYWORDS_NS) {
        problems.push({ file: locales.fileOf(lang, ns), line: 1, col: 1, severity: 'warning', message: `namespace ${ns} is left out of the review: its ids would clash with flows/${ns}.yaml` });
        continue;
      }
      const keys = [...new Set([...listKeys((locales.resources[source]?.[ns] ?? {}) as Namespace), ...listKeys((locales.resources[lang]?.[ns] ?? {}) as Namespace)])];
      const legacy = locales.review.reviewed[lang]?.[ns] ?? new Set<string>();
      for (const key of keys) {
        add('text', ns, key, getText(locales.resources, source, ns, key) ?? '', getText(locales.resources, lang, ns, key) ?? '', locales.fileOf(lang, ns), legacy.has(key));
      }
    }

    for (const [name, value] of Object.entries(vars ?? {})) {
      if (!value || typeof value !== 'object') continue;
      add('variable', VARIABLES_NS, name, String(value[source] ?? '').normalize('NFC'), String(value[lang] ?? '').normalize('NFC'), relative(root, variablesFile));
    }

    // One list for every language: each language signs it off on its own.
    for (const action of KEYWORD_ACTIONS) {
      const list = words?.[action];
      if (!Array.isArray(list)) continue;
      add('keyword', KEYWORDS_NS, action, KEYWORD_MEANINGS[action], list.map((w) => String(w).normalize('NFC')).join(', '), relative(root, keywordsFile));
    }
  }
  return { entries, problems, languages, source };
}

export interface ReviewCounts {
  reviewed: number;
  draft: number;
  changed: number;
  total: number;
}

/** Counts per kind, and in all. */
export function reviewCounts(entries: readonly ReviewEntry[]): Record<ReviewKind | 'all', ReviewCounts> {
  const zero = (): ReviewCounts => ({ reviewed: 0, draft: 0, changed: 0, total: 0 });
  const out = { text: zero(), variable: zero(), keyword: zero(), all: zero() };
  for (const e of entries) {
    for (const c of [out[e.kind], out.all]) {
      c[e.state] += 1;
      c.total += 1;
    }
  }
  return out;
}

/** One change a reviewer asks for. */
export interface ReviewChange {
  id: string;
  /** a new translated text (keywords: the whole list, comma- or space-separated); absent or equal: the text stays */
  text?: string;
  /** sign the string off (with the new text, if any) */
  signOff: boolean;
  /**
   * the French the reviewer read (the CSV's column): when it differs from the
   * French now, the change is refused, since it was reviewed against another text
   */
  french?: string;
  /** a label for problems (`ligne 4`); default the id */
  where?: string;
}

export type ReviewResult =
  | { ok: true; language: string; entries: ReviewEntry[]; edited: string[]; signedOff: string[] }
  | { ok: false; problems: string[] };

// Newlines are allowed (a few texts hold them); other control characters never reach a file.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/;

const sameSet = (a: string[], b: string[]) => {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
};

export function keywordWords(text: string): string[] {
  return text
    .split(/[,;\s]+/)
    .map((w) => w.trim().normalize('NFC'))
    .filter(Boolean);
}

/** Plain French reasons a change cannot be made, before any file is touched; `name` is the language's (`Bamanankan`). */
function changeProblems(change: ReviewChange, entry: ReviewEntry | undefined, name: string): { problems: string[]; text?: string } {
  const where = change.where ?? change.id;
  if (!entry) return { problems: [`${where} : identifiant inconnu « ${change.id} »`] };
  const problems: string[] = [];
  if (change.french !== undefined && change.french.normalize('NFC').trim() !== entry.french.trim()) {
    problems.push(`${where} : le texte français a changé depuis l’export ; relisez la version actuelle`);
  }
  if (change.text === undefined) return { problems };
  let text = change.text.normalize('NFC').replace(/\r\n?/g, '\n').trim();
  if (!text) return { problems: [...problems, `${where} : le texte en ${name} est vide`] };
  if (CONTROL.test(text)) return { problems: [...problems, `${where} : le texte en ${name} contient un caractère de contrôle`] };
  if (text.length > 1000) return { problems: [...problems, `${where} : le texte en ${name} dépasse 1000 caractères`] };
  if (entry.kind === 'keyword') {
    const words = keywordWords(text);
    const bad = words.filter((w) => !/^[\p{L}\p{N}]{1,20}$/u.test(w));
    if (bad.length) problems.push(`${where} : un mot-clé est un seul mot de lettres ou de chiffres (refusé : ${bad.join(', ')})`);
    const folded = words.map((w) => w.toUpperCase());
    if (new Set(folded).size !== folded.length) problems.push(`${where} : un mot-clé est en double`);
    text = words.join(', ');
  } else {
    const missing = placeholders(entry.french).filter((p) => !placeholders(text).includes(p));
    const extra = placeholders(text).filter((p) => !placeholders(entry.french).includes(p));
    if (!sameSet(placeholders(entry.french), placeholders(text))) {
      const parts = [
        ...(missing.length ? [`il manque ${missing.map((p) => `{{${p}}}`).join(', ')}`] : []),
        ...(extra.length ? [`inconnu en français : ${extra.map((p) => `{{${p}}}`).join(', ')}`] : []),
      ];
      problems.push(`${where} : les emplacements {{…}} doivent être ceux du français (${parts.join(' ; ')})`);
    }
  }
  return { problems, text };
}

/** The string at a key path in JSON text, as [start, end) offsets of its literal; undefined when absent. */
export function locateJsonString(src: string, path: readonly string[]): [number, number] | undefined {
  let i = 0;
  let found: [number, number] | undefined;
  const ws = () => {
    while (i < src.length && /\s/.test(src[i]!)) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < src.length && src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(src.slice(start, i)) as string;
  };
  const value = (at: string[]): void => {
    ws();
    const c = src[i];
    if (c === '{') {
      i++;
      ws();
      if (src[i] === '}') return void i++;
      for (;;) {
        ws();
        const key = str();
        ws();
        i++; // :
        value([...at, key]);
        ws();
        if (src[i++] === '}') return;
      }
    } else if (c === '[') {
      i++;
      ws();
      if (src[i] === ']') return void i++;
      for (let n = 0; ; n++) {
        value([...at, String(n)]);
        ws();
        if (src[i++] === ']') return;
      }
    } else if (c === '"') {
      const start = i;
      str();
      if (at.length === path.length && at.every((p, k) => p === path[k])) found = [start, i];
    } else {
      while (i < src.length && !/[\s,\]}]/.test(src[i]!)) i++;
    }
  };
  value([]);
  return found;
}

/** The JSON text with one string changed in place (everything else byte for byte); a missing key is added. */
export function setJsonString(src: string, path: readonly string[], text: string): string {
  const at = locateJsonString(src.replace(/^\uFEFF/, ''), path);
  const body = src.replace(/^\uFEFF/, '');
  if (at) return body.slice(0, at[0]) + JSON.stringify(text) + body.slice(at[1]);
  const data = JSON.parse(body) as Record<string, unknown>;
  let node = data;
  for (const part of path.slice(0, -1)) {
    if (!node[part] || typeof node[part] !== 'object') node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path.at(-1)!] = text;
  return `${JSON.stringify(data, null, 2)}\n`;
}

const YAML_OUT = { lineWidth: 0, flowCollectionPadding: false } as const;

interface Edit {
  entry: ReviewEntry;
  text: string;
}

/** The new contents of every file the edits touch, keyed by absolute path; each edit is in its entry's language. */
function editedFiles(dirs: { flowsDir: string; localesDir: string }, edits: readonly Edit[]): Map<string, string> {
  const files = new Map<string, string>();
  const read = (path: string) => files.get(path) ?? readFileSync(path, 'utf8');
  for (const { entry, text } of edits) {
    if (entry.kind === 'text') {
      const path = join(dirs.localesDir, entry.language, `${entry.namespace}.json`);
      const before = existsSync(path) ? read(path) : '{}\n';
      files.set(path, setJsonString(before, entry.key.split('.'), text));
    } else {
      const path = join(dirs.flowsDir, entry.kind === 'variable' ? 'variables.yaml' : 'keywords.yaml');
      const doc = yamlDoc(read(path));
      if (entry.kind === 'variable') {
        const node = doc.getIn([entry.key, entry.language], true);
        // The scalar keeps its quoting style; only its value changes.
        if (isNode(node) && 'value' in node) (node as { value: unknown }).value = text;
        else doc.setIn([entry.key, entry.language], text);
      } else {
        const seq = doc.getIn([entry.key], true);
        const items = keywordWords(text).map((w) => doc.createNode(w));
        if (isSeq(seq)) seq.items = items;
        else doc.setIn([entry.key], keywordWords(text));
      }
      files.set(path, doc.toString(YAML_OUT));
    }
  }
  return files;
}

/**
 * The flow check on a copy of the content with the edits applied: the errors
 * it finds, as `file:line:col message` relative to the copy (so `flows/…`,
 * `locales/…`). An edit that breaks a screen or an SMS limit is refused here.
 */
function checkEdited(sources: ReviewSources, options: FlowSetOptions, edits: readonly Edit[]): Problem[] {
  const dir = mkdtempSync(join(tmpdir(), 'kalata-review-'));
  try {
    const copy = { flowsDir: join(dir, 'flows'), localesDir: join(dir, 'locales') };
    cpSync(sources.flowsDir, copy.flowsDir, { recursive: true });
    cpSync(sources.localesDir, copy.localesDir, { recursive: true });
    for (const [path, content] of editedFiles(copy, edits)) writeFileSync(path, content);
    const check = checkFlows({ ...options, ...copy, root: dir });
    return check.problems.filter((p) => p.severity === 'error');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const locks = new Map<string, Promise<unknown>>();

/** Runs one review change at a time per ledger in this process: two reviewers never lose each other's sign-offs. */
export async function serializeReview<T>(sources: ReviewSources, fn: () => T | Promise<T>): Promise<T> {
  const previous = locks.get(sources.ledgerFile) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(fn);
  locks.set(sources.ledgerFile, next);
  try {
    return await next;
  } finally {
    if (locks.get(sources.ledgerFile) === next) locks.delete(sources.ledgerFile);
  }
}

/**
 * Applies a reviewer's changes to one language's review all together or not
 * at all: every change is checked first (known id, same placeholders as the
 * French, keyword syntax, and the flow check of the whole content with every
 * new text); only when none fails are the edited files written, then the
 * ledger (only `lang`'s block changes). Synchronous: call it inside
 * {@link serializeReview} when requests may overlap.
 *
 * @example
 * applyReview(sources, options, 'qaa', [{ id: 'main:home.title', text: 'Qaa Accueil', signOff: true }], 'awa');
 */
export function applyReview(sources: ReviewSources, options: FlowSetOptions, lang: string, changes: readonly ReviewChange[], by: string, now = new Date()): ReviewResult {
  const root = options.root ?? process.cwd();
  let ledger: Ledger;
  try {
    ledger = readLedger(sources.ledgerFile);
  } catch (err) {
    return { ok: false, problems: [`Le registre des relectures est illisible, rien n’est écrit : ${(err as Error).message}`] };
  }
  const content = loadReview(sources, root);
  const language = content.languages.find((l) => l.code === lang);
  if (!language) return { ok: false, problems: [notReviewed(lang, content.languages)] };
  const byId = new Map(content.entries.filter((e) => e.language === lang).map((e) => [e.id, e]));
  const problems: string[] = [];
  const edits: Edit[] = [];
  const signOffs: Edit[] = [];
  const seen = new Set<string>();
  for (const change of changes) {
    const entry = byId.get(change.id);
    if (seen.has(change.id)) {
      problems.push(`${change.where ?? change.id} : « ${change.id} » apparaît deux fois`);
      continue;
    }
    seen.add(change.id);
    const checked = changeProblems(change, entry, language.name);
    problems.push(...checked.problems);
    if (!entry || checked.problems.length) continue;
    const text = checked.text ?? entry.text;
    if (text !== entry.text) edits.push({ entry, text });
    if (change.signOff) signOffs.push({ entry, text });
  }
  if (problems.length) return { ok: false, problems };
  if (edits.length) {
    // With errors already, the check stops before the screen lengths: an edit could not be measured.
    const already = checkFlows(options).problems.filter((p) => p.severity === 'error');
    if (already.length) {
      return { ok: false, problems: ['Les menus ont déjà des erreurs (voir la page Menus) : un texte modifié ne peut pas être vérifié tant qu’elles ne sont pas corrigées ; rien n’est écrit. Une validation sans modification reste possible.', ...already.slice(0, 10).map(formatProblem)] };
    }
    const errors = checkEdited(sources, options, edits);
    if (errors.length) return { ok: false, problems: ['Avec ce texte, la vérification des menus échoue ; rien n’est écrit :', ...errors.map(formatProblem)] };
  }
  for (const [path, text] of editedFiles(sources, edits)) writeAtomically(path, text);
  if (signOffs.length) {
    const at = now.toISOString();
    const block = (ledger.signoffs[lang] ??= {});
    for (const { entry, text } of signOffs) block[entry.id] = { by, at, hash: reviewHash(entry.french, text) };
    writeAtomically(sources.ledgerFile, formatLedger(ledger));
  }
  return {
    ok: true,
    language: lang,
    entries: loadReview(sources, root).entries.filter((e) => e.language === lang),
    edited: edits.map((e) => e.entry.id),
    signedOff: signOffs.map((s) => s.entry.id),
  };
}

/** Why `lang` has no review, in plain French. */
export function notReviewed(lang: string, languages: readonly ReviewLanguage[]): string {
  const known = languages.length ? `langues à relire : ${languages.map((l) => l.code).join(', ')}` : 'aucune langue n’est à relire';
  return `langue « ${lang} » : elle n’est pas à relire (${known} ; voir review: true dans flows/${LANGUAGES_FILE})`;
}

/** The validator's per-file count of a language's texts awaiting review (from the legacy arrays alone). */
const LEGACY_REVIEW_WARNING = /^\d+ of \d+ (.+) texts await a native speaker's review$/;

/**
 * The problem list with the validator's review warnings (which read only the
 * legacy `$review` arrays) replaced by counts from the ledger: one warning per
 * language under review and locale file, variables and keywords with strings
 * still to review, naming the language as languages.yaml does.
 *
 * @example
 * const review = loadReview(sources);
 * const problems = withReviewWarnings(checkFlows(options).problems, review);
 * // locales/qaa/main.json: "3 of 9 Qaa texts await a native speaker's review"
 */
export function withReviewWarnings(problems: readonly Problem[], review: Pick<LoadedReview, 'entries' | 'languages'>): Problem[] {
  const names = new Map(review.languages.map((l) => [l.code, l.name]));
  const reviewedNames = new Set(names.values());
  const kept = problems.filter((p) => !(p.severity === 'warning' && reviewedNames.has(LEGACY_REVIEW_WARNING.exec(p.message)?.[1] ?? '\u0000')));
  const groups = new Map<string, ReviewEntry[]>();
  for (const e of review.entries) {
    const key = `${e.language}\u0000${e.file}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  for (const list of groups.values()) {
    const draft = list.filter((e) => e.state === 'draft').length;
    const changed = list.filter((e) => e.state === 'changed').length;
    if (!draft && !changed) continue;
    const { kind, language, file } = list[0]!;
    const name = names.get(language) ?? language;
    const what = kind === 'text' ? `${name} texts` : kind === 'variable' ? `variables (${name} values)` : `SMS keyword lists (${name})`;
    const parts = [`${draft + changed} of ${list.length} ${what} await a native speaker's review`, ...(changed ? [`(${changed} changed since signed off)`] : [])];
    kept.push({ file, line: 1, col: 1, severity: 'warning', message: parts.join(' ') });
  }
  return kept;
}
