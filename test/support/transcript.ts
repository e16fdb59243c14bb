/**
 * Golden transcripts: a conversation as the caller sees it, one file each.
 *
 *   # what the conversation shows
 *   lang: fr            (the language the call starts in)
 *   known: no           (yes: the caller's language is remembered, no language menu)
 *   spelling: standard  (optional: a spelling of languages.yaml, gsm7 folds Bambara)
 *   stations: none      (optional: no polling stations imported; default: the fictional fixtures)
 *
 *   CON Kalata. Langue / Kan:
 *   1. Français
 *   ...
 *   > 1
 *   CON ...
 *
 * Lines starting with `> ` are the caller's inputs; everything else is what
 * the engine shows. `UPDATE_GOLDEN=1` rewrites the screens from the inputs.
 */
import type { CompiledFlows, Effect, Lang, StepResult } from '../../src/engine/types.js';
import { start, step } from '../../src/engine/step.js';
import { settle, type Lookup } from '../../src/runtime/lookups.js';
import { LANGUAGE_CODE } from '../../src/i18n/languages.js';

export const GOLDEN_REF = 'KA-7Q4M2XH';

export interface Transcript {
  title: string;
  lang: Lang;
  known: boolean;
  /** `standard`, or a spelling name of flows/languages.yaml */
  spelling: string;
  /** none: the lookups answer from an empty list of polling stations */
  stations: 'fixtures' | 'none';
  inputs: string[];
}

export function parseTranscript(content: string): Transcript {
  const lines = content.split('\n');
  const header = (name: string) => lines.find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1).trim();
  const lang = header('lang');
  if (!lang || !LANGUAGE_CODE.test(lang)) throw new Error('a transcript names its language: `lang: fr`, `lang: bm`, ...');
  return {
    title: lines[0]!.replace(/^#\s*/, ''),
    lang,
    known: header('known') === 'yes',
    spelling: header('spelling') || 'standard',
    stations: header('stations') === 'none' ? 'none' : 'fixtures',
    inputs: lines.filter((l) => l.startsWith('> ')).map((l) => l.slice(2)),
  };
}

function formatEffect(effect: Effect): string {
  return `  [effect ${JSON.stringify(effect)}]`;
}

function screenLines(result: StepResult): string[] {
  const [first, ...rest] = result.screen.text.split('\n');
  return [`${result.screen.end ? 'END' : 'CON'} ${first}`, ...rest, ...result.effects.map(formatEffect)];
}

export interface Played {
  text: string;
  results: StepResult[];
}

/**
 * Plays a transcript's inputs through the engine, with `lookup` answering its
 * lookups, and renders the whole conversation.
 */
export async function playTranscript(flows: CompiledFlows, t: Transcript, lookup?: Lookup): Promise<Played> {
  const out = [`# ${t.title}`, `lang: ${t.lang}`, `known: ${t.known ? 'yes' : 'no'}`];
  if (t.spelling !== 'standard') out.push(`spelling: ${t.spelling}`);
  if (t.stations !== 'fixtures') out.push(`stations: ${t.stations}`);
  out.push('');
  let result = await settle(flows, start(flows, { id: 'golden', ref: GOLDEN_REF, lang: t.lang, languageKnown: t.known }, 0), lookup, 0);
  const results = [result];
  out.push(...screenLines(result));
  for (const [i, input] of t.inputs.entries()) {
    if (result.session.ended) throw new Error(`input ${i + 1} ("${input}") comes after the call ended`);
    out.push(`> ${input}`);
    result = await settle(flows, step(flows, result.session, input, i + 1), lookup, i + 1);
    results.push(result);
    out.push(...screenLines(result));
  }
  return { text: `${out.join('\n')}\n`, results };
}
