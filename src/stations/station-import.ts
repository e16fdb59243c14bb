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
import { sql, type Selectable, type Transaction } from 'kysely';
import type { Database, PollingCentresTable } from '../store/schema.js';
import type { Db } from '../store/database.js';
import { MAX_PICKED, normalizeInput } from '../engine/step.js';
import { ninaHash, normalizeNina } from './nina.js';

export interface ImportProblem {
  /** line in the file (the header is line 1) */
  row: number;
  column: string;
  reason: string;
}

/** A centre as the file gives it: its table's columns, and its stations. */
export type CentreRow = Omit<Selectable<PollingCentresTable>, 'id' | 'updated_at'> & { stations: string[] };

export type ParsedFile =
  | { kind: 'stations'; centres: CentreRow[]; rows: number }
  | { kind: 'voters'; voters: { nina: string; centreCode: string; station: string; line: number }[]; rows: number };

export interface ImportSummary {
  kind: ParsedFile['kind'];
  rows: number;
  centres?: number;
  stations?: number;
  voters?: number;
  /** centres (stations file) or voters (voters file) the import removed: only with replace */
  removed: number;
  /** voters removed with their centre or station (stations file, replace) */
  votersRemoved?: number;
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

/** Trimmed, inner spaces folded, NFC (as the engine reads what callers type). */
const clean = (value: string | undefined): string => normalizeInput(value ?? '');

/** Reads and checks a whole file. Throws ImportError with every problem found. */
export function parseStationsCsv(text: string): ParsedFile {
  const body = text.replace(/^\uFEFF/, '');
  const firstLine = body.split(/\r?\n/, 1)[0] ?? '';
  // Spreadsheets set to French write `;`.
  const delimiter = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(body, { delimiter, relax_column_count: true, skip_empty_lines: true, bom: true, info: true }) as unknown as typeof parsed;
  } catch (err) {
    // The parser's message quotes the offending value, which may be a NINA: only its code and line are shown.
    const e = err as { lines?: number; code?: string };
    throw new ImportError([{ row: e.lines ?? 0, column: '', reason: `not readable as CSV (${(e.code ?? 'parse error').toLowerCase().replace(/_/g, ' ')})` }]);
  }
  const records = parsed.map((p) => p.record);
  /** The file line a record starts on (blank lines and multi-line values included). */
  const lineOf = (index: number) => {
    const p = parsed[index + 1]!;
    return p.info.lines - (p.record.join('').split(/\r?\n/).length - 1);
  };
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
    const voters: { nina: string; centreCode: string; station: string; line: number }[] = [];
    const seen = new Map<string, number>();
    rows.forEach((record, i) => {
      const line = lineOf(i);
      const v = read(record, line);
      const nina = normalizeNina(v.nina ?? '');
      // The NINA itself never appears in a message: a problem names the row only.
      if (v.nina && !nina) note(line, 'nina', 'not a NINA number (letters and digits, 6 to 30)');
      if (nina) {
        const before = seen.get(nina);
        if (before) note(line, 'nina', `the same NINA as row ${before}`);
        seen.set(nina, line);
        voters.push({ nina, centreCode: v.centre_code!, station: v.station!, line });
      }
    });
    if (problems.length) throw new ImportError(problems);
    return { kind: 'voters', voters, rows: rows.length };
  }

  const centres = new Map<string, CentreRow & { line: number }>();
  rows.forEach((record, i) => {
    const line = lineOf(i);
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
      for (const v of file.voters) {
        if (problems.length >= MAX_PROBLEMS) break;
        if (!ids.has(v.centreCode)) problems.push({ row: v.line, column: 'centre_code', reason: 'no such centre: import the stations first' });
        else if (!stations.has(`${v.centreCode}\u0000${v.station}`)) problems.push({ row: v.line, column: 'station', reason: 'no such station in this centre' });
      }
      if (problems.length) throw new ImportError(problems);
      const rows = file.voters.map((v) => ({ nina_hash: ninaHash(options.key, v.nina), centre_id: ids.get(v.centreCode)!, station: v.station }));
      let removed = 0;
      if (options.replace) {
        // Removed: voters no longer in the file (the others are written again below).
        const inFile = new Set(rows.map((r) => r.nina_hash));
        const deleted = await trx.deleteFrom('voter_assignments').returning('nina_hash').execute();
        removed = deleted.filter((d) => !inFile.has(d.nina_hash)).length;
      }
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
    let votersRemoved = 0;
    if (options.replace) {
      const codes = file.centres.map((c) => c.code);
      // Counted first: their voters go with them (cascade).
      const going = await trx
        .selectFrom('voter_assignments as v')
        .innerJoin('polling_centres as c', 'c.id', 'v.centre_id')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('c.code', 'not in', codes)
        .executeTakeFirstOrThrow();
      votersRemoved += Number(going.n);
      removed = Number((await trx.deleteFrom('polling_centres').where('code', 'not in', codes).executeTakeFirst()).numDeletedRows);
    }
    let stations = 0;
    for (let i = 0; i < file.centres.length; i += 500) {
      const chunk = file.centres.slice(i, i + 500);
      await trx
        .insertInto('polling_centres')
        .values(chunk.map(({ stations: _stations, ...centre }) => centre))
        .onConflict((oc) =>
          oc
            .column('code')
            .doUpdateSet((eb) => ({
              region: eb.ref('excluded.region'),
              cercle: eb.ref('excluded.cercle'),
              commune: eb.ref('excluded.commune'),
              name: eb.ref('excluded.name'),
              address: eb.ref('excluded.address'),
              hours: eb.ref('excluded.hours'),
              latitude: eb.ref('excluded.latitude'),
              longitude: eb.ref('excluded.longitude'),
              updated_at: sql`now()`,
            }))
            // A centre that did not change keeps its row as it was: re-importing changes nothing.
            .where(
              sql<boolean>`(polling_centres.region, polling_centres.cercle, polling_centres.commune, polling_centres.name, polling_centres.address, polling_centres.hours, polling_centres.latitude, polling_centres.longitude)
                is distinct from (excluded.region, excluded.cercle, excluded.commune, excluded.name, excluded.address, excluded.hours, excluded.latitude, excluded.longitude)`,
            ),
        )
        .execute();
      const written = await trx.selectFrom('polling_centres').select(['id', 'code']).where('code', 'in', chunk.map((c) => c.code)).execute();
      const ids = new Map(written.map((w) => [w.code, w.id]));
      if (options.replace) {
        // The file's stations are the centre's stations (an assignment to a removed one goes with it).
        for (const c of chunk) {
          const centreId = ids.get(c.code)!;
          const dropped = await trx.deleteFrom('voter_assignments').where('centre_id', '=', centreId).where('station', 'not in', c.stations).executeTakeFirst();
          votersRemoved += Number(dropped.numDeletedRows);
          await trx.deleteFrom('polling_stations').where('centre_id', '=', centreId).where('number', 'not in', c.stations).execute();
        }
      }
      const rows = chunk.flatMap((c) => c.stations.map((number) => ({ centre_id: ids.get(c.code)!, number })));
      stations += rows.length;
      if (rows.length) await trx.insertInto('polling_stations').values(rows).onConflict((oc) => oc.columns(['centre_id', 'number']).doNothing()).execute();
    }
    await refuseOverlongLists(trx);
    return { kind: 'stations', rows: file.rows, centres: file.centres.length, stations, removed, votersRemoved };
  });
}

