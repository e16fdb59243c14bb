/**
 * Loads flows, variables and locales, validates them in layers, lints every
 * screen, and compiles the graph the engine runs. No flow goes live with an
 * error.
 */
import { LONGEST_LOOKUP_VALUES } from './lookup-sources.js';
import { createHash } from 'node:crypto';
import { relative } from 'node:path';
import type { CompiledFlows, Lang } from '../engine/types.js';
import type { ScreenLimits } from '../i18n/gsm.js';
import type { BambaraSpelling } from '../i18n/bambara-spelling.js';
import { withTextForm, type TextForm } from '../i18n/text-form.js';
import { createTextLookup, loadLocales } from '../i18n/locales.js';
import { loadFlowFiles } from './flow-loader.js';
import { buildCompiledFlows, resolveFlows } from './flow-compiler.js';
import { sampleValueProblems, validateFlows } from './flow-validator.js';
import type { Config } from '../config/config.js';
import { lintScreens, type ScreenRow } from './screen-report.js';
import { FlowValidationError, hasErrors, type Problem } from './problems.js';
import { foldKeyword, KEYWORD_ACTIONS, type KeywordTable } from '../sms/keywords.js';
import { measureSms, REPORT_STATUSES, reportStatusKey, SMS_TEXTS } from '../sms/sms-text.js';
import { SAMPLE_REF } from './screen-report.js';
import type { ResolvedFlows } from './flow-compiler.js';
import type { LoadedFlowFiles } from './flow-loader.js';
import { terminologyProblems } from './terminology.js';
import { INCIDENT_FIELD, parseTriageFile, triageProblems, type TriageFile } from './triage.js';

export interface FlowSetOptions {
  flowsDir: string;
  localesDir: string;
  limits: ScreenLimits;
  /** the spelling this deployment shows; the linter checks both */
  spelling: BambaraSpelling;
  /** paths in problems are relative to it */
  root?: string;
  /** days a reporter's number is kept (PHONE_RETENTION_DAYS), which texts may tell callers (default 30) */
  numberKeptDays?: number;
  /** production: a variable still holding its sample value is an error */
  production?: boolean;
  /** the text forms the gateways are set to (besides as written): their screens are linted too */
  textForms?: readonly TextForm[];
}

export interface FlowCheck {
  /** present when there is no error */
  flows?: CompiledFlows;
  problems: Problem[];
  report: ScreenRow[];
  /** admin-set values, for the SMS templates and the console */
  variables: Record<Lang, Record<string, string>>;
  /** the SMS keywords (flows/keywords.yaml, or the defaults) */
  keywords: KeywordTable;
  /** every SMS template in each language and Bambara spelling */
  smsReport: SmsRow[];
  /** flows/triage.yaml when it parsed: the incident types the reports list puts first or last */
  triage?: TriageFile;
}

export interface SmsRow {
  key: string;
  lang: Lang;
  spelling: BambaraSpelling | '-';
  segments: number;
  encoding: 'GSM-7' | 'UCS-2';
  characters: number;
}

/** Used when flows/keywords.yaml is absent. */
export const DEFAULT_KEYWORDS: KeywordTable = Object.freeze({
  help: ['AIDE', 'INFO', 'HELP', 'DƐMƐ'],
  status: ['STATUT', 'STATUS'],
  stop: ['STOP', 'ARRET'],
  start: ['START'],
  station: ['BUREAU', 'BUREAUX', 'OU', 'NINA'],
});

function keywordTable(files: LoadedFlowFiles, problems: Problem[]): KeywordTable {
  const parsed = files.keywords;
  if (!parsed?.data) return DEFAULT_KEYWORDS;
  const seen = new Map<string, string>();
  for (const action of KEYWORD_ACTIONS) {
    parsed.data[action].forEach((word, i) => {
      const folded = foldKeyword(word);
      const other = seen.get(folded);
      if (other && other !== action) {
        problems.push({ file: parsed.file, ...parsed.locate([action, i]), severity: 'error', message: `keyword ${word} is also a ${other} keyword` });
      }
      seen.set(folded, action);
    });
  }
  return parsed.data;
}

function smsTemplates(resolved: ResolvedFlows): string[] {
  const keys = new Set<string>(Object.values(SMS_TEXTS));
  for (const node of resolved.nodes.values()) {
    for (const effect of node.effects) if (effect.type === 'send_sms') keys.add(effect.template);
  }
  return [...keys];
}

/** Measures every SMS template with the longest values its variables can take. */
function lintSms(
  flows: CompiledFlows,
  templates: string[],
  options: { spelling: BambaraSpelling; includeFrench: boolean; fileOf: (lang: Lang, ns: string) => string },
): { rows: SmsRow[]; problems: Problem[] } {
  const { spelling, includeFrench } = options;
  const rows: SmsRow[] = [];
  const problems: Problem[] = [];
  for (const lang of ['fr', 'bm'] as const) {
    if (lang === 'fr' && !includeFrench) continue;
    const statuses = REPORT_STATUSES.map((st) => flows.texts(lang, reportStatusKey(st)));
    const status = statuses.reduce((a, b) => (b.length > a.length ? b : a), '');
    for (const key of templates) {
      const m = measureSms(flows.texts(lang, key, { ref: SAMPLE_REF, status, ...LONGEST_LOOKUP_VALUES }));
      rows.push({ key, lang, spelling: lang === 'bm' ? spelling : '-', ...m });
      if (m.segments > 1) {
        problems.push({ file: options.fileOf(lang, key.split(':')[0]!), line: 1, col: 1, severity: 'warning', message: `SMS ${key} (${lang}${lang === 'bm' ? `, ${spelling}` : ''}) takes ${m.segments} segments in ${m.encoding}` });
      }
    }
  }
  return { rows, problems };
}

