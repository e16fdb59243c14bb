/**
 * Renders every screen of every node in each language and Bambara spelling,
 * with the longest answers a caller could give, and checks each page against
 * the USSD limit for its encoding.
 */
import { LONGEST_LOOKUP_VALUES } from './lookup-sources.js';
import { limitFor, measure, type Encoding } from '../i18n/gsm.js';
import { renderPages, screenVars, type RenderState } from '../engine/render.js';
import { LANGUAGES, type CompiledFlows, type FlowNode, type Lang } from '../engine/types.js';
import type { BambaraSpelling } from '../i18n/bambara-spelling.js';
import type { ResolvedFlows } from './flow-compiler.js';
import type { Problem } from './problems.js';

export interface ScreenRow {
  node: string;
  lang: Lang;
  spelling: BambaraSpelling | '-';
  pages: number;
  /** the longest page, in its encoding's units */
  longest: number;
  encoding: Encoding;
  limit: number;
}

/** A reference as long as any the shell mints. */
export const SAMPLE_REF = 'KA-WWWWWWW';

function worstAnswers(flows: CompiledFlows, resolved: ResolvedFlows, lang: Lang): Record<string, string> {
  const answers: Record<string, string> = { ...LONGEST_LOOKUP_VALUES };
  for (const [field, max] of resolved.inputFields) answers[field] = 'W'.repeat(max);
  for (const [field, labels] of resolved.choiceLabels) {
    let longest = '';
    let longestLength = -1;
    for (const [value, key] of labels) {
      const length = measure(flows.texts(lang, key)).length;
      if (length > longestLength) [longest, longestLength] = [value, length];
    }
    answers[field] = longest;
  }
  return answers;
}

/** The fullest page (length against its own encoding's limit), and how many pages are over. */
function checkPages(pages: string[], limits: CompiledFlows['limits']): { longest: number; encoding: Encoding; over: number } {
  let longest = 0;
  let encoding: Encoding = 'GSM-7';
  let fullest = -1;
  let over = 0;
  for (const page of pages) {
    const m = measure(page);
    const fill = m.length / limitFor(m, limits);
    if (fill > fullest) [fullest, longest, encoding] = [fill, m.length, m.encoding];
    if (m.length > limitFor(m, limits)) over++;
  }
  return { longest, encoding, over };
}

/**
 * Lints the screens of one compiled variant (one Bambara spelling).
 * Returns the report rows and the problems found.
 */
export function lintScreens(
  flows: CompiledFlows,
  resolved: ResolvedFlows,
  options: { spelling: BambaraSpelling; includeFrench: boolean; commonFile: (lang: Lang) => string },
): { rows: ScreenRow[]; problems: Problem[] } {
  const { spelling, includeFrench } = options;
  const rows: ScreenRow[] = [];
  const problems: Problem[] = [];
  const langs = LANGUAGES.filter((l) => l === 'bm' || includeFrench);
  for (const lang of langs) {
    const answers = worstAnswers(flows, resolved, lang);
    for (const [id, node] of flows.nodes) {
      if (node.kind === 'lookup') continue; // never shown
      const at = resolved.nodeSources.get(id)!;
      const session: RenderState = {
        lang,
        ref: SAMPLE_REF,
        answers,
        trail: id === flows.home ? [] : [flows.home],
        invalid: 0,
        // A looked-up list at its worst: many names of the longest length imports allow.
        ...(node.kind === 'pick' ? { picked: { node: id, items: SAMPLE_PICKED } } : {}),
      };
      const label = `${lang}${lang === 'bm' ? `, ${spelling} spelling` : ''}`;
      const pages = renderPages(flows, node, session);
      const check = checkPages([...pages, ...renderPages(flows, node, { ...session, invalid: 1 })], flows.limits);
      rows.push({ node: id, lang, spelling: lang === 'bm' ? spelling : '-', pages: pages.length, longest: check.longest, encoding: check.encoding, limit: check.encoding === 'GSM-7' ? flows.limits.gsm7 : flows.limits.ucs2 });
      if (check.over > 0) {
        problems.push({ ...at, severity: 'error', message: `screen of "${id}" (${label}) has a line too long for one screen` });
      }
      if (node.kind === 'end') {
        const whole = flows.texts(lang, node.text, screenVars(flows, session));
        const m = measure(whole);
        if (m.length > limitFor(m, flows.limits)) {
          problems.push({ ...at, severity: 'error', message: `end screen "${id}" (${label}) is ${m.length} characters in ${m.encoding}, over the ${limitFor(m, flows.limits)} limit: the session closes on it, so it cannot be paginated` });
        }
      }
      for (const over of overlongOptions(flows, node, session)) {
        problems.push({ ...at, severity: 'error', message: `option "${over}" of "${id}" (${label}) does not fit a screen with the navigation lines` });
      }
    }
    for (const key of [flows.common.tooManyInvalid, flows.common.unavailable, flows.common.sessionOver, flows.common.rateLimited]) {
      const m = measure(flows.texts(lang, key));
      if (m.length > limitFor(m, flows.limits)) {
        problems.push({ file: options.commonFile(lang), line: 1, col: 1, severity: 'error', message: `"${key}" (${lang}) is too long for one END screen` });
      }
    }
  }
  return { rows, problems };
}

/** Option lines that cannot fit a page even alone with the more and back/home lines. */
function overlongOptions(flows: CompiledFlows, node: FlowNode, session: Pick<RenderState, 'lang' | 'trail'>): string[] {
  const labels =
    node.kind === 'menu' ? node.options.map((o) => o.label) : node.kind === 'choice' ? node.items.map((i) => i.label) : [];
  const more = flows.texts(session.lang, flows.common.more);
  const footer = session.trail.length > 0 ? flows.texts(session.lang, flows.common.backHome) : '';
  const tooLong = (text: string) => {
    const m = measure(text);
    return m.length > limitFor(m, flows.limits);
  };
  return labels
    .map((key, i) => `${i + 1}. ${flows.texts(session.lang, key)}`)
    .filter((line) => tooLong(`${line}\n${more}`) || (footer !== '' && tooLong(`${line}\n${footer}`)));
}

const SAMPLE_PICKED = Array.from({ length: 40 }, (_, i) => ({ value: `c${i}`, label: `Centre ${String(i + 1).padStart(2, '0')} ${'ɛ'.repeat(50)}` }));

/** The report as text: one line per node and language, then the longest screen per language. */
export function formatScreenReport(rows: readonly ScreenRow[]): string {
  const lines = rows.map(
    (r) =>
      `${r.node.padEnd(28)} ${r.lang}${r.spelling === '-' ? '         ' : ` ${r.spelling.padEnd(8)}`} ${String(r.pages).padStart(2)} page(s)  longest ${String(r.longest).padStart(3)}/${r.limit} ${r.encoding}`,
  );
  const longest = new Map<string, ScreenRow>();
  for (const r of rows) {
    const k = r.spelling === '-' ? r.lang : `${r.lang}, ${r.spelling} spelling`;
    const cur = longest.get(k);
    if (!cur || r.longest / r.limit > cur.longest / cur.limit) longest.set(k, r);
  }
  lines.push('');
  for (const [k, r] of longest) lines.push(`longest screen (${k}): ${r.node}, ${r.longest}/${r.limit} ${r.encoding}`);
  return lines.join('\n');
}
