/**
 * Semantic checks on resolved flows: every target exists, every node is
 * reachable and can lead somewhere, every text exists in every language of
 * flows/languages.yaml with only known placeholders, and every variable has
 * a value in each.
 */
import { LOOKUP_SOURCES } from './lookup-sources.js';
import { getText, listKeys, placeholders, type LoadedLocales } from '../i18n/locales.js';
import type { FlowNode } from '../engine/types.js';
import { LANGUAGES_FILE, type LanguageSet } from '../i18n/languages.js';
import type { VariablesFile } from './flow-schema.js';
import type { ParsedFile } from './flow-loader.js';
import { hasVoiceTexts, VOICE_KEY_VAR, VOICE_NS, VOICE_TEXT_KEYS } from './channel-texts.js';
import { COMMON_TEXTS, type ResolvedFlows, type SourceRef } from './flow-compiler.js';
import type { Problem } from './problems.js';
import { REPORT_STATUSES, reportStatusKey, SMS_TEXTS } from '../sms/sms-text.js';

/** Variables every screen may use besides the admin-set ones. */
export const RUNTIME_VARIABLES = ['ref', 'status'] as const;

/**
 * Variables set from the deployment's configuration, so that what callers
 * are told stays true: how many days a reporter's number is kept
 * (PHONE_RETENTION_DAYS).
 */
export const CONFIG_VARIABLES = ['number_kept_days'] as const;

/** Texts that code sends or shows, besides those flows name. */
export const CODE_TEXTS: readonly string[] = [
  ...Object.values(COMMON_TEXTS),
  ...Object.values(SMS_TEXTS),
  ...REPORT_STATUSES.map(reportStatusKey),
];

function problem(at: SourceRef, message: string, severity: Problem['severity'] = 'error'): Problem {
  return { ...at, severity, message };
}

/** The nodes a node leads to (not counting back, home and language navigation). */
export function outgoing(node: FlowNode): string[] {
  switch (node.kind) {
    case 'menu':
      return node.options.map((o) => o.next);
    case 'info':
      return node.next ? [node.next] : [];
    case 'input':
    case 'choice':
      return [node.next];
    case 'confirm':
      return [node.yes, node.no];
    case 'pick':
      return [node.next, node.empty];
    case 'lookup':
      return [node.found, node.notFound];
    case 'branch':
      return [...new Set([...Object.values(node.cases), node.otherwise])];
    case 'end':
      return [];
  }
}

