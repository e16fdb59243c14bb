/**
 * What a caller sees of one string: the screens of every node that uses it
 * (or, for a variable, that uses a text holding it), in French and in both
 * Bambara spellings, with the page count; a string no screen shows (an SMS,
 * a status) is shown as the message it makes, with its SMS segments.
 * Rendered from the files on disk, as the reviewer edits them.
 */
import type { CompiledFlows, FlowNode, Lang } from '../../engine/types.js';
import { renderPages } from '../../engine/render.js';
import { checkFlows, type FlowSetOptions } from '../../flows/flow-set.js';
import { SAMPLE_REF } from '../../flows/screen-report.js';
import { measure, limitFor } from '../../i18n/gsm.js';
import { placeholders } from '../../i18n/locales.js';
import type { ReviewEntry } from '../../i18n/review.js';
import { measureSms } from '../../sms/sms-text.js';
import { t, word } from './console-i18n.js';

/** The columns a preview shows, in this order (labels in French: shown with `t()`). */
export const PREVIEW_COLUMNS = [
  { id: 'fr', label: word('Français'), lang: 'fr', spelling: 'standard' },
  { id: 'standard', label: word('Bamanankan (orthographe standard : ɛ ɔ ɲ ŋ)'), lang: 'bm', spelling: 'standard' },
  { id: 'gsm7', label: word('Bamanankan (orthographe GSM : è ò ny ng)'), lang: 'bm', spelling: 'gsm7' },
] as const;

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

/** The live options' flows compiled in both Bambara spellings from the files on disk (undefined while they have errors). */
export function compileBoth(options: FlowSetOptions): { standard?: CompiledFlows; gsm7?: CompiledFlows } {
  return { standard: checkFlows({ ...options, spelling: 'standard' }).flows, gsm7: checkFlows({ ...options, spelling: 'gsm7' }).flows };
}

/** The screens and messages that show `entry`. */
export function previewOf(entry: ReviewEntry, entries: readonly ReviewEntry[], compiled: { standard?: CompiledFlows; gsm7?: CompiledFlows }): Preview {
  const { standard, gsm7 } = compiled;
  if (!standard || !gsm7) return { screens: [], messages: [], more: 0, unavailable: t('Aperçu indisponible : les fichiers des menus ont des erreurs (voir la page Menus).') };
  if (entry.kind === 'keyword') return { screens: [], messages: [], more: 0, unavailable: t('Un mot-clé n’a pas d’écran : c’est ce que les gens écrivent par SMS au numéro de la ligne.') };
  const flowsOf = (spelling: 'standard' | 'gsm7') => (spelling === 'standard' ? standard : gsm7);
  // A variable is seen through the texts that hold it.
  const keys =
    entry.kind === 'text'
      ? new Set([entry.id])
      : new Set(entries.filter((e) => e.kind === 'text' && (placeholders(e.french).includes(entry.key) || placeholders(e.bambara).includes(entry.key))).map((e) => e.id));
  const nodes = [...standard.nodes.values()].filter((n) => [...keysOf(n)].some((k) => keys.has(k)));
  const screens = nodes.slice(0, MAX_SCREENS).map((node) => ({
    node: node.id,
    flow: node.flow,
    pages: Object.fromEntries(
      PREVIEW_COLUMNS.map((c) => {
        const flows = flowsOf(c.spelling);
        const pages = renderPages(flows, flows.nodes.get(node.id)!, { lang: c.lang as Lang, ref: SAMPLE_REF, answers: {}, trail: node.id === flows.home ? [] : [flows.home], invalid: 0 });
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
        PREVIEW_COLUMNS.map((c) => {
          const text = flowsOf(c.spelling).texts(c.lang as Lang, key, { ref: SAMPLE_REF });
          const m = measureSms(text);
          return [c.id, { text, segments: m.segments, encoding: m.encoding }];
        }),
      ),
    }));
  return { screens, messages, more: Math.max(0, nodes.length - MAX_SCREENS) };
}
