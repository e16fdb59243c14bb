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
import type { CompiledFlows, Lang, StepResult } from '../../src/engine/types.js';
import { checkFlows, loadFlows } from '../../src/flows/flow-set.js';
import type { Lookup } from '../../src/runtime/lookups.js';
import { parseTranscript, playTranscript, type Transcript } from './transcript.js';
import { playVoiceTranscript, withEveryRecording } from './voice-transcript.js';

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
  const play = (lang: Lang, file: string) => {
    const transcript = parseTranscript(readFileSync(join(suite.goldenDir, lang, file), 'utf8'));
    return playTranscript(flowsFor(transcript.spelling), transcript, suite.lookupFor?.(file, transcript.stations));
  };

  transcriptSuite({ title: 'golden transcripts', languages, nodes: () => [...flowsFor('standard').nodes.keys()], goldenDir: suite.goldenDir, minTranscripts: suite.minTranscripts, play });
}

/**
 * The golden voice transcripts of the repo's content: `<goldenDir>/<lang>/*.txt`
 * played through the voice line's prompts, French by text-to-speech and every
 * other language from a recording of each prompt; together they visit every
 * node in each language.
 */
export function voiceGoldenSuite(suite: Omit<GoldenSuite, 'contentRoot'> & { contentRoot: string }): void {
  const speaker = { tts: new Set(['fr']) };
  const root = suite.contentRoot;
  const check = checkFlows({ flowsDir: join(root, 'flows'), localesDir: join(root, 'locales'), limits: { gsm7: 182, ucs2: 80 }, spelling: 'standard', root });
  let flows = check.flows!;
  for (const c of check.recordings ?? []) if (!speaker.tts.has(c.lang)) flows = withEveryRecording(flows, c.lang, c.missing);
  const languages = flows.languages;
  const play = (lang: Lang, file: string) => {
    const transcript = parseTranscript(readFileSync(join(suite.goldenDir, lang, file), 'utf8'));
    return playVoiceTranscript(flows, speaker, transcript, suite.lookupFor?.(file, transcript.stations));
  };
  transcriptSuite({ title: 'golden voice transcripts', languages, nodes: () => [...flows.nodes.keys()], goldenDir: suite.goldenDir, minTranscripts: suite.minTranscripts, play });
}

/**
 * The tests of one set of transcripts: each file played and compared (or
 * rewritten with UPDATE_GOLDEN=1), and together they visit every node in
 * each language.
 */
function transcriptSuite(t: {
  title: string;
  languages: readonly Lang[];
  nodes: () => string[];
  goldenDir: string;
  minTranscripts: number;
  play: (lang: Lang, file: string) => Promise<{ text: string; results: StepResult[] }>;
}): void {
  const update = process.env.UPDATE_GOLDEN === '1';
  const filesOf = (lang: Lang) => readdirSync(join(t.goldenDir, lang)).filter((f) => f.endsWith('.txt')).sort();
  for (const lang of t.languages) {
    describe(`${t.title} (${lang})`, () => {
      const files = filesOf(lang);
      it('has transcripts', () => {
        expect(files.length).toBeGreaterThanOrEqual(t.minTranscripts);
      });
      for (const file of files) {
        it(file, async () => {
          const path = join(t.goldenDir, lang, file);
          const played = await t.play(lang, file);
          if (update) writeFileSync(path, played.text);
          else expect(played.text).toBe(readFileSync(path, 'utf8'));
        });
      }
    });
  }
  describe(`${t.title}: coverage`, () => {
    // Replays every transcript itself, so that it holds alone (`-t coverage`) and in any order.
    const visited = new Map<Lang, Set<string>>(t.languages.map((lang) => [lang, new Set()]));
    beforeAll(async () => {
      for (const lang of t.languages) {
        for (const file of filesOf(lang)) {
          for (const result of (await t.play(lang, file)).results.slice(1)) {
            const seen = visited.get(result.session.lang) ?? visited.set(result.session.lang, new Set()).get(result.session.lang)!;
            seen.add(result.session.node);
            for (const e of result.events) if (e.type === 'entered') seen.add(e.node);
          }
        }
      }
    });
    it.each([...t.languages])('visits every node in %s', (lang) => {
      const missing = t.nodes().filter((id) => !visited.get(lang)!.has(id));
      expect(missing).toEqual([]);
    });
  });
}
