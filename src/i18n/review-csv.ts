/**
 * The review as a spreadsheet, for reviewers working offline: export every
 * string with its French, Bambara and state; the reviewer edits the
 * `bambara` column and writes `reviewed` (or `relu`) in the `state` column of
 * what they sign off; the import applies the whole file or nothing.
 *
 * @example
 * const csv = reviewCsv(loadReview(sources).entries);
 * const result = importReviewCsv(sources, options, csv, 'awa');
 * if (!result.ok) console.log(result.problems.join('\n'));
 */
import { parse, CsvError } from 'csv-parse/sync';
import { csvRow } from '../web/console/csv.js';
import type { FlowSetOptions } from '../flows/flow-set.js';
import { applyReview, keywordWords, loadReview, type ReviewChange, type ReviewEntry, type ReviewResult, type ReviewSources } from './review.js';

export const REVIEW_CSV_COLUMNS = ['id', 'kind', 'french', 'bambara', 'state', 'reviewed_by', 'reviewed_at'] as const;

/** Longest file the import reads (the whole review is some 60 kB). */
export const MAX_REVIEW_CSV_BYTES = 1024 * 1024;

/**
 * The CSV text: a byte-order mark first (so spreadsheets read ɛ ɔ ɲ ŋ as
 * UTF-8), every cell quoted, formula-looking cells neutralized.
 */
export function reviewCsv(entries: readonly ReviewEntry[]): string {
  let out = `\uFEFF${csvRow(REVIEW_CSV_COLUMNS)}`;
  for (const e of entries) out += csvRow([e.id, e.kind, e.french, e.bambara, e.state, e.by ?? '', e.at ?? '']);
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
 * Reads a reviewer's CSV into changes, or says, row by row, why it cannot.
 * A row signs its string off when its state says so and the string is not
 * already reviewed with that text (re-importing an export changes nothing and
 * never replaces the real reviewer's name).
 */
export function parseReviewCsv(text: string, current: readonly ReviewEntry[]): { changes: ReviewChange[]; problems: string[] } {
  const problems: string[] = [];
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
  const missing = ['id', 'bambara', 'state'].filter((c) => col(c) < 0);
  if (missing.length) return { changes: [], problems: [`ligne 1 : colonne(s) manquante(s) : ${missing.join(', ')} (attendu : ${REVIEW_CSV_COLUMNS.join(', ')})`] };
  const byId = new Map(current.map((e) => [e.id, e]));
  const changes: ReviewChange[] = [];
  for (const { record, info } of rows) {
    const where = `ligne ${info.lines}`;
    if (record.every((c) => !c.trim())) continue;
    if (record.length !== columns.length) {
      problems.push(`${where} : ${record.length} colonne(s) au lieu de ${columns.length}`);
      continue;
    }
    const cell = (name: string) => (col(name) < 0 ? undefined : unquoteFormula(record[col(name)]!));
    const id = cell('id')!.trim();
    if (!id) {
      problems.push(`${where} : pas d’identifiant (colonne id)`);
      continue;
    }
    const state = cell('state')!.trim().toLowerCase();
    if (!SIGN_OFF.has(state) && !NO_SIGN_OFF.has(state)) {
      problems.push(`${where} : état « ${cell('state')!.trim()} » inconnu (reviewed pour valider, draft sinon)`);
      continue;
    }
    const entry = byId.get(id);
    const bambara = cell('bambara')!;
    const french = cell('french');
    const normalized = entry?.kind === 'keyword' ? keywordWords(bambara).join(', ') : bambara.normalize('NFC').replace(/\r\n?/g, '\n').trim();
    const edited = entry !== undefined && normalized !== entry.bambara.trim();
    const signOff = SIGN_OFF.has(state) && (entry?.state !== 'reviewed' || edited);
    changes.push({ id, where, signOff, ...(edited || !entry ? { bambara } : {}), ...(french !== undefined ? { french } : {}) });
  }
  return { changes, problems };
}

/** Imports a reviewer's CSV: every row valid and the content still passing the flow check, or nothing written. */
export function importReviewCsv(sources: ReviewSources, options: FlowSetOptions, text: string, by: string, now = new Date()): ReviewResult {
  const { entries } = loadReview(sources, options.root);
  const parsed = parseReviewCsv(text, entries);
  if (parsed.problems.length) return { ok: false, problems: parsed.problems };
  return applyReview(sources, options, parsed.changes, by, now);
}
