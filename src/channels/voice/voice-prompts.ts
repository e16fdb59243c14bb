/**
 * A screen said aloud: the engine's ScreenView turned into what a voice
 * gateway plays, for any voice gateway (Africa's Talking's XML is written in
 * channels/africastalking/voice-xml.ts).
 *
 * - A menu says each option and the key for it ("Comment voter, tapez un."),
 *   a language option in its own language; more than nine options are
 *   answered with the number then `#`.
 * - An information is followed by the key that repeats it; `0` goes back and
 *   `*` home wherever the USSD offers 0 and 00.
 * - A digits input, or a private one (a NINA: never recorded), is keyed and
 *   ends with `#`; any other free text is a recording.
 * - Every text is said from its recording when the content has one
 *   (src/flows/recordings.ts: a text with placeholders in parts, the values
 *   apart); otherwise by the gateway's text-to-speech, in a language that has
 *   one. Consecutive recordings are played as one file, so that the caller
 *   can answer while the options are read.
 */
import type { CompiledFlows, Lang, TextKey } from '../../engine/types.js';
import type { ScreenPart, ScreenView } from '../../engine/render.js';
import { VOICE_KEY_VAR, VOICE_TEXTS, voiceKeyText, voiceLetterText, type VoiceKeyName } from '../../flows/channel-texts.js';
import { templatePieces, textRecording, variableRecording } from '../../flows/recordings.js';

/** What the caller hears: a recording (media ids, played back to back) or words for the text-to-speech. */
export type Spoken = { readonly play: readonly string[]; /** the words recorded, for a caption */ readonly words: string } | { readonly say: string; readonly lang: Lang };

/** How the caller answers the screen. */
export type Gather =
  /** one key: the options are 1 to 9, with 0 and * */
  | { kind: 'key' }
  /** a number of one or two digits, then `#` (more than nine options) */
  | { kind: 'number' }
  /** digits, then `#` (a NINA) */
  | { kind: 'digits'; max: number }
  /** the caller speaks; `#` or silence ends it */
  | { kind: 'record' }
  /** the call ends on this screen */
  | { kind: 'none' };

export interface VoiceScreen {
  /** said in order; the last is the one the caller may answer over */
  readonly prompts: readonly Spoken[];
  readonly gather: Gather;
  /** the key that says the screen again (an information), handled by the channel, not the engine */
  readonly repeatKey?: string;
  /** the key that puts the caller through to an adviser, handled by the channel */
  readonly adviserKey?: string;
}

export interface VoiceSpeaker {
  /** the languages the gateway's text-to-speech speaks (VOICE_TTS_LANGUAGES) */
  readonly tts: ReadonlySet<Lang>;
}

/** The languages a content can offer on the voice line (voiceReady), in its order. */
export function voiceLanguages(flows: CompiledFlows, speaker: VoiceSpeaker): Lang[] {
  return flows.languages.filter((lang) => voiceReady(lang, speaker, flows.recordingCoverage));
}

/** A stretch of what is said: recorded (its media id), or words for the text-to-speech. */
export type Piece =
  | { rec: string; text: string; lang: Lang }
  | { tts: string; lang: Lang }
  /** punctuation between what is said: read by the text-to-speech, no recording of its own */
  | { mark: ',' | '.' };

/** The key the voice line says for a USSD code: `00` (home) is `*` on a keypad. */
const KEY_NAMES: Readonly<Record<string, VoiceKeyName>> = { '*': 'star', '#': 'hash' };
const keyName = (key: string): VoiceKeyName => KEY_NAMES[key] ?? (key as VoiceKeyName);

/** The voice line's keys for back and home. */
export const VOICE_BACK = '0';
export const VOICE_HOME = '*';

/** The pieces of a text in a language: each stretch of words from its recording or as words, each value apart. */
function pieces(flows: CompiledFlows, lang: Lang, key: TextKey, values: { vars?: Readonly<Record<string, string>>; varKeys?: Readonly<Record<string, TextKey>>; pressKey?: string }, depth = 0): Piece[] {
  const recording = (ref: string) => flows.recordings?.get(`${lang}/${ref}`);
  const raw = flows.rawText?.(lang, key) ?? flows.texts(lang, key, values.vars as Record<string, string> | undefined);
  const out: Piece[] = [];
  for (const piece of templatePieces(raw)) {
    if ('words' in piece) {
      const id = recording(textRecording(key, piece.part));
      out.push(id ? { rec: id, text: piece.words, lang } : { tts: piece.words, lang });
      continue;
    }
    const name = piece.name;
    if (name === VOICE_KEY_VAR && values.pressKey !== undefined && depth === 0) {
      // One key is said from its text (`un`, `étoile`); a number of two digits as a number.
      if (values.pressKey.length === 1) out.push(...pieces(flows, lang, voiceKeyText(keyName(values.pressKey)), {}, depth + 1));
      else out.push(...dataPieces(flows, lang, values.pressKey));
      continue;
    }
    const variable = flows.variables?.[lang]?.[name];
    if (variable !== undefined) {
      const id = recording(variableRecording(name));
      // Without its recording, a variable is said like data: a number from the key recordings (30 days).
      out.push(...(id ? [{ rec: id, text: variable, lang }] : dataPieces(flows, lang, variable)));
      continue;
    }
    const textKey = values.varKeys?.[name];
    if (textKey && depth === 0) {
      out.push(...pieces(flows, lang, textKey, {}, depth + 1));
      continue;
    }
    const value = values.vars?.[name];
    if (value !== undefined) out.push(...dataPieces(flows, lang, value));
  }
  return out;
}

