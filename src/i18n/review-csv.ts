/**
 * One language's review as a spreadsheet, for reviewers working offline:
 * export every string with its French, its text in that language and its
 * state; the reviewer edits the language's column (headed by its code, `bm`,
 * `qaa`) and writes `reviewed` (or `relu`) in the `state` column of what they
 * sign off; the import applies the whole file or nothing, to that language
 * alone. A file exported before languages were data (its column `bambara`)
 * imports as Bambara's.
 *
 * @example
 * const csv = reviewCsv(loadReview(sources).entries.filter((e) => e.language === 'qaa'), 'qaa');
 * const result = importReviewCsv(sources, options, 'qaa', csv, 'awa');
 * if (!result.ok) console.log(result.problems.join('\n'));
 */
import { parse, CsvError } from 'csv-parse/sync';
import { csvRow } from '../web/console/csv.js';
import type { FlowSetOptions } from '../flows/flow-set.js';
import { applyReview, keywordWords, loadReview, notReviewed, type LoadedReview, type ReviewChange, type ReviewEntry, type ReviewResult, type ReviewSources } from './review.js';

/** The columns of a language's file, in order: its own column is headed by its code. */
export const reviewCsvColumns = (lang: string): readonly string[] => ['id', 'kind', 'french', lang, 'state', 'reviewed_by', 'reviewed_at'];

/** The name a language's export is downloaded as. */
export const reviewCsvFileName = (lang: string): string => `kalata-relecture-${lang}.csv`;

/** The translated column's header in files exported when only Bambara was reviewed. */
const V1_COLUMNS: Readonly<Record<string, string>> = { bambara: 'bm' };

/** Longest file the import reads (the whole review of one language is some 60 kB). */
export const MAX_REVIEW_CSV_BYTES = 1024 * 1024;

/**
 * The CSV text of one language's entries: a byte-order mark first (so
 * spreadsheets read ɛ ɔ ɲ ŋ as UTF-8), every cell quoted, formula-looking
 * cells neutralized.
 */
export function reviewCsv(entries: readonly ReviewEntry[], lang: string): string {
  let out = `\uFEFF${csvRow(reviewCsvColumns(lang))}`;
  for (const e of entries) out += csvRow([e.id, e.kind, e.french, e.text, e.state, e.by ?? '', e.at ?? '']);
  return out;
}

/** The export quotes a cell that a spreadsheet would run as a formula (`'=…`): the import takes the quote off. */
function unquoteFormula(cell: string): string {
  return /^'[=+\-@\t\r\n]/.test(cell.normalize('NFKC')) ? cell.slice(1) : cell;
}

const SIGN_OFF = new Set(['reviewed', 'relu', 'relue', 'ok', 'oui']);
const NO_SIGN_OFF = new Set(['', 'draft', 'changed', 'à relire', 'a relire', 'modifié', 'modifie', 'brouillon']);

const SYNTAX_REASONS: Record<string, string> = {
  INVALID_OPENING_QUOTE: 'guillemet ouvrant mal placé',
  CSV_INVALID_CLOSING_QUOTE: 'caractère inattendu après un guillemet fermant',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'caractère inattendu après un guillemet fermant',
  CSV_QUOTE_NOT_CLOSED: 'guillemet jamais refermé',
};

/** `;` when the header line has more of them than commas (spreadsheets set to French write `;`). */
function delimiterOf(text: string): ',' | ';' {
  const first = text.split('\n', 1)[0] ?? '';
  return (first.match(/;/g)?.length ?? 0) > (first.match(/,/g)?.length ?? 0) ? ';' : ',';
}

/**
 * The language a header names: for each column, the language under review
 * whose code (or name, or the version-1 `bambara`) it is.
 */
function languageColumns(columns: readonly string[], review: Pick<LoadedReview, 'languages'>): { lang: string; index: number }[] {
  const codes = new Map<string, string>();
  for (const l of review.languages) {
    codes.set(l.code, l.code);
    codes.set(l.name.toLowerCase(), l.code);
  }
  for (const [header, code] of Object.entries(V1_COLUMNS)) if (review.languages.some((l) => l.code === code)) codes.set(header, code);
  return columns.flatMap((c, index) => (codes.has(c) ? [{ lang: codes.get(c)!, index }] : []));
}

/**
 * Reads a reviewer's CSV into changes of one language, or says, row by row,
 * why it cannot. The language is the one whose column the header names; with
 * `lang`, the file must be that language's. A row signs its string off when
 * its state says so and the string is not already reviewed with that text
 * (re-importing an export changes nothing and never replaces the real
 * reviewer's name).
 */
