/**
 * The voters file: NINA, centre and station, hundreds of thousands of rows.
 * Nothing of the file is kept in memory but the batch in hand: each batch of
 * rows is hashed (the NINA becomes its keyed HMAC at once) and staged in a
 * temporary table of the transaction, which answers the whole-file checks
 * (the same NINA on two rows, however far apart) as the file goes by; the
 * centres and stations are checked in the same statement. As long as no
 * problem was found, the batch is merged into voter_assignments too; a
 * problem later undoes it all with the transaction. Every statement handles
 * one batch, well inside the pool's statement timeout.
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import { ninaHash, normalizeNina } from './nina.js';
import type { ProblemList } from './import-problems.js';
import type { CheckedRow, ImportOptions, ImportSummary } from './station-import.js';

/** Rows per batch: a few hundred kB per statement, a few tens of milliseconds each. */
export const VOTER_BATCH = 2000;
/** Rows read between two turns of the event loop. */
const YIELD_EVERY = 250;
/** Assignments looked at per statement when --replace removes those not in the file. */
const REMOVE_PAGE = 20_000;

interface Batch {
  lines: number[];
  hashes: string[];
  codes: string[];
  stations: string[];
  /** line of each hash in this batch: the same NINA twice within a batch */
  seen: Map<string, number>;
}

const emptyBatch = (): Batch => ({ lines: [], hashes: [], codes: [], stations: [], seen: new Map() });

export async function importVoters(trx: Transaction<Database>, rows: AsyncIterable<CheckedRow>, problems: ProblemList, options: ImportOptions): Promise<ImportSummary> {
  // Dropped at commit or rollback: no hash of this file outlives the transaction but those imported.
  await sql`create temporary table voter_import (nina_hash text primary key, line integer not null) on commit drop`.execute(trx);
  let count = 0;
  let voters = 0;
  let changed = 0;
  let batch = emptyBatch();
  const flush = async () => {
    if (!batch.lines.length) return;
    const { lines, hashes, codes, stations } = batch;
    batch = emptyBatch();
    voters += lines.length;
    // The snapshot of the select is the statement's: `v` holds the earlier batches only.
    const found = await sql<{ line: number; first_line: number | null; centre_known: boolean; station_known: boolean; has_code: boolean; has_station: boolean }>`
      with incoming as (
        select * from unnest(${lines}::int[], ${hashes}::text[], ${codes}::text[], ${stations}::text[]) as u(line, nina_hash, centre_code, station)
      ), staged as (
        insert into voter_import (nina_hash, line) select nina_hash, line from incoming on conflict (nina_hash) do nothing
      )
      select i.line, v.line as first_line, c.id is not null as centre_known, s.number is not null as station_known,
        i.centre_code <> '' as has_code, i.station <> '' as has_station
      from incoming i
      left join polling_centres c on c.code = i.centre_code
      left join polling_stations s on s.centre_id = c.id and s.number = i.station
      left join voter_import v on v.nina_hash = i.nina_hash
      where v.line is not null or c.id is null or s.number is null
      order by i.line
    `.execute(trx);
    for (const f of found.rows) {
      // The NINA itself never appears in a message: a problem names the rows only.
      if (f.first_line !== null) problems.add(f.line, 'nina', `même NINA que la ligne ${f.first_line}`);
      // A missing value is a problem of its own already.
      if (!f.centre_known) {
        if (f.has_code) problems.add(f.line, 'centre_code', 'centre inconnu : importez d’abord les bureaux');
      } else if (!f.station_known && f.has_station) problems.add(f.line, 'station', 'bureau inconnu dans ce centre');
    }
    options.onProgress?.({ kind: 'voters', rows: count });
    if (problems.total) return; // the file will be refused: no use writing
    const merged = await sql<{ changed: number }>`
      with upserted as (
        insert into voter_assignments (nina_hash, centre_id, station)
        select u.nina_hash, c.id, u.station
        from unnest(${hashes}::text[], ${codes}::text[], ${stations}::text[]) as u(nina_hash, centre_code, station)
        join polling_centres c on c.code = u.centre_code
        on conflict (nina_hash) do update set centre_id = excluded.centre_id, station = excluded.station
        -- An assignment that did not change keeps its row as it was: re-importing changes nothing.
        where (voter_assignments.centre_id, voter_assignments.station) is distinct from (excluded.centre_id, excluded.station)
        returning 1
      )
      select count(*)::int as changed from upserted
    `.execute(trx);
    changed += merged.rows[0]?.changed ?? 0;
  };

  for await (const { line, values: v } of rows) {
    count += 1;
    // Parsing and hashing are CPU work on the event loop the web requests share (npm start): let them in now and then.
    if (count % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    const nina = normalizeNina(v.nina ?? '');
    if (v.nina && !nina) problems.add(line, 'nina', 'pas un numéro NINA (6 à 30 lettres et chiffres)');
    if (!nina) continue;
    const hash = ninaHash(options.key, nina);
    const before = batch.seen.get(hash);
    if (before !== undefined) {
      problems.add(line, 'nina', `même NINA que la ligne ${before}`);
      continue;
    }
    batch.seen.set(hash, line);
    batch.lines.push(line);
    batch.hashes.push(hash);
    batch.codes.push(v.centre_code ?? '');
    batch.stations.push(v.station ?? '');
    if (batch.lines.length >= VOTER_BATCH) await flush();
  }
  await flush();

  let removed = 0;
  if (options.replace && !problems.total && count) {
    // Removed: assignments whose NINA is not in the file, a page of the table at a time.
    for (let after = ''; ; ) {
      const page = await sql<{ last: string | null; removed: number }>`
        with page as (
          select nina_hash from voter_assignments where nina_hash > ${after} order by nina_hash limit ${REMOVE_PAGE}
        ), gone as (
          delete from voter_assignments v using page p
          where v.nina_hash = p.nina_hash and not exists (select 1 from voter_import s where s.nina_hash = v.nina_hash)
          returning 1
        )
        select (select max(nina_hash) from page) as last, (select count(*) from gone)::int as removed
      `.execute(trx);
      removed += page.rows[0]?.removed ?? 0;
      const last = page.rows[0]?.last;
      if (!last) break;
      after = last;
    }
  }
  return { kind: 'voters', rows: count, voters, changed, removed };
}
