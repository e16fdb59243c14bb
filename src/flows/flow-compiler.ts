/**
 * Turns parsed flow files into the engine's graph: fully qualified node ids
 * (`flow.node`), text keys with their namespace (`flow:key`), and an O(1) node
 * map. It records where each node came from so that the validator can point at
 * the right line.
 */
import { VOICE_TEXTS } from './channel-texts.js';
import type { ScreenLimits } from '../i18n/gsm.js';
import type { CommonTexts, CompiledFlows, EffectSpec, FlowNode, Lang, TextKey, TextLookup } from '../engine/types.js';
import type { FlowFile, FlowFileNode } from './flow-schema.js';
import type { ParsedFile } from './flow-loader.js';
import type { Problem } from './problems.js';
import { LOOKUP_SOURCES, sourcesOfKind, type LookupSource } from './lookup-sources.js';

export interface SourceRef {
  file: string;
  line: number;
  col: number;
}

export interface Edge {
  from: string;
  to: string;
  at: SourceRef;
}

export interface TextUse {
  key: TextKey;
  at: SourceRef;
}

/** The graph before any semantic check, with where everything came from. */
export interface ResolvedFlows {
  nodes: Map<string, FlowNode>;
  nodeSources: Map<string, SourceRef>;
  starts: Map<string, string>;
  edges: Edge[];
  textUses: TextUse[];
  /** the language codes menu options set, where (checked against flows/languages.yaml) */
  languageUses: { lang: string; at: SourceRef }[];
  entry?: { flow: string; home: string; language: string; at: SourceRef };
  choiceLabels: Map<string, Map<string, TextKey>>;
  /** input fields and their maximum length, to lint screens with the longest answer */
  inputFields: Map<string, number>;
  /** variables lookups set for the texts after them */
  lookupVars: Set<string>;
  /** field -> values of `private: true` choice items */
  privateAnswers: Map<string, Set<string>>;
  problems: Problem[];
}

export const COMMON_TEXTS: CommonTexts & { yes: TextKey; no: TextKey; continue: TextKey } = Object.freeze({
  more: 'common:nav.more',
  backHome: 'common:nav.back_home',
  invalid: 'common:error.invalid',
  noMore: 'common:nav.no_more',
  tooManyInvalid: 'common:error.too_many',
  unavailable: 'common:error.unavailable',
  sessionOver: 'common:error.session_over',
  resumePrompt: 'common:resume.prompt',
  resumeContinue: 'common:resume.continue',
  resumeRestart: 'common:resume.restart',
  rateLimited: 'common:error.rate_limited',
  yes: 'common:confirm.yes',
  no: 'common:confirm.no',
  continue: 'common:nav.continue',
});

export const MAX_INVALID = 3;

/**
 * Lookups the USSD runtime answers itself, from the caller's own records
 * (beside the data catalog of lookup-sources.ts, which station-lookups.ts
 * answers): they need the caller's pseudonym, which only the runtime holds.
 */
export const CALLER_SOURCES: Readonly<Record<string, LookupSource>> = Object.freeze({
  /** found while a call-back request from this number is waiting or being handled (see store/callback-store.ts) */
  callback_open: { kind: 'found', params: 0, provides: [] },
});

function qualifyKey(flow: string, key: string): TextKey {
  return key.includes(':') ? key : `${flow}:${key}`;
}

function qualifyTarget(flow: string, target: string): string {
  return target.includes('.') ? target : `${flow}.${target}`;
}

/** Resolves every parsed flow file into one graph. Never throws: problems are collected. */
export function resolveFlows(files: readonly ParsedFile<FlowFile>[]): ResolvedFlows {
  const out: ResolvedFlows = {
    nodes: new Map(),
    nodeSources: new Map(),
    starts: new Map(),
    edges: [],
    textUses: [],
    languageUses: [],
    choiceLabels: new Map(),
    inputFields: new Map(),
    lookupVars: new Set(),
    privateAnswers: new Map(),
    problems: [],
  };
  const flowFiles = new Map<string, string>();
  for (const parsed of files) {
    const def = parsed.data;
    if (!def) continue;
    const at = (path: (string | number)[]): SourceRef => ({ file: parsed.file, ...parsed.locate(path) });
    if (flowFiles.has(def.id)) {
      out.problems.push({ ...at(['id']), severity: 'error', message: `flow id "${def.id}" is already used by ${flowFiles.get(def.id)}` });
      continue;
    }
    flowFiles.set(def.id, parsed.file);
    const startId = qualifyTarget(def.id, def.start);
    out.starts.set(def.id, startId);
    out.edges.push({ from: `${def.id}`, to: startId, at: at(['start']) });
    if (def.home || def.language) {
      if (!def.home || !def.language) {
        out.problems.push({ ...at([def.home ? 'home' : 'language']), severity: 'error', message: 'the entry flow names both `home` and `language`' });
      } else if (out.entry) {
        out.problems.push({ ...at(['home']), severity: 'error', message: `only one flow may be the entry flow (already ${out.entry.flow})` });
      } else {
        out.entry = { flow: def.id, home: qualifyTarget(def.id, def.home), language: qualifyTarget(def.id, def.language), at: at(['home']) };
        out.edges.push({ from: def.id, to: out.entry.home, at: at(['home']) }, { from: def.id, to: out.entry.language, at: at(['language']) });
      }
    }
    for (const [localId, raw] of Object.entries(def.nodes)) {
      const id = `${def.id}.${localId}`;
      const path = ['nodes', localId];
      const node = resolveNode(def, id, raw, (p) => at([...path, ...p]), out);
      if (node) {
        out.nodes.set(id, node);
        out.nodeSources.set(id, at(path));
      }
    }
  }
  return out;
}

