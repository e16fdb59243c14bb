/**
 * Answers the engine's lookups (src/flows/lookup-sources.ts) from the
 * imported polling stations. A NINA number is hashed before any query and
 * never logged; the texts get the centre's details as variables.
 */
import type { LookupAnswer, LookupRequest } from '../engine/types.js';
import type { Logger } from '../logger.js';
import type { Lookup } from '../runtime/lookups.js';
import type { Db } from '../store/database.js';
import { ninaHash, normalizeNina } from './nina.js';
import { centreByCode, hasVoters, listCentres, listPlaces, stationByNinaHash, type CentreDetails } from './station-store.js';

/** The variables a found centre sets (see LOOKUP_SOURCES). Empty values read as a dash. */
export function centreVars(centre: CentreDetails): Record<string, string> {
  const dash = '-';
  return {
    centre: centre.name,
    address: centre.address ?? dash,
    commune: centre.commune,
    hours: centre.hours ?? dash,
    stations: centre.stations.join(', ') || dash,
  };
}

/** A voter's station by the NINA as typed (hashed before the query), with the variables texts use. */
export async function findStationByNina(db: Db, ninaKey: string, typed: string): Promise<Record<string, string> | undefined> {
  const nina = normalizeNina(typed);
  const found = nina ? await stationByNinaHash(db, ninaHash(ninaKey, nina)) : undefined;
  return found ? { ...centreVars(found), station: found.station } : undefined;
}

const items = (values: readonly string[]): LookupAnswer => ({ kind: 'items', items: values.map((v) => ({ value: v, label: v })) });

export function createStationLookups(deps: { db: Db; ninaKey: string; logger: Logger }): Lookup {
  const log = deps.logger.child({ subsystem: 'stations' });
  return async (request: LookupRequest): Promise<LookupAnswer> => {
    const values = Object.values(request.params);
    try {
      switch (request.source) {
        case 'regions':
          return items(await listPlaces(deps.db, 'region', {}));
        case 'cercles':
          return items(await listPlaces(deps.db, 'cercle', { region: values[0] ?? '' }));
        case 'communes':
          return items(await listPlaces(deps.db, 'commune', { region: values[0] ?? '', cercle: values[1] ?? '' }));
        case 'centres': {
          const centres = await listCentres(deps.db, { region: values[0] ?? '', cercle: values[1] ?? '', commune: values[2] ?? '' });
          return { kind: 'items', items: centres.map((c) => ({ value: c.code, label: c.name })) };
        }
        case 'centre': {
          const centre = await centreByCode(deps.db, values[0] ?? '');
          return centre ? { kind: 'found', values: centreVars(centre) } : { kind: 'not_found' };
        }
        case 'voter_list':
          return (await hasVoters(deps.db)) ? { kind: 'found', values: {} } : { kind: 'not_found' };
        case 'station_by_nina': {
          const found = await findStationByNina(deps.db, deps.ninaKey, values[0] ?? '');
          return found ? { kind: 'found', values: found } : { kind: 'not_found' };
        }
        default:
          log.error({ source: request.source, node: request.node }, 'unknown lookup source');
          return { kind: 'failed' };
      }
    } catch (err) {
      // Never the parameters: one may be a NINA number.
      log.error({ source: request.source, node: request.node, err: (err as Error).message }, 'lookup failed');
      return { kind: 'failed' };
    }
  };
}
