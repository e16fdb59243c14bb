/**
 * Imports polling stations from CSV, all or nothing, in one transaction: the
 * file is read as it arrives (any size, flat memory), every row is checked,
 * and the bad ones are reported (row, column, reason in French); a file with
 * any bad row imports nothing. Re-importing the same file changes nothing.
 *
 * Two kinds of file, told apart by their header (see docs/stations-csv.md):
 * - stations: centre_code, region, cercle, commune, centre, address, station,
 *   hours, latitude, longitude (one row per station; a few thousand rows);
 * - voters: nina, centre_code, station (the optional assignment by NINA,
 *   stored as a keyed HMAC of the number; hundreds of thousands of rows).
 *
 * Without `replace` a file adds and updates; with it, the file becomes the
 * whole list (centres, stations or assignments not in it are removed).
 * One import runs at a time, whatever the process (an advisory lock).
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import { allowLongStatements, type Db } from '../store/database.js';

/** The most one statement of an import may take (PostgreSQL's statement timeout, for the import's transaction). */
const IMPORT_STATEMENT_SECONDS = 300;
import { normalizeInput } from '../engine/step.js';
import { readCsvRecords, type CsvChunk, type CsvRecord } from './csv-records.js';
import { ImportBusyError, ImportError, ProblemList, type FileKind } from './import-problems.js';
import { importCentres } from './centre-import.js';
import { importVoters } from './voter-import.js';

export { ImportBusyError, ImportError, MAX_PROBLEMS, type FileKind, type ImportProblem } from './import-problems.js';

/**
 * Where the file comes from: its chunks, in order. Called inside the import's
 * transaction, with its handle: a file kept in the database is read through
 * it (PGlite has one connection, and a query beside the transaction waits forever).
 */
export type CsvSource = (trx: Transaction<Database>) => AsyncIterable<CsvChunk> | Iterable<CsvChunk>;

export interface ImportSummary {
  kind: FileKind;
  /** data rows in the file */
  rows: number;
  centres?: number;
  stations?: number;
  voters?: number;
  /** voters' assignments added or moved (0: the file changed nothing) */
  changed?: number;
  /** centres (stations file) or voters (voters file) the import removed: only with replace */
  removed: number;
  /** voters removed with their centre or station (stations file, replace) */
  votersRemoved?: number;
}

export interface ImportOptions {
  replace: boolean;
  /** PHONE_HASH_KEY: NINA numbers are stored as its keyed HMAC */
  key: string;
  /** rows read so far, now and then (not awaited: a slow listener never holds the import) */
  onProgress?: (progress: { kind: FileKind; rows: number }) => void;
  /** runs in the import's transaction once the file is written, before it commits */
  beforeCommit?: (trx: Transaction<Database>, summary: ImportSummary) => Promise<void>;
}

/** A row's values by column, cleaned and checked. */
export interface CheckedRow {
  line: number;
  values: Record<string, string>;
}

/** How an importer of one kind of file reads its rows and writes them. */
export type RowImporter = (trx: Transaction<Database>, rows: AsyncIterable<CheckedRow>, problems: ProblemList, options: ImportOptions) => Promise<ImportSummary>;

const STATION_COLUMNS = ['centre_code', 'region', 'cercle', 'commune', 'centre', 'address', 'station', 'hours', 'latitude', 'longitude'] as const;
const REQUIRED_STATION_COLUMNS = ['centre_code', 'region', 'cercle', 'commune', 'centre', 'station'];
const VOTER_COLUMNS = ['nina', 'centre_code', 'station'] as const;
/** Longest value per column: these texts are shown on 80-character screens. */
const MAX_LENGTH: Record<string, number> = { centre_code: 40, region: 40, cercle: 40, commune: 40, centre: 60, address: 80, station: 10, hours: 40 };

/** Trimmed, inner spaces folded, NFC (as the engine reads what callers type). */
const clean = (value: string | undefined): string => normalizeInput(value ?? '');

/** A file as one text (tests, small files). */
export const csvText =
  (text: string): CsvSource =>
  () => [text];