/**
 * A value from data (a reference, a place name): its digits from the key
 * recordings when the language has them all, else words for the
 * text-to-speech, spaced out letter by letter when it is a code (KA-7Q4M2XH).
 */
function dataPieces(flows: CompiledFlows, lang: Lang, value: string): Piece[] {
  // A value with nothing to say (an address given as "-") is left out.
  if (!/[\p{L}\p{N}]/u.test(value)) return [];
  // A code (a reference KA-GBABAHP, KA-7Q4M2XH) is spelled out; a name is read as words.
  const code = /^[A-Z0-9]+(?:-[A-Z0-9]+)+$/.test(value) || (/^[A-Z0-9]+$/.test(value) && /[0-9]/.test(value) && /[A-Z]/.test(value));
  if (code || /^[0-9]+$/.test(value)) {
    // Digits and letters from their recordings when the language has them all (Bambara needs no text-to-speech for a reference).
    const chars = [...value.replace(/-/g, '')];
    const ids = chars.map((c) => flows.recordings?.get(`${lang}/${textRecording(/[0-9]/.test(c) ? voiceKeyText(c as VoiceKeyName) : voiceLetterText(c), 0)}`));
    if (ids.every(Boolean)) return ids.map((id, i) => ({ rec: id!, text: chars[i]!, lang }));
  }
  return [{ tts: code ? [...value.replace(/-/g, '')].join(' ') : value, lang }];
}

function partPieces(flows: CompiledFlows, lang: Lang, part: ScreenPart, pressKey?: string): Piece[] {
  if (part.key === null) return dataPieces(flows, lang, part.text);
  return pieces(flows, lang, part.key, { ...(part.vars ? { vars: part.vars } : {}), ...(part.varKeys ? { varKeys: part.varKeys } : {}), ...(pressKey !== undefined ? { pressKey } : {}) });
}

const instruction = (flows: CompiledFlows, lang: Lang, key: TextKey, pressKey?: string): Piece[] => pieces(flows, lang, key, pressKey !== undefined ? { pressKey } : {});

/**
 * What the caller hears on this screen, and how they answer it.
 *
 * @example
 * const screen = voiceScreen(flows, reply.view, { tts: new Set(['fr']) });
 * // screen.prompts: [{ play: ['3f…', '9a…'] }], screen.gather: { kind: 'key' }
 */
/** The key that puts a caller through to an adviser, on the home menu while advisers answer. */
export const VOICE_ADVISER = '9';

export function voiceScreen(flows: CompiledFlows, view: ScreenView, speaker: VoiceSpeaker, extra: { adviser?: boolean } = {}): VoiceScreen {
  const lang = view.lang;
  const said: Piece[] = [];
  for (const notice of view.notice) said.push(...partPieces(flows, lang, notice), { mark: '.' });
  if (view.body) said.push(...partPieces(flows, lang, view.body), { mark: '.' });
  const many = view.options.length > 9;
  const offered = new Set(voiceLanguages(flows, speaker));
  for (const option of view.options) {
    // A language the voice line cannot speak yet is not offered (its option keeps its number).
    if (option.lang && !offered.has(option.lang)) continue;
    const optionLang = option.lang ?? lang;
    said.push(...partPieces(flows, optionLang, option.label), { mark: ',' }, ...instruction(flows, optionLang, VOICE_TEXTS.press, option.number), { mark: '.' });
  }
  let repeatKey: string | undefined;
  let gather: Gather;
  if (view.end) gather = { kind: 'none' };
  else if (view.input) {
    // A private answer (a NINA) is keyed, never recorded: a recording would keep it at the gateway.
    const keyed = view.input.digits || view.input.private;
    gather = keyed ? { kind: 'digits', max: view.input.max } : { kind: 'record' };
    said.push(...instruction(flows, lang, keyed ? VOICE_TEXTS.digits : VOICE_TEXTS.record), { mark: '.' });
  } else {
    gather = many ? { kind: 'number' } : { kind: 'key' };
    if (view.kind === 'info') {
      repeatKey = view.options.length ? '2' : '1';
      said.push(...instruction(flows, lang, VOICE_TEXTS.repeat, repeatKey), { mark: '.' });
    }
    if (many) said.push(...instruction(flows, lang, VOICE_TEXTS.twoDigits), { mark: '.' });
  }
  // While advisers answer, the home menu offers one (its options stop before 9).
  const adviser = extra.adviser === true && view.node === flows.home && view.kind === 'menu' && view.options.length < 9;
  if (adviser) said.push(...instruction(flows, lang, VOICE_TEXTS.adviserOffer, VOICE_ADVISER), { mark: '.' });
  // A recording hears every key as sound until `#`: back and home are not offered on it.
  if (view.nav && !view.end && gather.kind !== 'record') said.push(...instruction(flows, lang, VOICE_TEXTS.back, VOICE_BACK), { mark: '.' }, ...instruction(flows, lang, VOICE_TEXTS.home, VOICE_HOME), { mark: '.' });
  return { prompts: spoken(said, speaker), gather, ...(repeatKey ? { repeatKey } : {}), ...(adviser ? { adviserKey: VOICE_ADVISER } : {}) };
}

