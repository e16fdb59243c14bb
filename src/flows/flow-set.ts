/**
 * Loads flows, variables and locales, validates them in layers, lints every
 * screen, and compiles the graph the engine runs. No flow goes live with an
 * error.
 */
import { LONGEST_LOOKUP_VALUES } from './lookup-sources.js';
import { createHash } from 'node:crypto';
import { relative } from 'node:path';
import type { CompiledFlows, Lang, TextKey } from '../engine/types.js';
import type { ScreenLimits } from '../i18n/gsm.js';
import { AS_WRITTEN, DEFAULT_LANGUAGES, languageSet, type LanguageSet } from '../i18n/languages.js';
import { withTextForm, type TextForm } from '../i18n/text-form.js';
import { createTextLookup, getText, loadLocales } from '../i18n/locales.js';
import { loadFlowFiles } from './flow-loader.js';
import { buildCompiledFlows, resolveFlows } from './flow-compiler.js';
import { hasVoiceTexts, spokenTexts } from './channel-texts.js';
import { checkRecordings, type RecordingCoverage } from './recordings.js';
import { parseVoiceFile } from './voice-settings.js';
import { recordingsDirOf } from '../content/content-files.js';
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
  /** the recorded prompts (default: `recordings` beside the locales folder) */
  recordingsDir?: string;
  limits: ScreenLimits;
  /**
   * the spelling this deployment shows (BAMBARA_SPELLING): `standard`, as the
   * files are written, or a spelling of flows/languages.yaml (`gsm7`), used by
   * every language that has one by that name; the linter checks them all
   */
  spelling: string;
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
  /** the languages of the content (flows/languages.yaml) */
  languages: LanguageSet;
  /** the voice line's recorded prompts per language (a content with a voice line) */
  recordings?: RecordingCoverage[];
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
  /** `-` for a language with one spelling */
  spelling: string;
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

/** Measures every SMS template with the longest values its variables can take, in the languages `langs` of one spelling. */
function lintSms(
  flows: CompiledFlows,
  templates: string[],
  options: { spelling: string; langs: readonly Lang[]; languages: LanguageSet; fileOf: (lang: Lang, ns: string) => string },
): { rows: SmsRow[]; problems: Problem[] } {
  const { spelling, langs, languages } = options;
  const rows: SmsRow[] = [];
  const problems: Problem[] = [];
  for (const lang of langs) {
    const spelled = languages.spellingsOf(lang).length > 1;
    const statuses = REPORT_STATUSES.map((st) => flows.texts(lang, reportStatusKey(st)));
    const status = statuses.reduce((a, b) => (b.length > a.length ? b : a), '');
    for (const key of templates) {
      const m = measureSms(flows.texts(lang, key, { ref: SAMPLE_REF, status, ...LONGEST_LOOKUP_VALUES }));
      rows.push({ key, lang, spelling: spelled ? spelling : '-', ...m });
      if (m.segments > 1) {
        problems.push({ file: options.fileOf(lang, key.split(':')[0]!), line: 1, col: 1, severity: 'warning', message: `SMS ${key} (${lang}${spelled ? `, ${spelling}` : ''}) takes ${m.segments} segments in ${m.encoding}` });
      }
    }
  }
  return { rows, problems };
}

/**
 * The spellings the checker compiles, each with the languages it lints:
 * `standard` for every language, then each other spelling name for the
 * languages that have it.
 */
function spellingVariants(languages: LanguageSet): { spelling: string; langs: Lang[] }[] {
  const variants = new Map<string, Lang[]>([[AS_WRITTEN, [...languages.codes]]]);
  for (const lang of languages.codes) {
    for (const spelling of languages.spellingsOf(lang).slice(1)) variants.set(spelling, [...(variants.get(spelling) ?? []), lang]);
  }
  return [...variants].map(([spelling, langs]) => ({ spelling, langs }));
}

