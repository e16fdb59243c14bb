/**
 * What changed between two versions' content, file by file, as lines added
 * and removed with a little context around them: what an admin reads before
 * publishing, and what the other admin changed when a publish is refused.
 */
import { structuredPatch } from 'diff';
import type { ContentFiles } from './content-files.js';

export interface DiffLine {
  kind: 'added' | 'removed' | 'same';
  text: string;
  /** the line's number in the file before (removed, same) or after (added, same) */
  line: number;
}

export interface FileDiff {
  file: string;
  change: 'added' | 'removed' | 'changed';
  added: number;
  removed: number;
  /** runs of changed lines with their context; empty when `tooLarge` */
  hunks: DiffLine[][];
  /** the diff took too long to compute: only the counts of lines are given (whole file) */
  tooLarge?: true;
}

/** A diff of a content file gives up past this (a whole file rewritten); the page then says so. */
const DIFF_TIMEOUT_MS = 250;

/**
 * The files of `after` that differ from `before`, in path order.
 *
 * @example
 * diffContent(live.files, draft)[0] // { file: 'locales/fr/main.json', change: 'changed', added: 1, removed: 1, hunks: [...] }
 */
export function diffContent(before: ContentFiles, after: ContentFiles, { context = 3 } = {}): FileDiff[] {
  const paths = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const out: FileDiff[] = [];
  for (const file of paths) {
    const old = before[file];
    const now = after[file];
    if (old === now) continue;
    const change = old === undefined ? 'added' : now === undefined ? 'removed' : 'changed';
    out.push(diffFile(file, change, old ?? '', now ?? '', context));
  }
  return out;
}

function diffFile(file: string, change: FileDiff['change'], old: string, now: string, context: number): FileDiff {
  const patch = structuredPatch(file, file, old, now, undefined, undefined, { context, timeout: DIFF_TIMEOUT_MS });
  if (!patch) return { file, change, added: lineCount(now), removed: lineCount(old), hunks: [], tooLarge: true };
  let added = 0;
  let removed = 0;
  const hunks = patch.hunks.map((hunk) => {
    let oldLine = hunk.oldStart;
    let newLine = hunk.newStart;
    const lines: DiffLine[] = [];
    for (const raw of hunk.lines) {
      const mark = raw[0];
      const text = raw.slice(1);
      // `\ No newline at end of file` is the patch format's own note, not a line of the file.
      if (mark === '\\') continue;
      if (mark === '+') {
        added += 1;
        lines.push({ kind: 'added', text, line: newLine++ });
      } else if (mark === '-') {
        removed += 1;
        lines.push({ kind: 'removed', text, line: oldLine++ });
      } else {
        lines.push({ kind: 'same', text, line: newLine++ });
        oldLine += 1;
      }
    }
    return lines;
  });
  return { file, change, added, removed, hunks };
}

const lineCount = (text: string) => (text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0));