/**
 * A caller picks among 97 items at most on a screen's numbers (98 and 99 are
 * navigation), at every level: regions, cercles of a region, communes of a
 * cercle, centres of a commune. A list that would be longer is refused.
 */
async function refuseOverlongLists(trx: Transaction<Database>): Promise<void> {
  const { rows } = await sql<{ level: string; place: string; n: string }>`
    select 'regions' as level, '' as place, count(distinct region) as n from polling_centres having count(distinct region) > ${MAX_PICKED}
    union all
    select 'cercles', region, count(distinct cercle) from polling_centres group by region having count(distinct cercle) > ${MAX_PICKED}
    union all
    select 'communes', region || ' / ' || cercle, count(distinct commune) from polling_centres group by region, cercle having count(distinct commune) > ${MAX_PICKED}
    union all
    select 'centres', region || ' / ' || cercle || ' / ' || commune, count(*) from polling_centres group by region, cercle, commune having count(*) > ${MAX_PICKED}
  `.execute(trx);
  if (rows.length) {
    throw new ImportError(
      rows.map((r) => ({
        row: 0,
        column: r.level === 'centres' ? 'centre' : r.level.slice(0, -1),
        reason: `${r.n} ${r.level}${r.place ? ` in ${r.place}` : ''}: a caller can choose among ${MAX_PICKED} at most; split the list (for example a commune by quartier)`,
      })),
    );
  }
}