/** Validates everything and compiles it when valid. Never throws on bad content. */
export function checkFlows(options: FlowSetOptions): FlowCheck {
  const root = options.root ?? process.cwd();
  const files = loadFlowFiles(options.flowsDir, root);
  // A languages.yaml that does not parse stops the check below (its problems are errors); meanwhile, the default set.
  const languages = languageSet(files.languages?.data ?? DEFAULT_LANGUAGES);
  const locales = loadLocales(options.localesDir, root, languages);
  const problems: Problem[] = [...files.problems, ...locales.problems];
  const triageFile = parseTriageFile(options.flowsDir, problems, root);
  const voiceFile = parseVoiceFile(options.flowsDir, problems, root);
  const variablesDef = files.variables?.data ?? {};
  const variables: FlowCheck['variables'] = Object.fromEntries(languages.codes.map((lang) => [lang, {}]));
  for (const [name, value] of Object.entries(variablesDef)) {
    for (const lang of languages.codes) variables[lang]![name] = (value[lang] ?? '').normalize('NFC');
  }
  for (const lang of languages.codes) variables[lang]!.number_kept_days = String(options.numberKeptDays ?? 30);
  if (options.spelling !== AS_WRITTEN && !languages.codes.some((lang) => languages.spellingsOf(lang).includes(options.spelling))) {
    const at = files.languages ? { file: files.languages.file, line: 1, col: 1 } : { file: relative(root, options.flowsDir), line: 1, col: 1 };
    problems.push({ ...at, severity: 'error', message: `spelling ${options.spelling} (BAMBARA_SPELLING) is no spelling of any language in languages.yaml` });
  }
  const resolved = resolveFlows(files.flows);
  problems.push(...resolved.problems);
  problems.push(...validateFlows(resolved, locales, files.variables, relative(root, options.flowsDir), languages));
  problems.push(...sampleValueProblems(files.variables, options.production ?? false, languages));
  const keywords = keywordTable(files, problems);
  if (triageFile) problems.push(...triageProblems(triageFile, new Set(resolved.choiceLabels.get(INCIDENT_FIELD)?.keys() ?? [])));
  const triage = triageFile?.data;
  if (files.terminology?.data) {
    problems.push(...terminologyProblems({ terminology: files.terminology.data, locales, languages, variables: files.variables, keywords: files.keywords }));
  }
  if (hasErrors(problems)) return { problems, report: [], variables, languages, keywords, smsReport: [], ...(triage ? { triage } : {}) };

  // The voice line's recordings, once the content has one: their coverage per language, and recordings of nothing.
  const voice = hasVoiceTexts(locales.resources, languages.source);
  const rawText = (lang: Lang, key: TextKey) => {
    const [ns, k] = key.split(':') as [string, string];
    return getText(locales.resources, lang, ns, k) ?? getText(locales.resources, languages.source, ns, k);
  };
  const voiceCheck = voice
    ? checkRecordings({
        dir: options.recordingsDir ?? recordingsDirOf(options),
        root,
        languages: languages.codes,
        spoken: spokenTexts(resolved.textUses.map((u) => u.key)),
        raw: rawText,
        variables: new Set(Object.keys(variablesDef)),
        variableValue: (lang, name) => variables[lang]?.[name],
      })
    : undefined;
  if (voiceCheck) {
    problems.push(...voiceCheck.problems);
    for (const c of voiceCheck.coverage) {
      if (c.have === c.needed) continue;
      const file = relative(root, options.recordingsDir ?? recordingsDirOf(options));
      problems.push({ file, line: 1, col: 1, severity: 'warning', message: `${c.have} of ${c.needed} voice prompts recorded in ${languages.get(c.lang)!.name} (missing ${c.missing.slice(0, 3).join(', ')}${c.needed - c.have > 3 ? ', …' : ''})` });
    }
  }
  const hash = versionHash(
    [...files.flows.map((f) => f.content), files.languages?.content ?? '', JSON.stringify(voiceCheck ? [...voiceCheck.recordings].sort() : []), JSON.stringify(voiceFile?.data ?? null)],
    files.variables?.content ?? '',
    locales.sources,
    options,
  );
  const report: ScreenRow[] = [];
  const smsReport: SmsRow[] = [];
  const templates = smsTemplates(resolved);
  const compile = (spelling: string) =>
    buildCompiledFlows(resolved, {
      hash,
      texts: createTextLookup({ resources: locales.resources, variables, source: languages.source, spell: (lang, text) => languages.spell(lang, spelling, text) }),
      limits: options.limits,
      languages: languages.codes,
      voice,
      ...(voiceCheck ? { rawText, variables, recordings: voiceCheck.recordings, recordingCoverage: new Map(voiceCheck.coverage.map((c) => [c.lang, { needed: c.needed, have: c.have }])) } : {}),
      ...(voiceFile?.data ? { voiceSettings: voiceFile.data } : {}),
    });
  let live: CompiledFlows | undefined;
  for (const { spelling, langs } of spellingVariants(languages)) {
    const compiled = compile(spelling);
    const lint = lintScreens(compiled, resolved, { spelling, langs, languages, commonFile: (lang) => locales.fileOf(lang, 'common') });
    report.push(...lint.rows);
    problems.push(...lint.problems);
    const sms = lintSms(compiled, templates, { spelling, langs, languages, fileOf: locales.fileOf });
    smsReport.push(...sms.rows);
    problems.push(...sms.problems);
    if (spelling === options.spelling) live = compiled;
  }
  // Each form a gateway shows text in, in the deployment's spelling, as that gateway's callers see it.
  for (const form of new Set(options.textForms ?? [])) {
    if (form === 'as_written' || !live) continue;
    const lint = lintScreens(withTextForm(live, form), resolved, { spelling: options.spelling, langs: languages.codes, languages, form, commonFile: (lang) => locales.fileOf(lang, 'common') });
    report.push(...lint.rows);
    problems.push(...lint.problems);
  }
  return {
    flows: hasErrors(problems) ? undefined : live,
    problems,
    report,
    variables,
    languages,
    keywords,
    smsReport,
    ...(triage ? { triage } : {}),
    ...(voiceCheck ? { recordings: voiceCheck.coverage } : {}),
  };
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
