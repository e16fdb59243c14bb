/**
 * Golden voice transcripts: a call on the voice line as the caller hears it.
 *
 *   # what the call shows
 *   lang: fr            (the language the call starts in)
 *   known: no           (yes: the caller's language is remembered)
 *
 *   SAY Kalata. Choisissez votre langue. Français, tapez un.
 *   PLAY bm/main/language.bm + bm/voice/press.1 + bm/voice/key.2
 *     [key]
 *   > 1
 *   ...
 *   > [rec https://voice.example/rec/1.mp3]
 *
 * `SAY` is the gateway's text-to-speech (with the language when it is not
 * one it reads), `PLAY` the recordings said one after another, by their
 * place in recordings/; the line after them is how the caller answers
 * (`[key]`, `[number #]`, `[digits #]`, `[record]`, `[end]`). A `> ` line is
 * what the caller does: keys, or a recording's address. It is played through
 * the engine and the voice line's own prompt builder and key reader, as the
 * Africa's Talking handler does.
 */
import type { CompiledFlows, Effect, Lang, Session, StepResult } from '../../src/engine/types.js';
import { answerRecording, start, step } from '../../src/engine/step.js';
import { screenView } from '../../src/engine/render.js';
import { settle, type Lookup } from '../../src/runtime/lookups.js';
import { readKeys, screenMarks, voiceScreen, type VoiceScreen, type VoiceSpeaker } from '../../src/channels/voice/voice-prompts.js';
import { parseTranscript, GOLDEN_REF, type Transcript } from './transcript.js';

export { parseTranscript };

function screenLines(screen: VoiceScreen, speaker: VoiceSpeaker): string[] {
  const lines = screen.prompts.map((p) => ('say' in p ? `SAY ${speaker.tts.has(p.lang) ? '' : `[${p.lang}] `}${p.say}` : `PLAY ${p.play.join(' + ')}`));
  const g = screen.gather;
  lines.push(`  [${g.kind === 'key' ? 'key' : g.kind === 'number' ? 'number #' : g.kind === 'digits' ? 'digits #' : g.kind === 'record' ? 'record' : 'end'}]`);
  return lines;
}

const effectLine = (effect: Effect) => `  [effect ${JSON.stringify(effect)}]`;

/** Plays a voice transcript's inputs and renders the whole call. */
export async function playVoiceTranscript(flows: CompiledFlows, speaker: VoiceSpeaker, t: Transcript, lookup?: Lookup): Promise<{ text: string; results: StepResult[] }> {
  const out = [`# ${t.title}`, `lang: ${t.lang}`, `known: ${t.known ? 'yes' : 'no'}`];
  if (t.stations !== 'fixtures') out.push(`stations: ${t.stations}`);
  out.push('');
  let result = await settle(flows, start(flows, { id: 'golden', ref: GOLDEN_REF, lang: t.lang, languageKnown: t.known }, 0), lookup, 0);
  const results = [result];
  const show = (session: Session) => {
    const screen = voiceScreen(flows, screenView(flows, session), speaker);
    out.push(...screenLines(screen, speaker));
    return screenMarks(screen);
  };
  let marks = show(result.session);
  for (const [i, input] of t.inputs.entries()) {
    if (result.session.ended) throw new Error(`input ${i + 1} ("${input}") comes after the call ended`);
    out.push(`> ${input}`);
    const rec = /^\[rec (\S+)\]$/.exec(input);
    if (!rec) {
      const meaning = readKeys(marks, input);
      if (meaning.kind !== 'engine') {
        marks = show(result.session);
        continue;
      }
      result = await settle(flows, step(flows, result.session, meaning.input, i + 1), lookup, i + 1);
    } else {
      result = await settle(flows, answerRecording(flows, result.session, rec[1]!, i + 1), lookup, i + 1);
    }
    results.push(result);
    out.push(...result.effects.map(effectLine));
    marks = show(result.session);
  }
  return { text: `${out.join('\n')}\n`, results };
}

/** The flows with every prompt of `lang` recorded, each recording named by its place (`bm/main/home.title`). */
export function withEveryRecording(flows: CompiledFlows, lang: Lang, needed: readonly string[]): CompiledFlows {
  const recordings = new Map(flows.recordings ?? []);
  for (const ref of needed) recordings.set(`${lang}/${ref}`, `${lang}/${ref}`);
  const coverage = new Map(flows.recordingCoverage ?? []);
  coverage.set(lang, { needed: needed.length, have: needed.length });
  return { ...flows, recordings, recordingCoverage: coverage };
}
