/**
 * Reads flow files in two layers: YAML syntax (with line and column), then the
 * schema. Semantic checks come after, on everything loaded together.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { flowFileSchema, keywordsFileSchema, variablesFileSchema, type FlowFile, type KeywordsFile, type VariablesFile } from './flow-schema.js';
import type { Problem } from './problems.js';
import { terminologyFileSchema, type TerminologyFile } from './terminology.js';
import { LANGUAGES_FILE, languagesFileSchema, type LanguagesFile } from '../i18n/languages.js';

/** Finds where a path (`['nodes', 'home', 'options', 0]`) sits in the file. */
export type Locate = (path: readonly (string | number)[]) => { line: number; col: number };

export interface ParsedFile<T> {
  file: string;
  content: string;
  data?: T;
  locate: Locate;
}

export const VARIABLES_FILE = 'variables.yaml';
export const KEYWORDS_FILE = 'keywords.yaml';
export const TERMINOLOGY_FILE = 'terminology.yaml';
/** Which incident types come first in triage: read by src/flows/triage.ts, not a flow. */
export const TRIAGE_FILE = 'triage.yaml';
/** The voice line's settings: read by src/flows/voice-settings.ts, not a flow. */
const VOICE_FILE = 'voice.yaml';

function locator(doc: Document, lines: LineCounter): Locate {
  return (path) => {
    // The deepest part of the path that exists in the file.
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) {
        const pos = lines.linePos(node.range[0]);
        return { line: pos.line, col: pos.col };
      }
    }
    return { line: 1, col: 1 };
  };
}

function issueText(issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}`;
}

/** `dir/name` parsed against a schema when the file exists (undefined when it does not), its problems pushed to `problems`. */
export function parseOptionalYamlFile<T>(dir: string, name: string, schema: z.ZodType<T>, problems: Problem[], root = process.cwd()): ParsedFile<T> | undefined {
  const path = join(dir, name);
  return existsSync(path) ? parseYamlFile(path, schema, problems, root) : undefined;
}

/** Parses one YAML file against a schema, collecting problems instead of throwing. */
export function parseYamlFile<T>(
  path: string,
  schema: z.ZodType<T>,
  problems: Problem[],
  root = process.cwd(),
): ParsedFile<T> {
  const file = relative(root, path);
  const content = readFileSync(path, 'utf8');
  const lines = new LineCounter();
  const doc = parseDocument(content, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const locate = locator(doc, lines);
  const parsed: ParsedFile<T> = { file, content, locate };
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = lines.linePos(e.pos[0]);
      problems.push({ file, line: pos.line, col: pos.col, severity: 'error', message: `YAML: ${e.message.split('\n')[0]}` });
    }
    return parsed;
  }
  const result = schema.safeParse(doc.toJS());
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path as (string | number)[];
      // An unknown key is pointed at itself, not at the mapping that holds it.
      const at = locate(issue.code === 'unrecognized_keys' && issue.keys[0] ? [...path, issue.keys[0]] : path);
      problems.push({ file, ...at, severity: 'error', message: issueText(issue) });
    }
    return parsed;
  }
  parsed.data = result.data;
  return parsed;
}

export interface LoadedFlowFiles {
  flows: ParsedFile<FlowFile>[];
  variables?: ParsedFile<VariablesFile>;
  keywords?: ParsedFile<KeywordsFile>;
  /** the terms texts must use (absent: no terminology check) */
  terminology?: ParsedFile<TerminologyFile>;
  /** the hotline's languages (absent: French and Bambara, src/i18n/languages.ts) */
  languages?: ParsedFile<LanguagesFile>;
  problems: Problem[];
}

/** Reads `flows/*.yaml`, with `languages.yaml`, `variables.yaml`, `keywords.yaml` and `terminology.yaml` beside them. */
export function loadFlowFiles(dir: string, root = process.cwd()): LoadedFlowFiles {
  const problems: Problem[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch {
    problems.push({ file: relative(root, dir), line: 1, col: 1, severity: 'error', message: 'no flows folder' });
    return { flows: [], problems };
  }
  const flows: ParsedFile<FlowFile>[] = [];
  let variables: ParsedFile<VariablesFile> | undefined;
  let keywords: ParsedFile<KeywordsFile> | undefined;
  let terminology: ParsedFile<TerminologyFile> | undefined;
  let languages: ParsedFile<LanguagesFile> | undefined;
  for (const name of names) {
    const path = join(dir, name);
    if (name === VARIABLES_FILE) variables = parseYamlFile(path, variablesFileSchema, problems, root);
    else if (name === KEYWORDS_FILE) keywords = parseYamlFile(path, keywordsFileSchema, problems, root);
    else if (name === TERMINOLOGY_FILE) terminology = parseYamlFile(path, terminologyFileSchema, problems, root);
    else if (name === LANGUAGES_FILE) languages = parseYamlFile(path, languagesFileSchema, problems, root);
    else if (name === TRIAGE_FILE || name === VOICE_FILE) continue;
    else flows.push(parseYamlFile(path, flowFileSchema, problems, root));
  }
  return { flows, variables, keywords, terminology, ...(languages ? { languages } : {}), problems };
}