export function validateFlows(
  resolved: ResolvedFlows,
  locales: LoadedLocales,
  variablesFile: ParsedFile<VariablesFile> | undefined,
  flowsDir: string,
  languages: LanguageSet,
): Problem[] {
  const problems: Problem[] = [];
  const { nodes } = resolved;
  const variables = variablesFile?.data ?? {};

  if (!resolved.entry) {
    problems.push({ file: flowsDir, line: 1, col: 1, severity: 'error', message: 'no entry flow: one flow must name `home` and `language`' });
  }

  // Every target exists.
  for (const edge of resolved.edges) {
    if (!nodes.has(edge.to)) problems.push(problem(edge.at, `target "${edge.to}" does not exist`));
  }

  // Every node is reachable from the entry (its start, home and language menu).
  // Back, home and language navigation reach only nodes already reached.
  if (resolved.entry) {
    const seen = new Set<string>();
    const queue = [resolved.starts.get(resolved.entry.flow)!, resolved.entry.home, resolved.entry.language];
    while (queue.length) {
      const id = queue.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const node = nodes.get(id);
      if (node) queue.push(...outgoing(node));
    }
    for (const [id, at] of resolved.nodeSources) {
      if (!seen.has(id)) problems.push(problem(at, `node "${id}" cannot be reached from the entry flow`));
    }
  }

  // No dead ends: from every node the caller can go on, or leave by an end node.
  const canFinish = new Set<string>();
  let changed = true;
  while (changed) {
    changed = false;
    for (const [id, node] of nodes) {
      if (canFinish.has(id)) continue;
      const viaHome = node.nav && resolved.entry !== undefined && canFinish.has(resolved.entry.home) && id !== resolved.entry.home;
      if (node.kind === 'end' || viaHome || outgoing(node).some((t) => canFinish.has(t))) {
        canFinish.add(id);
        changed = true;
      }
    }
  }
  for (const [id, node] of nodes) {
    if (canFinish.has(id)) continue;
    const at = resolved.nodeSources.get(id)!;
    const why = outgoing(node).length === 0 ? 'has no way forward and no navigation' : 'never leads to an end';
    problems.push(problem(at, `dead end: node "${id}" ${why}`));
  }

  // A branch goes on by an answer some choice gives, for values it can give, and never to another branch.
  for (const [id, node] of nodes) {
    if (node.kind !== 'branch') continue;
    const at = resolved.nodeSources.get(id)!;
    const values = resolved.choiceLabels.get(node.on);
    if (!values) {
      problems.push(problem(at, `branch "${id}" goes by "${node.on}", which no choice saves`));
      continue;
    }
    for (const value of Object.keys(node.cases)) {
      if (!values.has(value)) problems.push(problem(at, `branch "${id}": no choice saving "${node.on}" has the value "${value}" (known: ${[...values.keys()].join(', ')})`));
    }
    for (const t of outgoing(node)) {
      if (nodes.get(t)?.kind === 'branch') problems.push(problem(at, `branch "${id}" leads to another branch "${t}": go to the node itself`));
    }
  }

  // Fields a report saves must be answers some node collects.
  const fields = new Set([...resolved.inputFields.keys(), ...resolved.choiceLabels.keys()]);
  for (const [id, node] of nodes) {
    for (const effect of node.effects) {
      if (effect.type !== 'save_report') continue;
      for (const f of effect.fields) {
        if (!fields.has(f)) problems.push(problem(resolved.nodeSources.get(id)!, `save_report field "${f}" is never asked`));
      }
    }
  }

  // A call-back request ends the call (the caller is told what happens next),
  // once per node, and its topic is a choice's answer: a value from a list,
  // never something the caller typed.
  for (const [id, node] of nodes) {
    const requests = node.effects.filter((e) => e.type === 'request_callback');
    if (!requests.length) continue;
    const at = resolved.nodeSources.get(id)!;
    if (node.kind !== 'end') problems.push(problem(at, `request_callback on "${id}": only an end node may ask for a call-back`));
    if (requests.length > 1) problems.push(problem(at, `request_callback on "${id}": one request per node`));
    for (const r of requests) {
      if (r.topic === undefined) continue;
      if (!resolved.choiceLabels.has(r.topic)) {
        const typed = resolved.inputFields.has(r.topic) ? ' (it is typed on an input: a topic comes from a choice)' : '';
        problems.push(problem(at, `request_callback topic "${r.topic}" is no choice's answer${typed}`));
      }
    }
  }

  // Every text in every language, non-empty, with known placeholders. The
  // engine's own texts are reported in the locale file that lacks them.
  // The SMS code sends (BUREAU by SMS) may use anything a lookup source provides.
  const catalogVars = Object.values(LOOKUP_SOURCES).flatMap((source) => source.provides);
  const knownVars = new Set<string>([...Object.keys(variables), ...RUNTIME_VARIABLES, ...CONFIG_VARIABLES, ...fields, ...resolved.lookupVars, ...catalogVars]);

  // An SMS copies only what lookups found, never what the caller typed.
  const typedFields = new Set([...nodes.values()].flatMap((n) => (n.kind === 'input' ? [n.save] : [])));
  for (const [id, node] of nodes) {
    for (const effect of node.effects) {
      if (effect.type !== 'send_sms') continue;
      for (const v of effect.vars) {
        if (!resolved.lookupVars.has(v)) problems.push(problem(resolved.nodeSources.get(id)!, `send_sms var "${v}" is not set by a lookup (known: ${[...resolved.lookupVars].join(', ') || 'none'})`));
        else if (typedFields.has(v)) problems.push(problem(resolved.nodeSources.get(id)!, `send_sms var "${v}" is also typed by a caller (input "${v}"): an SMS copies only looked-up values`));
      }
    }
  }

  // What is typed on a private input (a NINA number) must leave the session in
  // the same step: straight into a lookup that forgets it.
  for (const [id, node] of nodes) {
    if (node.kind !== 'input' || !node.private) continue;
    const next = nodes.get(node.next);
    if (!next || next.kind !== 'lookup' || !next.forget.includes(node.save)) {
      problems.push(problem(resolved.nodeSources.get(id)!, `private input "${id}" must lead straight to a lookup that forgets "${node.save}"`));
    }
  }
  // The voice line's own words, in every language, once the content has a voice line.
  const codeTexts = hasVoiceTexts(locales.resources, languages.source) ? [...CODE_TEXTS, ...VOICE_TEXT_KEYS] : CODE_TEXTS;
  const commonUses = codeTexts.map((key) => ({ key, at: undefined }));
  const checked = new Set<string>();
  for (const use of [...resolved.textUses, ...commonUses]) {
    const [ns, key] = use.key.split(':') as [string, string];
    for (const lang of languages.codes) {
      const file = locales.fileOf(lang, ns);
      const at: SourceRef = use.at ?? { file, line: 1, col: 1 };
      const once = `${use.key}|${lang}|${at.file}:${at.line}:${at.col}`;
      if (checked.has(once)) continue;
      checked.add(once);
      const text = getText(locales.resources, lang, ns, key);
      if (text === undefined) {
        problems.push(problem(at, `text "${use.key}" is missing in ${file}`));
        continue;
      }
      if (!text.trim()) problems.push(problem(at, `text "${use.key}" is empty in ${file}`));
      for (const name of placeholders(text)) {
        if (!knownVars.has(name) && !(ns === VOICE_NS && name === VOICE_KEY_VAR)) problems.push(problem(at, `text "${use.key}" (${lang}) uses unknown variable {{${name}}}`));
      }
    }
  }

  // Texts nobody uses, and Bambara awaiting review.
  const usedKeys = new Set([...resolved.textUses.map((u) => u.key), ...codeTexts]);
  for (const lang of languages.codes) {
    for (const [ns, texts] of Object.entries(locales.resources[lang] ?? {})) {
      const file = locales.fileOf(lang, ns);
      const keys = listKeys(texts);
      const unused = keys.filter((k) => !usedKeys.has(`${ns}:${k}`));
      if (unused.length) problems.push({ file, line: 1, col: 1, severity: 'warning', message: `unused texts: ${unused.join(', ')}` });
      const language = languages.get(lang)!;
      if (language.review) {
        const reviewed = locales.review.reviewed[lang]?.[ns] ?? new Set<string>();
        const pending = keys.filter((k) => !reviewed.has(k));
        if (pending.length) {
          problems.push({ file, line: 1, col: 1, severity: 'warning', message: `${pending.length} of ${keys.length} ${language.name} texts await a native speaker's review` });
        }
      }
    }
  }

  // Variables: every language set, none empty, no other language, none that the configuration sets.
  for (const [name, value] of Object.entries(variables)) {
    if ((CONFIG_VARIABLES as readonly string[]).includes(name)) {
      problems.push(problem({ file: variablesFile!.file, ...variablesFile!.locate([name]) }, `variable ${name} comes from the configuration (PHONE_RETENTION_DAYS): remove it here`));
    }
    for (const lang of languages.codes) {
      if (value[lang]?.trim()) continue;
      const at = { file: variablesFile!.file, ...variablesFile!.locate([name, lang]) };
      problems.push(problem(at, `variable ${name} has no ${lang} value`));
    }
    for (const key of Object.keys(value)) {
      if (key === 'sample' || languages.has(key)) continue;
      problems.push(problem({ file: variablesFile!.file, ...variablesFile!.locate([name, key]) }, `variable ${name} has a value for ${key}, which is not a language of ${LANGUAGES_FILE} (${languages.codes.join(', ')})`));
    }
  }

  // A language menu option names a language callers can have.
  for (const use of resolved.languageUses) {
    if (!languages.has(use.lang)) problems.push(problem(use.at, `language ${use.lang} is not a language of ${LANGUAGES_FILE} (${languages.codes.join(', ')})`));
  }
  return problems;
}

/**
 * A variable that still holds its shipped example (`sample:`), such as the
 * short code `*384*123#`, would send citizens somewhere else: an error in
 * production (the server refuses to start), a warning otherwise.
 */
export function sampleValueProblems(variablesFile: ParsedFile<VariablesFile> | undefined, production: boolean, languages: LanguageSet): Problem[] {
  const problems: Problem[] = [];
  for (const [name, value] of Object.entries(variablesFile?.data ?? {})) {
    if (value.sample === undefined) continue;
    for (const lang of languages.codes) {
      if (value[lang]?.trim() !== value.sample.trim()) continue;
      const at = { file: variablesFile!.file, ...variablesFile!.locate([name, lang]) };
      problems.push(problem(at, `variable ${name} (${lang}) still holds its sample value ${JSON.stringify(value.sample)}: set this deployment's own before going live`, production ? 'error' : 'warning'));
    }
  }
  return problems;
}

