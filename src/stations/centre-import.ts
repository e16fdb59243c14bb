/**
 * The stations file: one row per polling station, the rows of a centre
 * repeating its details. A country's list is a few thousand rows, so its
 * centres are gathered in memory (the checks compare rows of one centre),
 * up to MAX_STATION_ROWS; then written in batches.
 */
import { sql, type Selectable, type Transaction } from 'kysely';
import type { Database, PollingCentresTable } from '../store/schema.js';
import { MAX_PICKED } from '../engine/step.js';
import { ImportError, type ProblemList } from './import-problems.js';
import type { CheckedRow, ImportOptions, ImportSummary } from './station-import.js';

/** A whole country's list is a few tens of thousands of stations: a stations file longer than this is something else. */
export const MAX_STATION_ROWS = 100_000;

/** A centre as the file gives it: its table's columns, and its stations. */
type CentreRow = Omit<Selectable<PollingCentresTable>, 'id' | 'updated_at'> & { stations: string[]; line: number };

export async function importCentres(trx: Transaction<Database>, rows: AsyncIterable<CheckedRow>, problems: ProblemList, options: ImportOptions): Promise<ImportSummary> {
  const centres = new Map<string, CentreRow>();
  let count = 0;
  for await (const { line, values: v } of rows) {
    count += 1;
    if (count > MAX_STATION_ROWS) {
      problems.add(line, '', `plus de ${MAX_STATION_ROWS.toLocaleString('fr')} lignes : est-ce bien un fichier de bureaux ?`);
      break;
    }
    if (count % 1000 === 0) options.onProgress?.({ kind: 'stations', rows: count });
    const coordinate = (column: 'latitude' | 'longitude', limit: number): number | null => {
      if (!v[column]) return null;
      const n = Number(v[column]!.replace(',', '.'));
      if (!Number.isFinite(n) || Math.abs(n) > limit) {
        problems.add(line, column, `${column} invalide (un nombre entre -${limit} et ${limit})`);
        return null;
      }
      return n;
    };
    const latitude = coordinate('latitude', 90);
    const longitude = coordinate('longitude', 180);
    if ((v.latitude ? 1 : 0) + (v.longitude ? 1 : 0) === 1) problems.add(line, v.latitude ? 'longitude' : 'latitude', 'donnez la latitude et la longitude, ou aucune des deux');
    const code = v.centre_code ?? '';
    if (!code) continue;
    const row: CentreRow = {
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
        if (existing[field] !== row[field]) problems.add(line, column, `diffère de la ligne ${existing.line} (même centre_code)`);
      }
    }
    const centre = centres.get(code)!;
    if (v.station) {
      if (centre.stations.includes(v.station)) problems.add(line, 'station', `bureau ${v.station} déjà sur une autre ligne de ce centre`);
      else centre.stations.push(v.station);
    }
  }
  if (problems.total || !count) return { kind: 'stations', rows: count, removed: 0 };
  return writeCentres(trx, [...centres.values()], count, options);
}

async function writeCentres(trx: Transaction<Database>, centres: CentreRow[], rows: number, options: ImportOptions): Promise<ImportSummary> {
  let removed = 0;
  let votersRemoved = 0;
  if (options.replace) {
    // One array parameter, whatever the number of centres (a list of parameters stops at 65,535).
    const codes = centres.map((c) => c.code);
    // Counted first: their voters go with them (cascade).
    const going = await sql<{ n: string }>`
      select count(*) as n from voter_assignments v join polling_centres c on c.id = v.centre_id where c.code <> all(${codes}::text[])
    `.execute(trx);
    votersRemoved += Number(going.rows[0]?.n ?? 0);
    const deleted = await sql`delete from polling_centres where code <> all(${codes}::text[])`.execute(trx);
    removed = Number(deleted.numAffectedRows ?? 0);
  }
  let stations = 0;
  for (let i = 0; i < centres.length; i += 500) {
    const chunk = centres.slice(i, i + 500);
    await trx
      .insertInto('polling_centres')
      .values(chunk.map(({ stations: _stations, line: _line, ...centre }) => centre))
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
    const rowsToWrite = chunk.flatMap((c) => c.stations.map((number) => ({ centre_id: ids.get(c.code)!, number })));
    stations += rowsToWrite.length;
    if (rowsToWrite.length) await trx.insertInto('polling_stations').values(rowsToWrite).onConflict((oc) => oc.columns(['centre_id', 'number']).doNothing()).execute();
  }
  await refuseOverlongLists(trx, rows);
  return { kind: 'stations', rows, centres: centres.length, stations, removed, votersRemoved };
}

const LEVEL_NAMES: Record<string, { column: string; plural: string }> = {
  regions: { column: 'region', plural: 'régions' },
  cercles: { column: 'cercle', plural: 'cercles' },
  communes: { column: 'commune', plural: 'communes' },
  centres: { column: 'centre', plural: 'centres' },
};

/**
 * A caller picks among 97 items at most on a screen's numbers (98 and 99 are
 * navigation), at every level: regions, cercles of a region, communes of a
 * cercle, centres of a commune. A list that would be longer is refused.
 */
async function refuseOverlongLists(trx: Transaction<Database>, fileRows: number): Promise<void> {
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
        column: LEVEL_NAMES[r.level]!.column,
        reason: `${r.n} ${LEVEL_NAMES[r.level]!.plural}${r.place ? ` dans ${r.place}` : ''} : un appelant choisit parmi ${MAX_PICKED} au plus ; scindez la liste (par exemple une commune par quartier)`,
      })),
      { kind: 'stations', rows: fileRows },
    );
  }
}
