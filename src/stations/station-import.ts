/**
 * Imports polling stations from CSV, all or nothing: every row is checked
 * first, and the bad ones are reported (row, column, reason); a file with
 * any bad row imports nothing. Re-importing the same file changes nothing.
 *
 * Two kinds of file, told apart by their header (see docs/stations-csv.md):
 * - stations: centre_code, region, cercle, commune, centre, address, station,
 *   hours, latitude, longitude (one row per station);
 * - voters: nina, centre_code, station (the optional assignment by NINA,
 *   stored as a keyed HMAC of the number).
 *
 * Without `replace` a file adds and updates; with it, the file becomes the
 * whole list (centres, stations or assignments not in it are removed).
 */
import { parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import type { Db } from '../store/database.js';
import { ninaHash, normalizeNina } from './nina.js';

export interface ImportProblem {
  /** line in the file (the header is line 1) */
  row: number;
  column: string;
  reason: string;
}

export interface CentreRow {
  code: string;
  region: string;
  cercle: string;
  commune: string;
  name: string;
  address: string | null;
  hours: string | null;
  latitude: number | null;
  longitude: number | null;
  stations: string[];
}

export type ParsedFile =
  | { kind: 'stations'; centres: CentreRow[]; rows: number }
  | { kind: 'voters'; voters: { nina: string; centreCode: string; station: string }[]; rows: number };

export interface ImportSummary {
  kind: ParsedFile['kind'];
  rows: number;
  centres?: number;
  stations?: number;
  voters?: number;
  removed: number;
}

const STATION_COLUMNS = ['centre_code', 'region', 'cercle', 'commune', 'centre', 'address', 'station', 'hours', 'latitude', 'longitude'] as const;
const REQUIRED_STATION_COLUMNS = ['centre_code', 'region', 'cercle', 'commune', 'centre', 'station'];
const VOTER_COLUMNS = ['nina', 'centre_code', 'station'] as const;
/** Longest value per column: these texts are shown on 80-character screens. */
const MAX_LENGTH: Record<string, number> = { centre_code: 40, region: 40, cercle: 40, commune: 40, centre: 60, address: 80, station: 10, hours: 40 };
/** More problems than this are summarized. */
const MAX_PROBLEMS = 200;

export class ImportError extends Error {
  override name = 'ImportError';
  constructor(readonly problems: ImportProblem[]) {
    super(`${problems.length} problem${problems.length === 1 ? '' : 's'} in the file: nothing was imported`);
  }
}

/** Trimmed, inner spaces folded, NFC; control characters are refused by the caller. */
function clean(value: string | undefined): string {
  return (value ?? '').normalize('NFC').replace(/\s+/g, ' ').trim();
}

/** Reads and checks a whole file. Throws ImportError with every problem found. */
export function parseStationsCsv(text: string): ParsedFile {
  const body = text.replace(/^\uFEFF/, '');
  const firstLine = body.split(/\r?\n/, 1)[0] ?? '';
  // Spreadsheets set to French write `;`.
  const delimiter = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
  let records: string[][];
  try {
    records = parse(body, { delimiter, relax_column_count: true, skip_empty_lines: true, bom: true }) as string[][];
  } catch (err) {
    const e = err as { lines?: number; message: string };
    throw new ImportError([{ row: e.lines ?? 0, column: '', reason: `not readable as CSV: ${e.message}` }]);
  }
  const header = (records[0] ?? []).map((h) => clean(h).toLowerCase());
  if (!header.length || header.every((h) => !h)) throw new ImportError([{ row: 1, column: '', reason: 'the file is empty: a header row is expected' }]);
  const problems: ImportProblem[] = [];
  const note = (row: number, column: string, reason: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push({ row, column, reason });
  };
  const isVoters = header.includes('nina');
  const known: readonly string[] = isVoters ? VOTER_COLUMNS : STATION_COLUMNS;
  const required = isVoters ? [...VOTER_COLUMNS] : REQUIRED_STATION_COLUMNS;
  for (const h of header) if (!known.includes(h)) note(1, h, `unknown column (expected: ${known.join(', ')})`);
  for (const r of required) if (!header.includes(r)) note(1, r, 'required column missing');
  const seenHeader = new Set<string>();
  for (const h of header) {
    if (seenHeader.has(h)) note(1, h, 'column given twice');
    seenHeader.add(h);
  }
  if (problems.length) throw new ImportError(problems);
  const rows = records.slice(1);
  if (!rows.length) throw new ImportError([{ row: 2, column: '', reason: 'no data rows' }]);

  /** The row's values by column, each checked for length and control characters. */
  const read = (record: string[], line: number): Record<string, string> => {
    if (record.length > header.length) note(line, '', `${record.length} values for ${header.length} columns`);
    const values: Record<string, string> = {};
    header.forEach((h, i) => {
      const v = clean(record[i]);
      if (/[\u0000-\u001f\u007f]/.test(v)) note(line, h, 'control characters are not allowed');
      const max = MAX_LENGTH[h];
      if (max && [...v].length > max) note(line, h, `longer than ${max} characters`);
      values[h] = v;
    });
    for (const r of required) if (!values[r]) note(line, r, 'missing');
    return values;
  };

  if (isVoters) {
    const voters: { nina: string; centreCode: string; station: string }[] = [];
    const seen = new Map<string, number>();
    rows.forEach((record, i) => {
      const line = i + 2;
      const v = read(record, line);
      const nina = normalizeNina(v.nina ?? '');
      // The NINA itself never appears in a message: a problem names the row only.
      if (v.nina && !nina) note(line, 'nina', 'not a NINA number (letters and digits, 6 to 30)');
      if (nina) {
        const before = seen.get(nina);
        if (before) note(line, 'nina', `the same NINA as row ${before}`);
        seen.set(nina, line);
        voters.push({ nina, centreCode: v.centre_code!, station: v.station! });
      }
    });
    if (problems.length) throw new ImportError(problems);
    return { kind: 'voters', voters, rows: rows.length };
  }

  const centres = new Map<string, CentreRow & { line: number }>();
  rows.forEach((record, i) => {
    const line = i + 2;
    const v = read(record, line);
    const coordinate = (column: 'latitude' | 'longitude', limit: number): number | null => {
      if (!v[column]) return null;
      const n = Number(v[column]!.replace(',', '.'));
      if (!Number.isFinite(n) || Math.abs(n) > limit) {
        note(line, column, `not a ${column} (a number between -${limit} and ${limit})`);
        return null;
      }
      return n;
    };
    const latitude = coordinate('latitude', 90);
    const longitude = coordinate('longitude', 180);
    if ((v.latitude ? 1 : 0) + (v.longitude ? 1 : 0) === 1) note(line, v.latitude ? 'longitude' : 'latitude', 'give both latitude and longitude, or neither');
    const code = v.centre_code ?? '';
    if (!code) return;
    const row: CentreRow & { line: number } = {
      code,
      region: v.region ?? '',
      cercle: v.cercle ?? '',
      commune: v.commune ?? '',
      name: v.centre ?? '',
      address: v.address || null,
      hours: v.hours || null,
      latitude,
      longitude,
      stations: [],
      line,
    };
    const existing = centres.get(code);
    if (!existing) centres.set(code, row);
    else {
      // Rows of one centre must agree on everything but the station.
      for (const [field, column] of [['region', 'region'], ['cercle', 'cercle'], ['commune', 'commune'], ['name', 'centre'], ['address', 'address'], ['hours', 'hours']] as const) {
        if (existing[field] !== row[field]) note(line, column, `differs from row ${existing.line} of the same centre_code`);
      }
    }
    const centre = centres.get(code)!;
    if (v.station) {
      if (centre.stations.includes(v.station)) note(line, 'station', `station ${v.station} of this centre is already on another row`);
      else centre.stations.push(v.station);
    }
  });
  if (problems.length) throw new ImportError(problems);
  return { kind: 'stations', centres: [...centres.values()].map(({ line: _line, ...c }) => c), rows: rows.length };
}

/** Writes a checked file in one transaction. `key` hashes NINA numbers (PHONE_HASH_KEY). */
export async function importStations(db: Db, file: ParsedFile, options: { replace: boolean; key: string }): Promise<ImportSummary> {
  return db.transaction().execute(async (trx) => {
    if (file.kind === 'voters') {
      const codes = [...new Set(file.voters.map((v) => v.centreCode))];
      const known = await trx
        .selectFrom('polling_centres as c')
        .leftJoin('polling_stations as s', 's.centre_id', 'c.id')
        .select(['c.id', 'c.code', 's.number'])
        .where('c.code', 'in', codes)
        .execute();
      const ids = new Map(known.map((k) => [k.code, k.id]));
      const stations = new Set(known.map((k) => `${k.code}\u0000${k.number}`));
      const problems: ImportProblem[] = [];
      file.voters.forEach((v, i) => {
        if (problems.length >= MAX_PROBLEMS) return;
        if (!ids.has(v.centreCode)) problems.push({ row: i + 2, column: 'centre_code', reason: 'no such centre: import the stations first' });
        else if (!stations.has(`${v.centreCode}\u0000${v.station}`)) problems.push({ row: i + 2, column: 'station', reason: 'no such station in this centre' });
      });
      if (problems.length) throw new ImportError(problems);
      let removed = 0;
      if (options.replace) removed = Number((await trx.deleteFrom('voter_assignments').executeTakeFirst()).numDeletedRows);
      const rows = file.voters.map((v) => ({ nina_hash: ninaHash(options.key, v.nina), centre_id: ids.get(v.centreCode)!, station: v.station }));
      for (let i = 0; i < rows.length; i += 1000) {
        await trx
          .insertInto('voter_assignments')
          .values(rows.slice(i, i + 1000))
          .onConflict((oc) => oc.column('nina_hash').doUpdateSet((eb) => ({ centre_id: eb.ref('excluded.centre_id'), station: eb.ref('excluded.station') })))
          .execute();
      }
      return { kind: 'voters', rows: file.rows, voters: rows.length, removed };
    }

    let removed = 0;
    if (options.replace) {
      const codes = file.centres.map((c) => c.code);
      removed = Number((await trx.deleteFrom('polling_centres').where('code', 'not in', codes).executeTakeFirst()).numDeletedRows);
    }
    let stations = 0;
    for (let i = 0; i < file.centres.length; i += 500) {
      const chunk = file.centres.slice(i, i + 500);
      const written = await trx
        .insertInto('polling_centres')
        .values(
          chunk.map((c) => ({
            code: c.code,
            region: c.region,
            cercle: c.cercle,
            commune: c.commune,
            name: c.name,
            address: c.address,
            hours: c.hours,
            latitude: c.latitude,
            longitude: c.longitude,
          })),
        )
        .onConflict((oc) =>
          oc.column('code').doUpdateSet((eb) => ({
            region: eb.ref('excluded.region'),
            cercle: eb.ref('excluded.cercle'),
            commune: eb.ref('excluded.commune'),
            name: eb.ref('excluded.name'),
            address: eb.ref('excluded.address'),
            hours: eb.ref('excluded.hours'),
            latitude: eb.ref('excluded.latitude'),
            longitude: eb.ref('excluded.longitude'),
            updated_at: sql`now()`,
          })),
        )
        .returning(['id', 'code'])
        .execute();
      const ids = new Map(written.map((w) => [w.code, w.id]));
      if (options.replace) {
        // The file's stations are the centre's stations (an assignment to a removed one goes with it).
        for (const c of chunk) {
          const centreId = ids.get(c.code)!;
          await trx.deleteFrom('voter_assignments').where('centre_id', '=', centreId).where('station', 'not in', c.stations).execute();
          await trx.deleteFrom('polling_stations').where('centre_id', '=', centreId).where('number', 'not in', c.stations).execute();
        }
      }
      const rows = chunk.flatMap((c) => c.stations.map((number) => ({ centre_id: ids.get(c.code)!, number })));
      stations += rows.length;
      if (rows.length) await trx.insertInto('polling_stations').values(rows).onConflict((oc) => oc.columns(['centre_id', 'number']).doNothing()).execute();
    }
    return { kind: 'stations', rows: file.rows, centres: file.centres.length, stations, removed };
  });
}
