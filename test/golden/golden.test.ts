/**
 * Every conversation in test/golden/{fr,bm}/*.txt is replayed through the
 * engine on the real flows and compared with the file, screen by screen.
 * Together they must visit every node in each language.
 * `UPDATE_GOLDEN=1 npm test -- test/golden` rewrites the files.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadFlows } from '../../src/flows/flow-set.js';
import type { CompiledFlows, Lang } from '../../src/engine/types.js';
import { createLogger } from '../../src/logger.js';
import type { Lookup } from '../../src/runtime/lookups.js';
import { importStations, parseStationsCsv } from '../../src/stations/station-import.js';
import { createStationLookups } from '../../src/stations/station-lookups.js';
import { createDatabase, migrateToLatest, type Db } from '../../src/store/database.js';
import { parseTranscript, playTranscript } from '../support/transcript.js';

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
      for (const file of ['stations-fictional.csv', 'voters-fictional.csv']) {
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

const dir = join(process.cwd(), 'test', 'golden');
const update = process.env.UPDATE_GOLDEN === '1';
const compiled = new Map<string, CompiledFlows>();
function flowsFor(spelling: 'standard' | 'gsm7'): CompiledFlows {
  let flows = compiled.get(spelling);
  if (!flows) {
    flows = loadFlows({ flowsDir: 'flows', localesDir: 'locales', limits: { gsm7: 182, ucs2: 80 }, spelling });
    compiled.set(spelling, flows);
  }
  return flows;
}

for (const lang of ['fr', 'bm'] as const) {
  describe(`golden transcripts (${lang})`, () => {
    const files = readdirSync(join(dir, lang)).filter((f) => f.endsWith('.txt')).sort();
    it('has transcripts', () => {
      expect(files.length).toBeGreaterThanOrEqual(10);
    });
    for (const file of files) {
      it(file, async () => {
        const path = join(dir, lang, file);
        const content = readFileSync(path, 'utf8');
        const transcript = parseTranscript(content);
        const played = await playTranscript(flowsFor(transcript.spelling), transcript, lookupFor(file, transcript.stations));
        if (update) writeFileSync(path, played.text);
        else expect(played.text).toBe(content);
      });
    }
  });
}

describe('golden coverage', () => {
  // Replays every transcript itself, so that it holds alone (`-t coverage`) and in any order.
  const visitedByLang: Record<Lang, Set<string>> = { fr: new Set(), bm: new Set() };
  beforeAll(async () => {
    for (const lang of ['fr', 'bm'] as const) {
      for (const file of readdirSync(join(dir, lang)).filter((f) => f.endsWith('.txt'))) {
        const transcript = parseTranscript(readFileSync(join(dir, lang, file), 'utf8'));
        const played = await playTranscript(flowsFor(transcript.spelling), transcript, lookupFor(file, transcript.stations));
        for (const result of played.results.slice(1)) {
          visitedByLang[result.session.lang].add(result.session.node);
          for (const e of result.events) if (e.type === 'entered') visitedByLang[result.session.lang].add(e.node);
        }
      }
    }
  });

  it.each(['fr', 'bm'] as const)('visits every node in %s', (lang) => {
    const all = [...flowsFor('standard').nodes.keys()];
    const missing = all.filter((id) => !visitedByLang[lang].has(id));
    expect(missing).toEqual([]);
  });
});