function resolveNode(
  def: FlowFile,
  id: string,
  raw: FlowFileNode,
  at: (path: (string | number)[]) => SourceRef,
  out: ResolvedFlows,
): FlowNode | undefined {
  const flow = def.id;
  const key = (k: string, path: (string | number)[]): TextKey => {
    const q = qualifyKey(flow, k);
    out.textUses.push({ key: q, at: at(path) });
    return q;
  };
  const language = (lang: string, path: (string | number)[]): string => {
    out.languageUses.push({ lang, at: at(path) });
    return lang;
  };
  const target = (t: string, path: (string | number)[]): string => {
    const q = qualifyTarget(flow, t);
    out.edges.push({ from: id, to: q, at: at(path) });
    return q;
  };
  /** The catalog's entry for a pick's or a lookup's source, checked for its kind and its number of answers. */
  const lookupSource = (name: string, params: readonly string[], kind: LookupSource['kind'], noun: string) => {
    const source = LOOKUP_SOURCES[name] ?? CALLER_SOURCES[name];
    if (!source || source.kind !== kind) {
      const known = [...sourcesOfKind(kind), ...Object.keys(CALLER_SOURCES).filter((n) => CALLER_SOURCES[n]!.kind === kind)];
      out.problems.push({ ...at(['source']), severity: 'error', message: `no ${noun} source "${name}" (known: ${known.join(', ')})` });
      return undefined;
    }
    if (params.length !== source.params) out.problems.push({ ...at(['params']), severity: 'error', message: `source "${name}" takes ${source.params} answer(s)` });
    return source;
  };
  // Lookup and branch nodes are never shown: no text of their own, no effects, no navigation.
  const unseen = { id, flow, text: COMMON_TEXTS.unavailable, effects: [], nav: false } as const;
  if (raw.type === 'lookup') {
    const params = raw.params ?? [];
    for (const v of lookupSource(raw.source, params, 'found', 'lookup')?.provides ?? []) out.lookupVars.add(v);
    // The step goes to the shell, which looks the answer up and moves on.
    return {
      ...unseen,
      kind: 'lookup',
      source: raw.source,
      params,
      found: target(raw.found, ['found']),
      notFound: target(raw.not_found, ['not_found']),
      forget: raw.forget ?? [],
    };
  }
  if (raw.type === 'branch') {
    // The engine goes straight on by the answer.
    return {
      ...unseen,
      kind: 'branch',
      on: raw.on,
      cases: Object.fromEntries(Object.entries(raw.cases).map(([value, t]) => [value, target(t, ['cases', value])])),
      otherwise: target(raw.otherwise, ['otherwise']),
    };
  }
  const effects: EffectSpec[] = (raw.effects ?? []).map((e, i): EffectSpec => {
    if ('save_report' in e) return { type: 'save_report', fields: e.save_report.fields, contact: e.save_report.contact ?? 'sms' };
    if ('request_callback' in e) return { type: 'request_callback', ...(e.request_callback.topic ? { topic: e.request_callback.topic } : {}) };
    return { type: 'send_sms', template: key(e.send_sms.template, ['effects', i, 'send_sms', 'template']), vars: e.send_sms.vars ?? [] };
  });
  const base = { id, flow, text: key(raw.text, ['text']), effects, nav: raw.nav ?? true };
  switch (raw.type) {
    case 'menu':
      return {
        ...base,
        kind: 'menu',
        options: raw.options.map((o, i) => ({
          label: key(o.label, ['options', i, 'label']),
          next: target(o.next, ['options', i, 'next']),
          ...(o.language ? { language: language(o.language, ['options', i, 'language']) } : {}),
        })),
      };
    case 'info':
      return {
        ...base,
        kind: 'info',
        ...(raw.next ? { next: target(raw.next, ['next']) } : {}),
        continueLabel: raw.continue ? key(raw.continue, ['continue']) : COMMON_TEXTS.continue,
      };
    case 'input': {
      let pattern: RegExp | undefined;
      if (raw.validate.pattern !== undefined) {
        try {
          pattern = new RegExp(raw.validate.pattern, 'u');
        } catch (err) {
          out.problems.push({ ...at(['validate', 'pattern']), severity: 'error', message: `invalid pattern: ${(err as Error).message}` });
        }
      }
      if (raw.validate.min > raw.validate.max) {
        out.problems.push({ ...at(['validate', 'min']), severity: 'error', message: 'validate.min is greater than validate.max' });
      }
      out.inputFields.set(raw.save, Math.max(out.inputFields.get(raw.save) ?? 0, raw.validate.max));
      return {
        ...base,
        kind: 'input',
        save: raw.save,
        validate: { min: raw.validate.min, max: raw.validate.max, digits: raw.validate.digits ?? false, ...(pattern ? { pattern } : {}) },
        error: key(raw.error, ['error']),
        next: target(raw.next, ['next']),
        private: raw.private ?? false,
      };
    }
    case 'pick': {
      const params = raw.params ?? [];
      lookupSource(raw.source, params, 'items', 'list');
      // Labels come from imported data, up to 60 characters.
      out.inputFields.set(raw.save, Math.max(out.inputFields.get(raw.save) ?? 0, 60));
      return { ...base, kind: 'pick', source: raw.source, params, save: raw.save, next: target(raw.next, ['next']), empty: target(raw.empty, ['empty']) };
    }
    case 'choice': {
      const source = raw.list ? def.lists?.[raw.list] : raw.items;
      if (!source) {
        const message = raw.list ? `no list "${raw.list}" in this flow's lists` : 'a choice has `items` or `list`';
        out.problems.push({ ...at([raw.list ? 'list' : 'type']), severity: 'error', message });
        return undefined;
      }
      const itemsPath = raw.list ? ['lists', raw.list] : ['items'];
      const items = source.map((item, i) => ({
        value: item.value,
        label: raw.list ? qualifyKey(flow, item.label) : key(item.label, [...itemsPath, i, 'label']),
        ...(item.private ? { private: true } : {}),
      }));
      for (const item of items) {
        if (!item.private) continue;
        const values = out.privateAnswers.get(raw.save) ?? new Set<string>();
        values.add(item.value);
        out.privateAnswers.set(raw.save, values);
      }
      if (raw.list) items.forEach((item) => out.textUses.push({ key: item.label, at: at(['list']) }));
      const labels = out.choiceLabels.get(raw.save) ?? new Map<string, TextKey>();
      for (const item of items) labels.set(item.value, item.label);
      out.choiceLabels.set(raw.save, labels);
      return { ...base, kind: 'choice', save: raw.save, items, next: target(raw.next, ['next']) };
    }
    case 'confirm':
      return {
        ...base,
        kind: 'confirm',
        yes: target(raw.yes, ['yes']),
        no: target(raw.no, ['no']),
        yesLabel: raw.yes_label ? key(raw.yes_label, ['yes_label']) : COMMON_TEXTS.yes,
        noLabel: raw.no_label ? key(raw.no_label, ['no_label']) : COMMON_TEXTS.no,
      };
    case 'end':
      return { ...base, kind: 'end' };
  }
}

