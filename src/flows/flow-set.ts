/**
 * Loads flows, variables and locales, validates them in layers, lints every
 * screen, and compiles the graph the engine runs. No flow goes live with an
 * error.
 */
import { createHash } from 'node:crypto';
import { relative } from 'node:path';
import type { CompiledFlows, Lang } from '../engine/types.js';
import type { ScreenLimits } from '../i18n/gsm.js';
import type { BambaraSpelling } from '../i18n/bambara-spelling.js';
import { createTextLookup, loadLocales } from '../i18n/locales.js';
import { loadFlowFiles } from './flow-loader.js';
import { buildCompiledFlows, resolveFlows } from './flow-compiler.js';
import { validateFlows } from './flow-validator.js';
import { lintScreens, type ScreenRow } from './screen-report.js';
import { FlowValidationError, hasErrors, type Problem } from './problems.js';

export interface FlowSetOptions {
  flowsDir: string;
  localesDir: string;
  limits: ScreenLimits;
  /** the spelling this deployment shows; the linter checks both */
  spelling: BambaraSpelling;
  /** paths in problems are relative to it */
  root?: string;
}

export interface FlowCheck {
  /** present when there is no error */
  flows?: CompiledFlows;
  problems: Problem[];
  report: ScreenRow[];
  /** admin-set values, for the SMS templates and the console */
  variables: Record<Lang, Record<string, string>>;
}

/** Validates everything and compiles it when valid. Never throws on bad content. */
export function checkFlows(options: FlowSetOptions): FlowCheck {
  const root = options.root ?? process.cwd();
  const files = loadFlowFiles(options.flowsDir, root);
  const locales = loadLocales(options.localesDir, root);
  const problems: Problem[] = [...files.problems, ...locales.problems];
  const variablesDef = files.variables?.data ?? {};
  const variables: FlowCheck['variables'] = { fr: {}, bm: {} };
  for (const [name, value] of Object.entries(variablesDef)) {
    variables.fr[name] = value.fr.normalize('NFC');
    variables.bm[name] = value.bm.normalize('NFC');
  }
  const resolved = resolveFlows(files.flows);
  problems.push(...resolved.problems);
  problems.push(...validateFlows(resolved, locales, files.variables, relative(root, options.flowsDir)));
  if (hasErrors(problems)) return { problems, report: [], variables };

  const hash = versionHash(files.flows.map((f) => f.content), files.variables?.content ?? '', locales.sources, options);
  const report: ScreenRow[] = [];
  let live: CompiledFlows | undefined;
  for (const spelling of ['standard', 'gsm7'] as const) {
    const texts = createTextLookup({ resources: locales.resources, variables, spelling });
    const compiled = buildCompiledFlows(resolved, { hash, texts, limits: options.limits });
    const lint = lintScreens(compiled, resolved, { spelling, includeFrench: spelling === 'standard', commonFile: (lang) => locales.fileOf(lang, 'common') });
    report.push(...lint.rows);
    problems.push(...lint.problems);
    if (spelling === options.spelling) live = compiled;
  }
  return { flows: hasErrors(problems) ? undefined : live, problems, report, variables };
}

/** Loads the flows for the server: throws a FlowValidationError listing every error. */
export function loadFlows(options: FlowSetOptions): CompiledFlows {
  const check = checkFlows(options);
  if (!check.flows) throw new FlowValidationError(check.problems);
  return check.flows;
}

function versionHash(
  flows: string[],
  variables: string,
  locales: { file: string; content: string }[],
  options: FlowSetOptions,
): string {
  const h = createHash('sha256');
  for (const content of flows) h.update(content).update('\0');
  h.update(variables).update('\0');
  for (const { file, content } of locales) h.update(file).update('\0').update(content).update('\0');
  h.update(JSON.stringify([options.limits, options.spelling]));
  return h.digest('hex').slice(0, 16);
}
