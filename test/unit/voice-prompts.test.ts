/**
 * How the voice line chooses between a recording and the text-to-speech
 * (channels/voice/voice-prompts.ts), on the repo's flows: French recorded
 * in full is played, not read; one prompt missing and the French screen is
 * read whole (one voice, answerable at any time); a Bambara recording on the
 * French language menu is always played; a free-text input is a recording
 * with no back or home said over it.
 */
import { describe, expect, it } from '@jest/globals';
import { screenView } from '../../src/engine/render.js';
import { start, step } from '../../src/engine/step.js';
import type { CompiledFlows } from '../../src/engine/types.js';
import { voiceScreen } from '../../src/channels/voice/voice-prompts.js';
import { checkFlows } from '../../src/flows/flow-set.js';
import { withEveryRecording } from '../support/voice-transcript.js';

const check = checkFlows({ flowsDir: 'flows', localesDir: 'locales', limits: { gsm7: 182, ucs2: 80 }, spelling: 'standard' });
const needed = (lang: string) => check.recordings!.find((c) => c.lang === lang)!.missing;
const speaker = { tts: new Set(['fr']) };
const home = (flows: CompiledFlows) => {
  const first = start(flows, { id: 't', ref: 'KA-7Q4M2XH', lang: 'fr', languageKnown: true }, 0);
  return voiceScreen(flows, screenView(flows, first.session), speaker);
};

describe('recording or text-to-speech', () => {
  it('plays French recorded in full, as one joined file the caller answers over', () => {
    const flows = withEveryRecording(check.flows!, 'fr', needed('fr'));
    const screen = home(flows);
    expect(screen.prompts).toHaveLength(1);
    expect(screen.prompts[0]).toMatchObject({ play: expect.arrayContaining(['fr/main/home.title', 'fr/voice/press.1', 'fr/voice/key.1']), words: expect.stringContaining('Comment voter') });
  });

  it('reads a French screen whole when one of its prompts is missing', () => {
    const flows = withEveryRecording(check.flows!, 'fr', needed('fr').filter((ref) => ref !== 'main/home.help'));
    expect(home(flows).prompts).toEqual([{ say: expect.stringMatching(/^Kalata: infos sur le vote\. Comment voter, tapez un\./), lang: 'fr' }]);
  });

  it('always plays a Bambara recording, even on a French screen read by the text-to-speech', () => {
    const flows = withEveryRecording(check.flows!, 'bm', needed('bm'));
    const menu = start(flows, { id: 't', ref: 'KA-7Q4M2XH', lang: 'fr', languageKnown: false }, 0);
    const prompts = voiceScreen(flows, screenView(flows, menu.session), speaker).prompts;
    expect(prompts.map((p) => ('say' in p ? 'say' : 'play'))).toEqual(['say', 'play']);
    expect(prompts[1]).toMatchObject({ play: ['bm/main/language.bm', 'bm/voice/key.2', 'bm/voice/press.1'] });
  });

  it('asks for a recording on a free-text input, and offers no back or home over it', () => {
    const flows = withEveryRecording(check.flows!, 'bm', needed('bm'));
    let r = start(flows, { id: 't', ref: 'KA-7Q4M2XH', lang: 'bm', languageKnown: true }, 0);
    for (const input of ['2', '1', '2', '1', '1']) r = step(flows, r.session, input, 1);
    const place = voiceScreen(flows, screenView(flows, r.session), speaker);
    expect(place.gather).toEqual({ kind: 'record' });
    expect(place.prompts.flatMap((p) => ('play' in p ? p.play : [])).filter((ref) => /nav\.(back|home)/.test(ref))).toEqual([]);
  });
});
