/**
 * Every conversation in test/golden/<language>/*.txt (one folder per
 * language of flows/languages.yaml) is replayed through the engine on the
 * real flows and compared with the file, screen by screen. Together they
 * must visit every node in each language (test/support/golden-suite.ts).
 * `UPDATE_GOLDEN=1 npm test -- test/golden` rewrites the files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from '@jest/globals';
import { createLogger } from '../../src/logger.js';
import type { Lookup } from '../../src/runtime/lookups.js';
import { importStations, parseStationsCsv } from '../../src/stations/station-import.js';
import { createStationLookups } from '../../src/stations/station-lookups.js';
import { createDatabase, migrateToLatest, type Db } from '../../src/store/database.js';
import { goldenSuite, voiceGoldenSuite } from '../support/golden-suite.js';

// Lookups answer from real databases (embedded PGlite): one with the fictional
// fixtures imported, one empty.
const NINA_KEY = 'golden-key-'.padEnd(32, 'x');
const databases: Db[] = [];
const lookups: Record<'fixtures' | 'none', Lookup | undefined> = { fixtures: undefined, none: undefined };
beforeAll(async () => {
  for (const which of ['fixtures', 'none'] as const) {
    const db = await createDatabase({});
    await migrateToLatest(db);
    if (which === 'fixtures') {
      // voters-keypad.csv: a NINA of digits alone, which a voice caller can key.
      for (const file of ['stations-fictional.csv', 'voters-fictional.csv', 'voters-keypad.csv']) {
        await importStations(db, parseStationsCsv(readFileSync(join(process.cwd(), 'test', 'fixtures', file), 'utf8')), { replace: false, key: NINA_KEY });
      }
    }
    databases.push(db);
    lookups[which] = createStationLookups({ db, ninaKey: NINA_KEY, logger: createLogger('silent') });
  }
}, 60_000);
afterAll(async () => {
  for (const db of databases) await db.destroy();
});

/**
 * Whether a call-back request from the caller is open is the runtime's to
 * answer (it needs the caller's pseudonym): here, one is waiting in the
 * transcripts named `callback-waiting…`, none in the others.
 */
function lookupFor(file: string, stations: 'fixtures' | 'none'): Lookup {
  const waiting = file.startsWith('callback-waiting');
  return async (request) => {
    if (request.source === 'callback_open') return waiting ? { kind: 'found', values: {} } : { kind: 'not_found' };
    return lookups[stations]!(request);
  };
}

goldenSuite({ contentRoot: process.cwd(), goldenDir: join(process.cwd(), 'test', 'golden'), lookupFor, minTranscripts: 10 });
voiceGoldenSuite({ contentRoot: process.cwd(), goldenDir: join(process.cwd(), 'test', 'golden-voice'), lookupFor, minTranscripts: 5 });
