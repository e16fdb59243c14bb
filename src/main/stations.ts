/**
 * `npm run stations -- import FILE.csv [--replace]`: imports polling centres
 * and stations, or voters' assignments by NINA (the header says which; see
 * docs/stations-csv.md), streaming the file from disk: any size, flat memory.
 * All or nothing: a file with a bad row imports nothing, and every bad row
 * is listed as `FILE:ROW: column: reason` (reasons in French, as the console
 * shows them; the first 200). Waits while another import runs.
 * `npm run stations -- summary`: what is imported, by region.
 */
import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { loadSecrets } from '../privacy/secrets.js';
import { verifyKeyFingerprints } from '../privacy/key-fingerprints.js';
import { importStationsCsv, ImportBusyError, ImportError, type ImportSummary } from '../stations/station-import.js';
import { stationSummary } from '../stations/station-store.js';
import { openConfiguredDatabase, migrateToLatest, type Db } from '../store/database.js';
import { runMain, UsageError } from './run-main.js';

const USAGE = 'usage: npm run stations -- import FILE.csv [--replace] | summary';
/** How long the command waits for another import to end. */
const BUSY_WAIT_MS = 30 * 60_000;

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
  if (file) {
    await access(file, constants.R_OK).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    });
  }
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
    // NINA numbers are hashed under PHONE_HASH_KEY: a changed key would import voters nobody can find.
    await verifyKeyFingerprints(db, secrets);
    let summary;
    try {
      summary = await importWhenFree(db, file!, { replace: parsed.values.replace, key: secrets.phoneHashKey });
    } catch (err) {
      if (!(err instanceof ImportError)) throw err;
      for (const p of err.problems) console.error(`${file}:${p.row}: ${p.column ? `${p.column}: ` : ''}${p.reason}`);
      if (err.total > err.problems.length) console.error(`${file}: ... and ${err.total - err.problems.length} more`);
      throw new UsageError(err.message);
    }
    const what =
      summary.kind === 'stations'
        ? `${summary.centres} centres, ${summary.stations} stations`
        : `${summary.voters} voters' assignments (kept as keyed hashes of their NINA; ${summary.changed} added or moved)`;
    const gone = summary.kind === 'stations' ? `${summary.removed} centres removed, and ${summary.votersRemoved ?? 0} voters' assignments with them` : `${summary.removed} voters' assignments removed`;
    console.log(`imported ${what} from ${summary.rows} rows${parsed.values.replace ? `; ${gone} (--replace)` : ''}`);
  } finally {
    await db.destroy();
  }
});

/** Imports the file, waiting while another import (the console's, another command) holds the lock. */
async function importWhenFree(db: Db, file: string, options: { replace: boolean; key: string }): Promise<ImportSummary> {
  const until = Date.now() + BUSY_WAIT_MS;
  for (let told = false; ; told = true) {
    try {
      return await importStationsCsv(db, () => createReadStream(file), options);
    } catch (err) {
      if (!(err instanceof ImportBusyError) || Date.now() > until) throw err;
      if (!told) console.error('another import is running: waiting for it to end');
      await sleep(2000);
    }
  }
}
