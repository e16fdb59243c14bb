/**
 * Reading the imported polling stations: the lists a caller browses (region,
 * cercle, commune, centre), a centre's details, and a voter's station by the
 * keyed hash of their NINA.
 */
import { sql } from 'kysely';
import type { Db } from '../store/database.js';

export interface CentreDetails {
  code: string;
  name: string;
  address: string | null;
  commune: string;
  hours: string | null;
  stations: string[];
}

/** French order, accents and numbers included (École after Dioïla, Bureau 2 before Bureau 10). */
const collator = new Intl.Collator('fr', { numeric: true, sensitivity: 'base' });

/** Distinct values of one place column, filtered by the ones above it, sorted. */
export async function listPlaces(db: Db, level: 'region' | 'cercle' | 'commune', where: { region?: string; cercle?: string }): Promise<string[]> {
  let q = db.selectFrom('polling_centres').select(level).distinct();
  if (where.region !== undefined) q = q.where('region', '=', where.region);
  if (where.cercle !== undefined) q = q.where('cercle', '=', where.cercle);
  const rows = await q.execute();
  return rows.map((r) => (r as Record<string, string>)[level]!).sort(collator.compare);
}

export async function listCentres(db: Db, place: { region: string; cercle: string; commune: string }): Promise<{ code: string; name: string }[]> {
  return db
    .selectFrom('polling_centres')
    .select(['code', 'name'])
    .where('region', '=', place.region)
    .where('cercle', '=', place.cercle)
    .where('commune', '=', place.commune)
    .execute()
    .then((rows) => rows.sort((a, b) => collator.compare(a.name, b.name) || collator.compare(a.code, b.code)));
}


export async function centreByCode(db: Db, code: string): Promise<CentreDetails | undefined> {
  const centre = await db.selectFrom('polling_centres').select(['id', 'code', 'name', 'address', 'commune', 'hours']).where('code', '=', code).executeTakeFirst();
  if (!centre) return undefined;
  const stations = await db.selectFrom('polling_stations').select('number').where('centre_id', '=', centre.id).execute();
  return { code: centre.code, name: centre.name, address: centre.address, commune: centre.commune, hours: centre.hours, stations: stations.map((s) => s.number).sort(collator.compare) };
}

/** A voter's centre and station, by `ninaHash` (see nina.ts). */
export async function stationByNinaHash(db: Db, hash: string): Promise<(CentreDetails & { station: string }) | undefined> {
  const row = await db
    .selectFrom('voter_assignments as v')
    .innerJoin('polling_centres as c', 'c.id', 'v.centre_id')
    .select(['c.code', 'v.station'])
    .where('v.nina_hash', '=', hash)
    .executeTakeFirst();
  if (!row) return undefined;
  const centre = await centreByCode(db, row.code);
  return centre ? { ...centre, station: row.station } : undefined;
}

/** Centres and stations by region, for `npm run stations -- summary` and the console. */
export async function stationSummary(db: Db): Promise<{ region: string; centres: number; stations: number }[]> {
  const rows = await db
    .selectFrom('polling_centres as c')
    .leftJoin('polling_stations as s', 's.centre_id', 'c.id')
    .select((eb) => ['c.region', sql<string>`count(distinct c.id)`.as('centres'), eb.fn.count<string>('s.number').as('stations')])
    .groupBy('c.region')
    .orderBy('c.region')
    .execute();
  return rows.map((r) => ({ region: r.region, centres: Number(r.centres), stations: Number(r.stations) }));
}

/** Voters assigned by NINA (kept as hashes). */
/** Whether any voter is imported (one index probe, not a count: it runs on calls). */
export async function hasVoters(db: Db): Promise<boolean> {
  const row = await db.selectFrom('voter_assignments').select('nina_hash').limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function countVoters(db: Db): Promise<number> {
  const row = await db.selectFrom('voter_assignments').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
