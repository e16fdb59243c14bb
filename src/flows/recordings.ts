/**
 * The recorded prompts of a content: `recordings/<lang>/<namespace>/<key>.mp3`
 * (or `.wav`) for a text, `recordings/<lang>/variables/<name>.mp3` for an
 * admin variable's value. A text with placeholders is recorded in parts, one
 * file per stretch of words between them, numbered from 1
 * (`report/submitted.text.1.mp3` for "Votre référence : " in
 * "Votre référence : {{ref}}."): the values are said apart.
 *
 * The checker reads them beside the texts: which the voice line needs in each
 * language, which are there, and recordings of texts that no longer exist.
 */
import { relative } from 'node:path';
import type { Lang, TextKey } from '../engine/types.js';
import { readRecordings, RECORDING_PATH } from '../content/content-files.js';
import { mediaOf, wordsHash, wordsOf } from '../content/media-id.js';
import type { Problem } from './problems.js';

/** A text split at its placeholders: stretches of words, and the names between them. */
export type TemplatePiece = { readonly words: string; readonly part: number } | { readonly name: string };

const PLACEHOLDER = /\{\{\s*([a-zA-Z0-9_]+)\s*\}\}/g;
/** Words worth a recording: something to say, not a lone full stop. */
const SPEAKABLE = /[\p{L}\p{N}]/u;

/**
 * A text as the voice line says it: each stretch of words between
 * placeholders has its part number (0 when the text has no placeholder: the
 * whole text is one recording), each placeholder its name.
 */
export function templatePieces(raw: string): TemplatePiece[] {
  const pieces: TemplatePiece[] = [];
  const hasPlaceholder = PLACEHOLDER.test(raw);
  PLACEHOLDER.lastIndex = 0;
  let at = 0;
  let part = 0;
  const words = (text: string) => {
    if (!SPEAKABLE.test(text)) return;
    part += 1;
    pieces.push({ words: text, part: hasPlaceholder ? part : 0 });
  };
  for (const m of raw.matchAll(PLACEHOLDER)) {
    words(raw.slice(at, m.index));
    pieces.push({ name: m[1]! });
    at = m.index + m[0].length;
  }
  words(raw.slice(at));
  return pieces;
}

/** The recording of a text's part: `main/home.title`, `report/submitted.text.1`. */
export function textRecording(key: TextKey, part: number): string {
  const [ns, k] = key.split(':') as [string, string];
  return part ? `${ns}/${k}.${part}` : `${ns}/${k}`;
}
export const variableRecording = (name: string) => `variables/${name}`;

/** The recordings of a content, by `<lang>/<ref>` (ref: `main/home.title`, `variables/polling_hours`): the media id of each. */
export type RecordingMap = ReadonlyMap<string, string>;

export interface RecordingCoverage {
  lang: Lang;
  /** recordings the voice line needs in this language */
  needed: number;
  have: number;
  /** every one missing, as refs */
  missing: string[];
  /** every prompt the voice line needs in this language, in order, with the words it says now */
  prompts: { ref: string; words: string }[];
}

/**
 * Reads the recordings folder and measures it against what the voice line
 * says: `spoken` are the texts it says (keys), `raw` gives a text as its
 * locale file holds it, `variables` the admin variables' names.
 */
export function checkRecordings(opts: {
  dir: string;
  root: string;
  languages: readonly Lang[];
  spoken: readonly TextKey[];
  raw: (lang: Lang, key: TextKey) => string | undefined;
  variables: ReadonlySet<string>;
  /** an admin variable's value in a language, to tell a recording made for another value */
  variableValue?: (lang: Lang, name: string) => string | undefined;
}): { recordings: RecordingMap; coverage: RecordingCoverage[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const found = new Map<string, string>();
  /** the words each recording was made for (a hash), where its reference says */
  const recordedFor = new Map<string, { hash: string; path: string }>();
  let files: Record<string, string> = {};
  try {
    files = readRecordings(opts.dir);
  } catch (err) {
    problems.push({ file: relative(opts.root, opts.dir), line: 1, col: 1, severity: 'error', message: (err as Error).message });
  }
  const fileOf = (path: string) => relative(opts.root, `${opts.dir}/${path.slice('recordings/'.length)}`);
  for (const [path, ref] of Object.entries(files)) {
    const m = RECORDING_PATH.exec(path)!;
    const id = `${m[1]}/${m[2]}/${m[3]}`;
    if (found.has(id)) {
      problems.push({ file: fileOf(path), line: 1, col: 1, severity: 'error', message: `two recordings of ${m[2]}/${m[3]} in ${m[1]} (keep one of .mp3 and .wav)` });
      continue;
    }
    found.set(id, mediaOf(ref)!);
    const words = wordsOf(ref);
    if (words) recordedFor.set(id, { hash: words, path });
  }
  /** what each needed recording says now, by `<lang>/<ref>` */
  const wordsNow = new Map<string, string>();
  const coverage: RecordingCoverage[] = [];
  const needed = new Set<string>();
  for (const lang of opts.languages) {
    const refs = new Set<string>();
    for (const key of opts.spoken) {
      const raw = opts.raw(lang, key);
      if (raw === undefined) continue;
      for (const piece of templatePieces(raw)) {
        if ('words' in piece) {
          refs.add(textRecording(key, piece.part));
          wordsNow.set(`${lang}/${textRecording(key, piece.part)}`, piece.words);
        } else if (opts.variables.has(piece.name)) {
          refs.add(variableRecording(piece.name));
          const value = opts.variableValue?.(lang, piece.name);
          if (value !== undefined) wordsNow.set(`${lang}/${variableRecording(piece.name)}`, value);
        }
      }
    }
    for (const ref of refs) needed.add(`${lang}/${ref}`);
    const missing = [...refs].filter((ref) => !found.has(`${lang}/${ref}`));
    const prompts = [...refs].map((ref) => ({ ref, words: wordsNow.get(`${lang}/${ref}`) ?? '' }));
    coverage.push({ lang, needed: refs.size, have: refs.size - missing.length, missing, prompts });
  }
  for (const [id, { hash, path }] of recordedFor) {
    const now = wordsNow.get(id);
    if (now !== undefined && wordsHash(now) !== hash) {
      problems.push({ file: fileOf(path), line: 1, col: 1, severity: 'warning', message: `recording of ${id} is older than its text: it was recorded for other words (record it again: "${now.trim().slice(0, 60)}")` });
    }
  }
  for (const [id] of found) {
    const [lang] = id.split('/');
    if (!opts.languages.includes(lang!)) {
      problems.push({ file: relative(opts.root, `${opts.dir}/${id}`), line: 1, col: 1, severity: 'warning', message: `recording in ${lang}, which is no language of languages.yaml` });
    } else if (!needed.has(id)) {
      problems.push({ file: relative(opts.root, `${opts.dir}/${id}`), line: 1, col: 1, severity: 'warning', message: `recording of ${id.slice(lang!.length + 1)}, which the voice line never says (a text removed, or a part number the text no longer has)` });
    }
  }
  return { recordings: found, coverage, problems };
}