/** Builds the engine's view of resolved flows. Call only when validation found no error. */
export function buildCompiledFlows(
  resolved: ResolvedFlows,
  options: {
    hash: string;
    texts: TextLookup;
    limits: ScreenLimits;
    languages: readonly Lang[];
    voice?: boolean;
    rawText?: CompiledFlows['rawText'];
    variables?: CompiledFlows['variables'];
    recordings?: CompiledFlows['recordings'];
    recordingCoverage?: CompiledFlows['recordingCoverage'];
    voiceSettings?: CompiledFlows['voice'];
  },
): CompiledFlows {
  const entry = resolved.entry!;
  return Object.freeze({
    hash: options.hash,
    nodes: resolved.nodes,
    starts: resolved.starts,
    entryFlow: entry.flow,
    home: entry.home,
    languageNode: entry.language,
    languages: Object.freeze([...options.languages]),
    texts: options.texts,
    // A content with a voice line names a recorded answer in its own words.
    common: options.voice ? Object.freeze({ ...COMMON_TEXTS, recorded: VOICE_TEXTS.recorded }) : COMMON_TEXTS,
    limits: Object.freeze({ ...options.limits }),
    choiceLabels: resolved.choiceLabels,
    maxInvalid: MAX_INVALID,
    privateAnswers: resolved.privateAnswers,
    ...(options.rawText ? { rawText: options.rawText } : {}),
    ...(options.variables ? { variables: options.variables } : {}),
    ...(options.recordings ? { recordings: options.recordings } : {}),
    ...(options.recordingCoverage ? { recordingCoverage: options.recordingCoverage } : {}),
    ...(options.voiceSettings ? { voice: options.voiceSettings } : {}),
  });
}