/**
 * The pieces as the gateway plays them. In a language with a
 * text-to-speech, one missing recording makes the whole screen spoken (one
 * voice, and the caller may answer at any time); otherwise recordings are
 * joined into one file per stretch, with words between them spoken.
 */
export function spoken(said: readonly Piece[], speaker: VoiceSpeaker): Spoken[] {
  const out: Spoken[] = [];
  const ttsLangs = new Set(said.flatMap((p) => ('tts' in p ? [p.lang] : [])));
  // A recording in a language the text-to-speech cannot read (Bamanankan on the language menu) is always played.
  const allSpoken = said.some((p) => 'tts' in p) && [...ttsLangs].every((l) => speaker.tts.has(l)) && said.every((p) => !('rec' in p) || speaker.tts.has(p.lang));
  if (allSpoken) {
    const lang = said.find((p): p is Extract<Piece, { tts: string }> => 'tts' in p)!.lang;
    return [{ say: tidy(said.map((p) => ('tts' in p ? p.tts : 'rec' in p ? p.text : p.mark)).join(' ')), lang }];
  }
  for (const p of said) {
    const last = out[out.length - 1];
    if ('mark' in p) {
      if (last && 'say' in last) out[out.length - 1] = { say: tidy(`${last.say}${p.mark}`), lang: last.lang };
      continue;
    }
    if ('rec' in p) {
      if (last && 'play' in last) out[out.length - 1] = { play: [...last.play, p.rec], words: tidy(`${last.words} ${p.text}`) };
      else out.push({ play: [p.rec], words: tidy(p.text) });
    } else if (last && 'say' in last && last.lang === p.lang) {
      out[out.length - 1] = { say: tidy(`${last.say} ${p.tts}`), lang: p.lang };
    } else {
      out.push({ say: tidy(p.tts), lang: p.lang });
    }
  }
  return out;
}

/** Words as the text-to-speech reads them: one line, single spaces, no space before punctuation, one mark where two meet. */
function tidy(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/ ([.,;:!?])/g, '$1')
    .replace(/([.!?:;]),/g, '$1')
    .replace(/,([.!?:;])/g, '$1')
    .replace(/([.!?:;])\.+/g, '$1')
    .replace(/^[.,]\s*/, '')
    .trim();
}

/** Whether a language can be offered on the voice line: spoken by the text-to-speech, or every prompt recorded. */
export function voiceReady(lang: Lang, speaker: VoiceSpeaker, coverage: ReadonlyMap<Lang, { needed: number; have: number }> | undefined): boolean {
  if (speaker.tts.has(lang)) return true;
  const c = coverage?.get(lang);
  return c !== undefined && c.needed > 0 && c.have === c.needed;
}

/** What keys pressed on a screen mean: an answer for the engine, or one the channel gives itself. */
export type KeysMeaning = { kind: 'engine'; input: string } | { kind: 'repeat' } | { kind: 'adviser' };

/** The position a voice gateway keeps after a screen: the keys the channel answers itself. */
export function screenMarks(screen: Pick<VoiceScreen, 'repeatKey' | 'adviserKey'>): string {
  return [screen.repeatKey ? `repeat:${screen.repeatKey}` : '', screen.adviserKey ? `adviser:${screen.adviserKey}` : ''].filter(Boolean).join(';');
}

/**
 * What the keys pressed mean after the screen that left `marks`: the key
 * that repeats it, the adviser's key, or the engine's input (`*` is home,
 * `00` on USSD; `#` alone answers nothing valid).
 */
export function readKeys(marks: string, keys: string): KeysMeaning {
  const kept = marks.split(';');
  if (kept.includes(`repeat:${keys}`)) return { kind: 'repeat' };
  if (kept.includes(`adviser:${keys}`)) return { kind: 'adviser' };
  if (keys === VOICE_HOME) return { kind: 'engine', input: '00' };
  return { kind: 'engine', input: keys === '' ? '#' : keys };
}
