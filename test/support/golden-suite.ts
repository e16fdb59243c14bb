/**
 * The golden transcripts of one content (its flows/ and locales/): for each
 * language of its flows/languages.yaml, every `<goldenDir>/<lang>/*.txt` is
 * replayed through the engine and compared with the file screen by screen,
 * and together they must visit every node in that language.
 * `UPDATE_GOLDEN=1` rewrites the screens from the inputs.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { CompiledFlows, Lang } from '../../src/engine/types.js';
import { loadFlows } from '../../src/flows/flow-set.js';
import type { Lookup } from '../../src/runtime/lookups.js';
import { parseTranscript, playTranscript, type Transcript } from './transcript.js';

export interface GoldenSuite {
  /** holds flows/ and locales/ */
  contentRoot: string;
  /** holds one folder of transcripts per language */
  goldenDir: string;
  /** the lookups a transcript's call gets (by file name and its `stations:` header) */
  lookupFor?: (file: string, stations: Transcript['stations']) => Lookup | undefined;
  /** each language has at least this many transcripts */
  minTranscripts: number;
}

export function goldenSuite(suite: GoldenSuite): void {
  const update = process.env.UPDATE_GOLDEN === '1';
  const compiled = new Map<string, CompiledFlows>();
  const flowsFor = (spelling: string): CompiledFlows => {
    let flows = compiled.get(spelling);
    if (!flows) {
      const root = suite.contentRoot;
      flows = loadFlows({ flowsDir: join(root, 'flows'), localesDir: join(root, 'locales'), limits: { gsm7: 182, ucs2: 80 }, spelling, root });
      compiled.set(spelling, flows);
    }
    return flows;
  };
  const languages = flowsFor('standard').languages;
  const filesOf = (lang: Lang) => readdirSync(join(suite.goldenDir, lang)).filter((f) => f.endsWith('.txt')).sort();
  const play = (lang: Lang, file: string) => {
    const transcript = parseTranscript(readFileSync(join(suite.goldenDir, lang, file), 'utf8'));
    return playTranscript(flowsFor(transcript.spelling), transcript, suite.lookupFor?.(file, transcript.stations));
  };

  for (const lang of languages) {
    describe(`golden transcripts (${lang})`, () => {
      const files = filesOf(lang);
      it('has transcripts', () => {
        expect(files.length).toBeGreaterThanOrEqual(suite.minTranscripts);
      });
      for (const file of files) {
        it(file, async () => {
          const path = join(suite.goldenDir, lang, file);
          const played = await play(lang, file);
          if (update) writeFileSync(path, played.text);
          else expect(played.text).toBe(readFileSync(path, 'utf8'));
        });
      }
    });
  }

  describe('golden coverage', () => {
    // Replays every transcript itself, so that it holds alone (`-t coverage`) and in any order.
    const visited = new Map<Lang, Set<string>>(languages.map((lang) => [lang, new Set()]));
    beforeAll(async () => {
      for (const lang of languages) {
        for (const file of filesOf(lang)) {
          for (const result of (await play(lang, file)).results.slice(1)) {
            const seen = visited.get(result.session.lang) ?? visited.set(result.session.lang, new Set()).get(result.session.lang)!;
            seen.add(result.session.node);
            for (const e of result.events) if (e.type === 'entered') seen.add(e.node);
          }
        }
      }
    });

    it.each([...languages])('visits every node in %s', (lang) => {
      const missing = [...flowsFor('standard').nodes.keys()].filter((id) => !visited.get(lang)!.has(id));
      expect(missing).toEqual([]);
    });
  });
}