/**
 * Reads, checks and writes a file in one transaction. Throws ImportError
 * with every problem found (the first MAX_PROBLEMS listed), ImportBusyError
 * when another import is running.
 *
 * @example
 * await importStationsCsv(db, () => createReadStream('voters.csv'), { replace: false, key: secrets.phoneHashKey });
 */
export async function importStationsCsv(db: Db, source: CsvSource, options: ImportOptions): Promise<ImportSummary> {
  return db.transaction().execute(async (trx) => {
    // A file of a million voters writes for minutes; the hotline's 2 s limit is for callers' turns.
    await allowLongStatements(trx, IMPORT_STATEMENT_SECONDS);
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(hashtext('kalata.station-import')) as locked`.execute(trx);
    if (!rows[0]?.locked) throw new ImportBusyError();
    const problems = new ProblemList();
    const records = readCsvRecords(source(trx), problems);
    try {
      const first = await records.next();
      const header = first.done ? [] : first.value.values.map((h) => clean(h).toLowerCase());
      const headerLine = first.done ? 1 : first.value.line;
      if ((problems.firstRow ?? Infinity) <= headerLine) throw ImportError.from(problems);
      if (!header.length || header.every((h) => !h)) throw new ImportError([{ row: 1, column: '', reason: 'fichier vide : une ligne d’en-tête est attendue' }]);
      const kind: FileKind = header.includes('nina') ? 'voters' : 'stations';
      const known: readonly string[] = kind === 'voters' ? VOTER_COLUMNS : STATION_COLUMNS;
      const required = kind === 'voters' ? [...VOTER_COLUMNS] : REQUIRED_STATION_COLUMNS;
      // A header cell is named only if it reads like a column name: a file without its header row starts with a NINA.
      const label = (h: string, i: number) => (/^[a-z_]{1,30}$/.test(h) ? h : `colonne ${i + 1}`);
      header.forEach((h, i) => {
        if (!known.includes(h)) problems.add(headerLine, label(h, i), `colonne inconnue (attendues : ${known.join(', ')})`);
      });
      for (const r of required) if (!header.includes(r)) problems.add(headerLine, r, 'colonne obligatoire absente');
      const seen = new Set<string>();
      header.forEach((h, i) => {
        if (seen.has(h)) problems.add(headerLine, label(h, i), 'colonne en double');
        seen.add(h);
      });
      if (problems.total) throw ImportError.from(problems, { kind });
      const importer: RowImporter = kind === 'voters' ? importVoters : importCentres;
      const summary = await importer(trx, checkedRows(records, header, required, problems), problems, options);
      if (problems.total) throw ImportError.from(problems, { kind, rows: summary.rows });
      if (!summary.rows) throw new ImportError([{ row: headerLine + 1, column: '', reason: 'aucune ligne de données' }], { kind });
      await options.beforeCommit?.(trx, summary);
      return summary;
    } finally {
      await records.return(undefined);
    }
  });
}

/** Each record's values by column, every value checked for length and stray characters. */
async function* checkedRows(records: AsyncIterator<CsvRecord>, header: string[], required: readonly string[], problems: ProblemList): AsyncGenerator<CheckedRow> {
  for (let next = await records.next(); !next.done; next = await records.next()) {
    const { values: record, line } = next.value;
    if (record.length > header.length) problems.add(line, '', `${record.length} valeurs pour ${header.length} colonnes`);
    const values: Record<string, string> = {};
    header.forEach((h, i) => {
      const v = clean(record[i]);
      if (/[\u0000-\u001f\u007f]/.test(v)) problems.add(line, h, 'caractères de contrôle interdits');
      // What a file saved in another encoding than UTF-8 (Windows-1252) turns into.
      if (v.includes('\uFFFD')) problems.add(line, h, 'caractères illisibles : enregistrez le fichier en UTF-8');
      const max = MAX_LENGTH[h];
      if (max && [...v].length > max) problems.add(line, h, `plus de ${max} caractères`);
      values[h] = v;
    });
    for (const r of required) if (!values[r]) problems.add(line, r, 'valeur manquante');
    yield { line, values };
  }
}

/** The former whole-text API, kept for its callers (test/golden): `importStations(db, parseStationsCsv(text), options)`. */
export const parseStationsCsv = csvText;
export const importStations = importStationsCsv;
