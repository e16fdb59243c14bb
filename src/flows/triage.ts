/**
 * Triage as data (`flows/triage.yaml`): which incident types the reports list
 * puts first (`urgent`: threats and violence) or last (`low`). The codes are
 * the values of the flows' `incident` choice; `flows:check` reports any other
 * code at its line and column. The console applies the live version's file
 * (AppContext.triage); with flows a test brings, the file beside them, read
 * again when it changes (a file that does not check keeps the last good one).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseOptionalYamlFile, parseYamlFile, TRIAGE_FILE, type ParsedFile } from './flow-loader.js';
import type { Problem } from './problems.js';

export { TRIAGE_FILE };
/** The answer (`save:`) whose values triage ranks. */
export const INCIDENT_FIELD = 'incident';

const code = z.string().regex(/^[a-z0-9_]+$/, 'an incident type is lowercase letters, digits and _');

/** `flows/triage.yaml`. A missing file: every type is « Normale ». */
export const triageFileSchema = z.strictObject({
  /** incident types shown first and marked « Urgent » */
  urgent: z.array(code).default([]),
  /** incident types shown after the others */
  low: z.array(code).default([]),
});
export type TriageFile = z.infer<typeof triageFileSchema>;

/** The priorities a report can have, first to last. */
export const PRIORITIES = ['urgent', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const isPriority = (v: unknown): v is Priority => typeof v === 'string' && (PRIORITIES as readonly string[]).includes(v);

export interface Triage {
  urgent: readonly string[];
  low: readonly string[];
}
export const NO_TRIAGE: Triage = Object.freeze({ urgent: Object.freeze([]), low: Object.freeze([]) });

/** The triage a checked triage.yaml gives (none when the content has no such file). */
export const freezeTriage = (file: TriageFile | undefined): Triage =>
  file ? Object.freeze({ urgent: Object.freeze([...file.urgent]), low: Object.freeze([...file.low]) }) : NO_TRIAGE;

/** A report's priority when nobody set one by hand: the one its incident type gives. */
export function priorityOf(triage: Triage, incident: string | null | undefined, manual?: string | null): Priority {
  if (isPriority(manual)) return manual;
  if (incident && triage.urgent.includes(incident)) return 'urgent';
  if (incident && triage.low.includes(incident)) return 'low';
  return 'normal';
}

/**
 * What `flows:check` says of the triage file: an error at every code the
 * flows' `incident` choice does not offer, and at a code listed twice.
 *
 * @example
 * triageProblems(parsed, new Set(['intimidation', 'vote_buying']));
 * // [{ file: 'flows/triage.yaml', line: 11, col: 24, severity: 'error', message: 'triage: urgent "violence" is not an incident type of the flows (...)' }]
 */
export function triageProblems(parsed: ParsedFile<TriageFile>, incidents: ReadonlySet<string>): Problem[] {
  if (!parsed.data) return [];
  const problems: Problem[] = [];
  const known = [...incidents].join(', ');
  const seen = new Map<string, string>();
  for (const list of ['urgent', 'low'] as const) {
    parsed.data[list].forEach((value, i) => {
      const at = { file: parsed.file, ...parsed.locate([list, i]), severity: 'error' as const };
      if (!incidents.has(value)) problems.push({ ...at, message: `triage: ${list} "${value}" is not an incident type of the flows (${known || 'none'})` });
      const other = seen.get(value);
      if (other) problems.push({ ...at, message: `triage: "${value}" is listed twice (${other} and ${list})` });
      seen.set(value, list);
    });
  }
  return problems;
}

/** Parses `dir/triage.yaml` (undefined when there is none), its problems pushed to `problems`. */
export function parseTriageFile(dir: string, problems: Problem[], root = process.cwd()): ParsedFile<TriageFile> | undefined {
  return parseOptionalYamlFile(dir, TRIAGE_FILE, triageFileSchema, problems, root);
}

const cache = new Map<string, { mtimeMs: number; size: number; triage: Triage }>();

/**
 * The triage the console applies now: `dir/triage.yaml`, read again when it
 * changes on disk. A missing file gives no urgent type; a file that does not
 * parse keeps the last good version (flows:check and the Menus page say why).
 */
export function currentTriage(dir: string): Triage {
  const path = join(dir, TRIAGE_FILE);
  let stat: { mtimeMs: number; size: number };
  try {
    stat = statSync(path);
  } catch {
    cache.delete(dir);
    return NO_TRIAGE;
  }
  const known = cache.get(dir);
  if (known && known.mtimeMs === stat.mtimeMs && known.size === stat.size) return known.triage;
  const problems: Problem[] = [];
  const parsed = parseYamlFile(path, triageFileSchema, problems, dir);
  const triage = parsed.data ? freezeTriage(parsed.data) : (known?.triage ?? NO_TRIAGE);
  cache.set(dir, { ...stat, triage });
  return triage;
}