export function parseReviewCsv(text: string, review: Pick<LoadedReview, 'entries' | 'languages'>, lang?: string): { language?: string; changes: ReviewChange[]; problems: string[] } {
  const problems: string[] = [];
  if (lang !== undefined && !review.languages.some((l) => l.code === lang)) return { changes: [], problems: [notReviewed(lang, review.languages)] };
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, delimiter: delimiterOf(text.replace(/^\uFEFF/, '')), relax_column_count: true, skip_empty_lines: true, info: true }) as unknown as typeof records;
  } catch (err) {
    if (err instanceof CsvError) {
      const line = (err as CsvError & { lines?: number }).lines;
      return { changes: [], problems: [`ligne ${line ?? '?'} : fichier CSV illisible (${SYNTAX_REASONS[err.code] ?? 'syntaxe incorrecte'})`] };
    }
    throw err;
  }
  const [header, ...rows] = records;
  if (!header) return { changes: [], problems: ['le fichier est vide'] };
  const columns = header.record.map((c) => c.trim().toLowerCase());
  const col = (name: string) => columns.indexOf(name);
  const named = languageColumns(columns, review);
  const languages = [...new Set(named.map((n) => n.lang))];
  if (languages.length > 1) return { changes: [], problems: [`ligne 1 : une colonne par langue au plus (ce fichier en a pour ${languages.join(', ')})`] };
  if (lang !== undefined && languages.length && languages[0] !== lang) {
    return { changes: [], problems: [`ligne 1 : ce fichier est la relecture de la langue « ${languages[0]} », pas de « ${lang} » : importez-le depuis la page de cette langue`] };
  }
  const language = languages[0] ?? lang;
  const textCol = named[0]?.index ?? -1;
  const expected = reviewCsvColumns(language ?? review.languages.map((l) => l.code).join(' ou ')).join(', ');
  const missing = [...(textCol < 0 ? [language ?? `la colonne de la langue (${review.languages.map((l) => l.code).join(' ou ')})`] : []), ...['id', 'state'].filter((c) => col(c) < 0)];
  if (missing.length || !language) return { changes: [], problems: [`ligne 1 : colonne(s) manquante(s) : ${missing.join(', ')} (attendu : ${expected})`] };
  const byId = new Map(review.entries.filter((e) => e.language === language).map((e) => [e.id, e]));
  const changes: ReviewChange[] = [];
  for (const { record, info } of rows) {
    const where = `ligne ${info.lines}`;
    if (record.every((c) => !c.trim())) continue;
    if (record.length !== columns.length) {
      problems.push(`${where} : ${record.length} colonne(s) au lieu de ${columns.length}`);
      continue;
    }
    const cell = (index: number) => (index < 0 ? undefined : unquoteFormula(record[index]!));
    const id = cell(col('id'))!.trim();
    if (!id) {
      problems.push(`${where} : pas d’identifiant (colonne id)`);
      continue;
    }
    const state = cell(col('state'))!.trim().toLowerCase();
    if (!SIGN_OFF.has(state) && !NO_SIGN_OFF.has(state)) {
      problems.push(`${where} : état « ${cell(col('state'))!.trim()} » inconnu (reviewed pour valider, draft sinon)`);
      continue;
    }
    const entry = byId.get(id);
    const translated = cell(textCol)!;
    const french = cell(col('french'));
    const normalized = entry?.kind === 'keyword' ? keywordWords(translated).join(', ') : translated.normalize('NFC').replace(/\r\n?/g, '\n').trim();
    const edited = entry !== undefined && normalized !== entry.text.trim();
    const signOff = SIGN_OFF.has(state) && (entry?.state !== 'reviewed' || edited);
    changes.push({ id, where, signOff, ...(edited || !entry ? { text: translated } : {}), ...(french !== undefined ? { french } : {}) });
  }
  return { language, changes, problems };
}

/**
 * Imports a reviewer's CSV into one language's review: every row valid and
 * the content still passing the flow check, or nothing written. `lang`
 * undefined: the language whose column the file's header names.
 */
export function importReviewCsv(sources: ReviewSources, options: FlowSetOptions, lang: string | undefined, text: string, by: string, now = new Date()): ReviewResult {
  const parsed = parseReviewCsv(text, loadReview(sources, options.root), lang);
  if (parsed.problems.length || !parsed.language) return { ok: false, problems: parsed.problems };
  return applyReview(sources, options, parsed.language, parsed.changes, by, now);
}
