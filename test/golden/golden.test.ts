/**
 * Every conversation in test/golden/{fr,bm}/*.txt is replayed through the
 * engine on the real flows and compared with the file, screen by screen.
 * Together they must visit every node in each language.
 * `UPDATE_GOLDEN=1 npm test -- test/golden` rewrites the files.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadFlows } from '../../src/flows/flow-set.js';
import type { CompiledFlows, Lang } from '../../src/engine/types.js';
import { parseTranscript, playTranscript } from '../support/transcript.js';

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

const visitedByLang: Record<Lang, Set<string>> = { fr: new Set(), bm: new Set() };

for (const lang of ['fr', 'bm'] as const) {
  describe(`golden transcripts (${lang})`, () => {
    const files = readdirSync(join(dir, lang)).filter((f) => f.endsWith('.txt')).sort();
    it('has transcripts', () => {
      expect(files.length).toBeGreaterThanOrEqual(10);
    });
    for (const file of files) {
      it(file, () => {
        const path = join(dir, lang, file);
        const content = readFileSync(path, 'utf8');
        const transcript = parseTranscript(content);
        const played = playTranscript(flowsFor(transcript.spelling), transcript);
        for (const result of played.results.slice(1)) visitedByLang[result.session.lang].add(result.session.node);
        if (update) writeFileSync(path, played.text);
        else expect(played.text).toBe(content);
      });
    }
  });
}

describe('golden coverage', () => {
  it.each(['fr', 'bm'] as const)('visits every node in %s', (lang) => {
    const all = [...flowsFor('standard').nodes.keys()];
    const missing = all.filter((id) => !visitedByLang[lang].has(id));
    expect(missing).toEqual([]);
  });
});