/** Validates everything and compiles it when valid. Never throws on bad content. */
export function checkFlows(options: FlowSetOptions): FlowCheck {
  const root = options.root ?? process.cwd();
  const files = loadFlowFiles(options.flowsDir, root);
  const locales = loadLocales(options.localesDir, root);
  const problems: Problem[] = [...files.problems, ...locales.problems];
  const triageFile = parseTriageFile(options.flowsDir, problems, root);
  const variablesDef = files.variables?.data ?? {};
  const variables: FlowCheck['variables'] = { fr: {}, bm: {} };
  for (const [name, value] of Object.entries(variablesDef)) {
    variables.fr[name] = value.fr.normalize('NFC');
    variables.bm[name] = value.bm.normalize('NFC');
  }
  for (const lang of ['fr', 'bm'] as const) variables[lang].number_kept_days = String(options.numberKeptDays ?? 30);
  const resolved = resolveFlows(files.flows);
  problems.push(...resolved.problems);
  problems.push(...validateFlows(resolved, locales, files.variables, relative(root, options.flowsDir)));
  problems.push(...sampleValueProblems(files.variables, options.production ?? false));
  const keywords = keywordTable(files, problems);
  if (triageFile) problems.push(...triageProblems(triageFile, new Set(resolved.choiceLabels.get(INCIDENT_FIELD)?.keys() ?? [])));
  const triage = triageFile?.data;
  if (files.terminology?.data) {
    problems.push(...terminologyProblems({ terminology: files.terminology.data, locales, variables: files.variables, keywords: files.keywords }));
  }
  if (hasErrors(problems)) return { problems, report: [], variables, keywords, smsReport: [], ...(triage ? { triage } : {}) };

  const hash = versionHash(files.flows.map((f) => f.content), files.variables?.content ?? '', locales.sources, options);
  const report: ScreenRow[] = [];
  const smsReport: SmsRow[] = [];
  const templates = smsTemplates(resolved);
  let live: CompiledFlows | undefined;
  for (const spelling of ['standard', 'gsm7'] as const) {
    const texts = createTextLookup({ resources: locales.resources, variables, spelling });
    const compiled = buildCompiledFlows(resolved, { hash, texts, limits: options.limits });
    const lint = lintScreens(compiled, resolved, { spelling, includeFrench: spelling === 'standard', commonFile: (lang) => locales.fileOf(lang, 'common') });
    report.push(...lint.rows);
    problems.push(...lint.problems);
    const sms = lintSms(compiled, templates, { spelling, includeFrench: spelling === 'standard', fileOf: locales.fileOf });
    smsReport.push(...sms.rows);
    problems.push(...sms.problems);
    if (spelling === options.spelling) live = compiled;
  }
  // Each form a gateway shows text in, in the deployment's spelling, as that gateway's callers see it.
  for (const form of new Set(options.textForms ?? [])) {
    if (form === 'as_written' || !live) continue;
    const lint = lintScreens(withTextForm(live, form), resolved, { spelling: options.spelling, includeFrench: true, form, commonFile: (lang) => locales.fileOf(lang, 'common') });
    report.push(...lint.rows);
    problems.push(...lint.problems);
  }
  return { flows: hasErrors(problems) ? undefined : live, problems, report, variables, keywords, smsReport, ...(triage ? { triage } : {}) };
}

/** Loads the flows for the server: throws a FlowValidationError listing every error. */
export function loadFlows(options: FlowSetOptions): CompiledFlows {
  return loadContent(options).flows;
}

/** The options a deployment's configuration gives: where the content is, screen limits, spelling, and what texts must say truly. */
export function flowOptions(config: Pick<Config, 'flowsDir' | 'localesDir' | 'limits' | 'bambaraSpelling' | 'phoneRetentionDays' | 'production'> & Partial<Pick<Config, 'textForms'>>): FlowSetOptions {
  return {
    // The screens are linted in each form a gateway is set to show them in.
    textForms: config.textForms ? Object.values(config.textForms) : [],
    flowsDir: config.flowsDir,
    localesDir: config.localesDir,
    limits: config.limits,
    spelling: config.bambaraSpelling,
    numberKeptDays: config.phoneRetentionDays,
    production: config.production,
  };
}

/** The flows and the SMS keywords, for the server and the worker. */
export function loadContent(options: FlowSetOptions): { flows: CompiledFlows; keywords: KeywordTable } {
  const check = checkFlows(options);
  if (!check.flows) throw new FlowValidationError(check.problems);
  return { flows: check.flows, keywords: check.keywords };
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
  h.update(JSON.stringify([options.limits, options.spelling, options.numberKeptDays ?? 30]));
  return h.digest('hex').slice(0, 16);
}
