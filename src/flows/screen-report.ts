/**
 * Renders every screen of every node in each language and Bambara spelling,
 * with the longest answers a caller could give, and checks each page against
 * the USSD limit for its encoding: as laid out, and with the notice an
 * invalid input lays over it. Reports what paging costs a caller: pages per
 * screen, screens over MAX_PAGES, and pages whose notice hides an option.
 */
import { LONGEST_LOOKUP_VALUES } from './lookup-sources.js';
import { fitsScreen, limitFor, measure, type Encoding } from '../i18n/gsm.js';
import { optionLines, renderPages, screenVars, type RenderState } from '../engine/render.js';
import type { CompiledFlows, FlowNode, Lang } from '../engine/types.js';
import type { LanguageSet } from '../i18n/languages.js';
import { applyTextForm, type TextForm } from '../i18n/text-form.js';
import type { ResolvedFlows } from './flow-compiler.js';
import type { Problem } from './problems.js';

export interface ScreenRow {
  node: string;
  lang: Lang;
  /** `-` for a language with one spelling */
  spelling: string;
  /** the text form a gateway shows it in, when not as written */
  form?: TextForm;
  pages: number;
  /** looked-up lists (pick nodes) are laid out with sample data: not counted in totals */
  sample: boolean;
  /** the longest page, in its encoding's units */
  longest: number;
  encoding: Encoding;
  limit: number;
}

/** Screens over this many pages are reported: each page past the first is one more 98 for the caller. */
export const MAX_PAGES = 3;

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
 * Lints the screens of one compiled variant (one spelling, in the languages
 * `langs` that have it, and the text form a gateway shows it in). Returns
 * the report rows and the problems found.
 */
export function lintScreens(
  flows: CompiledFlows,
  resolved: ResolvedFlows,
  options: { spelling: string; langs: readonly Lang[]; languages: LanguageSet; commonFile: (lang: Lang) => string; form?: TextForm },
): { rows: ScreenRow[]; problems: Problem[] } {
  const { spelling, langs, languages, form } = options;
  const rows: ScreenRow[] = [];
  const problems: Problem[] = [];
  for (const lang of langs) {
    const spelled = languages.spellingsOf(lang).length > 1;
    // A spelling made to stay in GSM-7 (Bambara's è ò ny ng) must not let a screen slip into UCS-2.
    const mustFit = form ? undefined : languages.get(lang)?.spellings.find((s) => s.name === spelling)?.encoding;
    const answers = worstAnswers(flows, resolved, lang);
    for (const [id, node] of flows.nodes) {
      if (node.kind === 'lookup' || node.kind === 'branch') continue; // never shown
      const at = resolved.nodeSources.get(id)!;
      const session: RenderState = {
        lang,
        ref: SAMPLE_REF,
        answers,
        trail: id === flows.home ? [] : [flows.home],
        invalid: 0,
        // A looked-up list at its worst: many names of the longest length imports allow.
        // (in a gateway's text form, the names too: the gateway folds the finished screen)
        ...(node.kind === 'pick' ? { picked: { node: id, items: form ? SAMPLE_PICKED.map((i) => ({ ...i, label: applyTextForm(i.label, form) })) : SAMPLE_PICKED } } : {}),
      };
      const label = `${lang}${spelled ? `, ${spelling} spelling` : ''}${form ? `, ${form} text form` : ''}`;
      const pages = renderPages(flows, node, session);
      const noticed = node.kind === 'end' ? [] : noticePages(flows, node, session, pages.length);
      const check = checkPages([...pages, ...noticed.map((n) => n.text)], flows.limits);
      const sample = node.kind === 'pick';
      rows.push({ node: id, lang, spelling: spelled ? spelling : '-', ...(form ? { form } : {}), pages: pages.length, sample, longest: check.longest, encoding: check.encoding, limit: check.encoding === 'GSM-7' ? flows.limits.gsm7 : flows.limits.ucs2 });
      // Not a picked list (its names are data, shown as imported: its sample is the worst case, not the
      // spelling's), nor the language menu (each language's name is written in itself: Français has a ç).
      if (mustFit && !sample && id !== flows.languageNode && check.encoding !== mustFit) {
        problems.push({ ...at, severity: 'error', message: `screen of "${id}" (${label}) needs ${check.encoding}: its letters outside ${mustFit} are not replaced by the spelling (languages.yaml)` });
      }
      if (check.over > 0) {
        problems.push({ ...at, severity: 'error', message: `screen of "${id}" (${label}) has a line too long for one screen` });
      }
      if (!sample && pages.length > MAX_PAGES) {
        problems.push({ ...at, severity: 'warning', message: `screen "${id}" (${label}) takes ${pages.length} pages at its longest: the caller presses 98 ${pages.length - 1} times to read it all` });
      }
      // Options that stay together on one page should stay whole under a notice too (a long list pages by items anyway).
      const options = optionLines(flows, node, session);
      if (!sample && options.length && fitsScreen(options.join('\n'), flows.limits)) {
        const hiddenOn = new Map<number, Set<string>>();
        for (const { page, text } of noticed) {
          const shown = new Set(text.split('\n'));
          for (const line of pages[page]!.split('\n')) {
            if (options.includes(line) && !shown.has(line)) hiddenOn.set(page, (hiddenOn.get(page) ?? new Set()).add(line));
          }
        }
        for (const [page, hidden] of hiddenOn) {
          problems.push({ ...at, severity: 'warning', message: `a wrong key on page ${page + 1} of "${id}" (${label}) shows the notice without ${[...hidden].join(', ')}: the options fill the page (shorten them)` });
        }
        const footer = flows.texts(lang, flows.common.backHome);
        const lastLines = pages[pages.length - 1]!.split('\n').filter((line) => line && !options.includes(line) && line !== footer);
        if (pages.length > 1 && lastLines.length === 0) {
          problems.push({ ...at, severity: 'warning', message: `the options of "${id}" (${label}) leave no room for its text on their page: the caller reads it on the page before, then presses 98 (shorten the options or the text)` });
        }
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
        problems.push({ file: options.commonFile(lang), line: 1, col: 1, severity: 'error', message: `"${key}" (${lang}${form ? `, ${form} text form` : ''}) is too long for one END screen` });
      }
    }
  }
  return { rows, problems };
}

