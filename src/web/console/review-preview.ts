/**
 * What a caller sees of one string in the language under review: the screens
 * of every node that uses it (or, for a variable, that uses a text holding
 * it), in French and in each spelling of that language (as written, then its
 * own from languages.yaml, Bambara's `gsm7`), with the page count; a string
 * no screen shows (an SMS, a status) is shown as the message it makes, with
 * its SMS segments. Rendered from the files the review reads, as the reviewer
 * edits them.
 */
import type { CompiledFlows, FlowNode, Lang } from '../../engine/types.js';
import { renderPages } from '../../engine/render.js';
import { checkFlows, type FlowSetOptions } from '../../flows/flow-set.js';
import { AS_WRITTEN } from '../../i18n/languages.js';
import { SAMPLE_REF } from '../../flows/screen-report.js';
import { measure, limitFor } from '../../i18n/gsm.js';
import { placeholders } from '../../i18n/locales.js';
import type { ReviewEntry } from '../../i18n/review.js';
import { measureSms } from '../../sms/sms-text.js';
import { t } from './console-i18n.js';

/** One column of a preview: a language in one spelling. */
export interface PreviewColumn {
  /** the source language's code for the French column, the spelling's name (`standard`, `gsm7`) for the others */
  id: string;
  /** in the reader's language */
  label: string;
  lang: Lang;
  spelling: string;
}

export interface PreviewPage {
  text: string;
  length: number;
  limit: number;
  encoding: string;
}

export interface ScreenPreview {
  node: string;
  flow: string;
  /** column id -> the pages */
  pages: Record<string, PreviewPage[]>;
}

export interface MessagePreview {
  key: string;
  /** column id -> the text and its SMS segments */
  texts: Record<string, { text: string; segments: number; encoding: string }>;
}

export interface Preview {
  screens: ScreenPreview[];
  messages: MessagePreview[];
  /** nodes using it beyond those shown */
  more: number;
  /** why there is nothing to show, in the reader's language */
  unavailable?: string;
}

/** Nodes shown at most per string: a common text is on every screen. */
const MAX_SCREENS = 3;

function stringsOf(value: unknown, out: Set<string>): Set<string> {
  if (typeof value === 'string') out.add(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringsOf(v, out);
  return out;
}

/** The text keys a node shows (its text, option and item labels, yes/no, errors). */
function keysOf(node: FlowNode): Set<string> {
  return new Set([...stringsOf(node, new Set())].filter((s) => /^[a-z0-9_]+:[a-z0-9_.]+$/i.test(s)));
}

/** The flows as one language's reviewer sees them, compiled in each of its spellings (a spelling undefined while the files have errors). */
export interface CompiledSpellings {
  columns: PreviewColumn[];
  /** spelling name -> the flows */
  flows: Record<string, CompiledFlows | undefined>;
  /** the language's spellings besides the standard one */
  spellings: string[];
}

/** The options' flows compiled in every spelling of `lang` (as written first), and the columns that show them beside the source language. */
export function compileSpellings(options: FlowSetOptions, lang: Lang, name: string): CompiledSpellings {
  const standard = checkFlows({ ...options, spelling: AS_WRITTEN });
  const spellings = standard.languages.spellingsOf(lang).slice(1);
  const flows: Record<string, CompiledFlows | undefined> = { [AS_WRITTEN]: standard.flows };
  for (const spelling of spellings) flows[spelling] = checkFlows({ ...options, spelling }).flows;
  const source = standard.languages.source;
  const columns: PreviewColumn[] = [
    { id: source, label: t('Français'), lang: source, spelling: AS_WRITTEN },
    { id: AS_WRITTEN, label: t('{{language}} (orthographe standard)', { language: name }), lang, spelling: AS_WRITTEN },
    ...spellings.map((spelling) => ({ id: spelling, label: t('{{language}} (orthographe « {{spelling}} »)', { language: name, spelling }), lang, spelling })),
  ];
  return { columns, flows, spellings };
}

/** The screens and messages that show `entry`, in the columns of `compiled`. */
export function previewOf(entry: ReviewEntry, entries: readonly ReviewEntry[], compiled: CompiledSpellings): Preview {
  const { columns } = compiled;
  const standard = compiled.flows[AS_WRITTEN];
  if (!standard || columns.some((c) => !compiled.flows[c.spelling])) return { screens: [], messages: [], more: 0, unavailable: t('Aperçu indisponible : les fichiers des menus ont des erreurs (voir la page Menus).') };
  if (entry.kind === 'keyword') return { screens: [], messages: [], more: 0, unavailable: t('Un mot-clé n’a pas d’écran : c’est ce que les gens écrivent par SMS au numéro de la ligne.') };
  const flowsOf = (spelling: string) => compiled.flows[spelling]!;
  // A variable is seen through the texts that hold it.
  const keys =
    entry.kind === 'text'
      ? new Set([entry.id])
      : new Set(entries.filter((e) => e.kind === 'text' && e.language === entry.language && (placeholders(e.french).includes(entry.key) || placeholders(e.text).includes(entry.key))).map((e) => e.id));
  const nodes = [...standard.nodes.values()].filter((n) => [...keysOf(n)].some((k) => keys.has(k)));
  const screens = nodes.slice(0, MAX_SCREENS).map((node) => ({
    node: node.id,
    flow: node.flow,
    pages: Object.fromEntries(
      columns.map((c) => {
        const flows = flowsOf(c.spelling);
        const pages = renderPages(flows, flows.nodes.get(node.id)!, { lang: c.lang, ref: SAMPLE_REF, answers: {}, trail: node.id === flows.home ? [] : [flows.home], invalid: 0 });
        return [c.id, pages.map((text) => {
          const m = measure(text);
          return { text, length: m.length, encoding: m.encoding, limit: limitFor(m, flows.limits) };
        })];
      }),
    ),
  }));
  const shown = new Set(nodes.flatMap((n) => [...keysOf(n)]));
  const messages = [...keys]
    .filter((k) => !shown.has(k))
    .slice(0, MAX_SCREENS)
    .map((key) => ({
      key,
      texts: Object.fromEntries(
        columns.map((c) => {
          const text = flowsOf(c.spelling).texts(c.lang, key, { ref: SAMPLE_REF });
          const m = measureSms(text);
          return [c.id, { text, segments: m.segments, encoding: m.encoding }];
        }),
      ),
    }));
  return { screens, messages, more: Math.max(0, nodes.length - MAX_SCREENS) };
}
