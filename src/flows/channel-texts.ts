/**
 * Texts a channel says besides the flows' own: the voice line's
 * instructions ("tapez 1", "parlez après le bip"), in `locales/<lang>/voice.json`.
 * A content with a `voice` namespace in its source language serves the
 * voice line, and then every language must have every one of these texts
 * (the validator checks them like the common texts); a content without it
 * has no voice line.
 */
import type { TextKey } from '../engine/types.js';
import { COMMON_TEXTS } from './flow-compiler.js';

export const VOICE_NS = 'voice';
/** The one placeholder of the voice texts: the key to press, said from `key.*` (`tapez {{key}}.`, `{{key}} digi.`). */
export const VOICE_KEY_VAR = 'key';

/** A key pressed, as said: `0`–`9`, `*` (star) and `#` (hash). */
export const VOICE_KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'star', 'hash'] as const;
export type VoiceKeyName = (typeof VOICE_KEYS)[number];

export const VOICE_TEXTS = Object.freeze({
  /** after an option's label: `tapez {{key}}.` (the key is said from `key.*`) */
  press: 'voice:press',
  /** the back and home keys, on a screen that offers them: `Pour revenir, tapez {{key}}.` */
  back: 'voice:nav.back',
  home: 'voice:nav.home',
  /** after an information: the key to hear it again (`1`, or `2` when `1` goes on) */
  repeat: 'voice:info.repeat',
  /** on a list of more than nine: the number, then `#` */
  twoDigits: 'voice:choice.two_digits',
  /** on a digits input (a NINA): the digits, then `#` */
  digits: 'voice:input.digits',
  /** before a recorded answer: speak after the beep, `#` to finish */
  record: 'voice:input.record',
  /** when the caller said nothing: once the prompt again, then goodbye */
  silence: 'voice:silence.again',
  goodbye: 'voice:silence.goodbye',
  /** how a screen names an answer given as a recording */
  recorded: 'voice:answer.recorded',
  /** on the home menu while advisers answer (flows/voice.yaml): the key that puts the caller through */
  adviserOffer: 'voice:adviser.offer',
  /** said before the call is put through */
  adviserConnecting: 'voice:adviser.connecting',
});

/** The text saying a key: `voice:key.1`, `voice:key.star`. */
export const voiceKeyText = (key: VoiceKeyName): TextKey => `voice:key.${key}`;

/** The letters a reference is spelled with (KA-7Q4M2XH), said from `letter.*` in a language without text-to-speech. */
export const VOICE_LETTERS = 'abcdefghijklmnopqrstuvwxyz'.split('');
export const voiceLetterText = (letter: string): TextKey => `voice:letter.${letter.toLowerCase()}`;

/** Every text the voice line needs, in every language. */
export const VOICE_TEXT_KEYS: readonly TextKey[] = [...Object.values(VOICE_TEXTS), ...VOICE_KEYS.map(voiceKeyText), ...VOICE_LETTERS.map(voiceLetterText)];

/** Whether a content serves the voice line: its source language has a `voice` namespace. */
export function hasVoiceTexts(resources: Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>, source: string): boolean {
  return resources[source]?.[VOICE_NS] !== undefined;
}

/** The common texts the voice line says: all but the USSD's paging and navigation lines (it says its own). */
export function voiceCommonTexts(): TextKey[] {
  // Read when called: flow-compiler.ts imports this module for VOICE_TEXTS.
  return Object.entries(COMMON_TEXTS)
    .filter(([name]) => !['more', 'backHome', 'noMore'].includes(name))
    .map(([, key]) => key);
}

/** Every text the voice line may say: the flows' own (SMS texts excepted), the common ones, its own instructions. */
export function spokenTexts(flowTexts: readonly TextKey[]): TextKey[] {
  return [...new Set([...flowTexts.filter((key) => !key.startsWith('sms:')), ...voiceCommonTexts(), ...VOICE_TEXT_KEYS])];
}