/** Every page with the notice an invalid input lays over it; the last page also with 98's. */
function noticePages(flows: CompiledFlows, node: FlowNode, session: RenderState, count: number): { page: number; text: string }[] {
  const out: { page: number; text: string }[] = [];
  for (let page = 0; page < count; page++) {
    for (const notice of page === count - 1 ? (['invalid', 'no_more'] as const) : (['invalid'] as const)) {
      out.push({ page, text: renderPages(flows, node, { ...session, page, notice })[page]! });
    }
  }
  return out;
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

/** Which language and spelling a row is for, as the report names it. */
function variantOf(r: ScreenRow): string {
  const base = r.spelling === '-' ? r.lang : `${r.lang} ${r.spelling}`;
  return r.form ? `${base} ${r.form}` : base;
}

/**
 * Pages per screen, one column per language and spelling, with a total: what
 * paging costs a caller. Screens over MAX_PAGES are marked `!`; looked-up
 * lists (laid out with sample data) are marked `*` and left out of the totals.
 */
export function formatPagesReport(rows: readonly ScreenRow[]): string {
  const variants = [...new Set(rows.map(variantOf))];
  const nodes = [...new Set(rows.map((r) => r.node))];
  const cell = new Map(rows.map((r) => [`${r.node}\u0000${variantOf(r)}`, r]));
  const width = Math.max(12, ...variants.map((v) => v.length));
  const col = (text: string) => text.padStart(width);
  const lines = [`${'pages per screen'.padEnd(28)} ${variants.map(col).join(' ')}`];
  for (const node of nodes) {
    const cells = variants.map((v) => {
      const r = cell.get(`${node}\u0000${v}`);
      if (!r) return col('-');
      return col(`${r.pages}${r.sample ? '*' : r.pages > MAX_PAGES ? '!' : ' '}`);
    });
    lines.push(`${node.padEnd(28)} ${cells.join(' ')}`);
  }
  const totals = variants.map((v) => {
    const counted = rows.filter((r) => variantOf(r) === v && !r.sample);
    return col(`${counted.reduce((sum, r) => sum + r.pages, 0)} `);
  });
  const screens = variants.map((v) => col(`${rows.filter((r) => variantOf(r) === v && !r.sample).length} `));
  lines.push(`${'total pages'.padEnd(28)} ${totals.join(' ')}`, `${'screens counted'.padEnd(28)} ${screens.join(' ')}`);
  lines.push(`(! over ${MAX_PAGES} pages; * a looked-up list, laid out with ${SAMPLE_PICKED.length} sample names, not counted)`);
  return lines.join('\n');
}

/** The report as text: one line per node and language, then the longest screen per language. */
export function formatScreenReport(rows: readonly ScreenRow[]): string {
  const lines = rows.map(
    (r) =>
      `${r.node.padEnd(28)} ${r.lang}${r.spelling === '-' ? '         ' : ` ${r.spelling.padEnd(8)}`}${r.form ? ` ${r.form.padEnd(5)}` : ''} ${String(r.pages).padStart(2)} page(s)  longest ${String(r.longest).padStart(3)}/${r.limit} ${r.encoding}`,
  );
  const longest = new Map<string, ScreenRow>();
  for (const r of rows) {
    const k = `${r.spelling === '-' ? r.lang : `${r.lang}, ${r.spelling} spelling`}${r.form ? `, ${r.form} text form` : ''}`;
    const cur = longest.get(k);
    if (!cur || r.longest / r.limit > cur.longest / cur.limit) longest.set(k, r);
  }
  lines.push('');
  for (const [k, r] of longest) lines.push(`longest screen (${k}): ${r.node}, ${r.longest}/${r.limit} ${r.encoding}`);
  return lines.join('\n');
}
