/**
 * The data the shell can look up for a flow, by source name: what a `pick` or
 * `lookup` node may ask for, how many answers it passes, and the variables a
 * found answer sets. Flows are checked against this catalog; the shell's
 * implementation (src/stations/station-lookups.ts) answers every source.
 */
export interface LookupSource {
  /** items: a list to pick from; found: one answer, or not found */
  kind: 'items' | 'found';
  /** how many answers the node passes */
  params: number;
  /** variables a found answer sets (for texts) */
  provides: readonly string[];
}

const STATION_VARS = ['centre', 'address', 'commune', 'hours', 'stations'] as const;

export const LOOKUP_SOURCES: Readonly<Record<string, LookupSource>> = Object.freeze({
  /** regions that have polling centres */
  regions: { kind: 'items', params: 0, provides: [] },
  /** cercles of a region */
  cercles: { kind: 'items', params: 1, provides: [] },
  /** communes of a region and cercle */
  communes: { kind: 'items', params: 2, provides: [] },
  /** polling centres of a region, cercle and commune (value: the centre's code) */
  centres: { kind: 'items', params: 3, provides: [] },
  /** a centre by its code: name, address, commune, hours, its stations */
  centre: { kind: 'found', params: 1, provides: STATION_VARS },
  /** found when a voters list is imported: without one, a NINA lookup cannot find anybody */
  voter_list: { kind: 'found', params: 0, provides: [] },
  /** a voter's centre and station, by NINA number (hashed before the query) */
  station_by_nina: { kind: 'found', params: 1, provides: [...STATION_VARS, 'station'] },
});

/** What lookups may set, at the longest imports allow (see station-import.ts): the linters measure texts with these. */
export const LONGEST_LOOKUP_VALUES: Readonly<Record<string, string>> = Object.freeze({
  centre: 'W'.repeat(60),
  address: 'W'.repeat(80),
  commune: 'W'.repeat(40),
  hours: 'W'.repeat(40),
  stations: '1, 2, 3, 4, 5, 6, 7, 8, 9, 10',
  station: 'W'.repeat(10),
});

/** The names of the sources of one kind. */
export function sourcesOfKind(kind: LookupSource['kind']): string[] {
  return Object.entries(LOOKUP_SOURCES)
    .filter(([, source]) => source.kind === kind)
    .map(([name]) => name);
}
