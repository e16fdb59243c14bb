/**
 * `npm run stations -- import FILE.csv [--replace]`: imports polling centres
 * and stations, or voters' assignments by NINA (the header says which; see
 * docs/stations-csv.md). All or nothing: a file with a bad row imports
 * nothing, and every bad row is listed as `FILE:ROW: column: reason`.
 * `npm run stations -- summary`: what is imported, by region.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { loadSecrets } from '../privacy/secrets.js';
import { importStations, ImportError, parseStationsCsv } from '../stations/station-import.js';
import { stationSummary } from '../stations/station-store.js';
import { openConfiguredDatabase, migrateToLatest } from '../store/database.js';
import { runMain, UsageError } from './run-main.js';

const USAGE = 'usage: npm run stations -- import FILE.csv [--replace] | summary';

runMain(async () => {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { replace: { type: 'boolean', default: false } } });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; ${USAGE}`);
  }
  const [command, file] = parsed.positionals;
  if (command !== 'import' && command !== 'summary') throw new UsageError(USAGE);
  if (command === 'import' && !file) throw new UsageError(USAGE);
  const config = loadConfig();
  const text = file ? await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }) : '';
  const db = await openConfiguredDatabase(config);
  try {
    await migrateToLatest(db);
    if (command === 'summary') {
      const rows = await stationSummary(db);
      if (!rows.length) console.log('no polling stations imported yet');
      for (const r of rows) console.log(`${r.region}\t${r.centres} centres\t${r.stations} stations`);
      return;
    }
    const secrets = loadSecrets(config);
    let summary;
    try {
      summary = await importStations(db, parseStationsCsv(text), { replace: parsed.values.replace, key: secrets.phoneHashKey });
    } catch (err) {
      if (!(err instanceof ImportError)) throw err;
      for (const p of err.problems) console.error(`${file}:${p.row}: ${p.column ? `${p.column}: ` : ''}${p.reason}`);
      throw new UsageError(err.message);
    }
    const what =
      summary.kind === 'stations'
        ? `${summary.centres} centres, ${summary.stations} stations`
        : `${summary.voters} voters' assignments (kept as keyed hashes of their NINA)`;
    const gone = summary.kind === 'stations' ? `${summary.removed} centres removed, and ${summary.votersRemoved ?? 0} voters' assignments with them` : `${summary.removed} voters' assignments removed`;
    console.log(`imported ${what} from ${summary.rows} rows${parsed.values.replace ? `; ${gone} (--replace)` : ''}`);
  } finally {
    await db.destroy();
  }
});
