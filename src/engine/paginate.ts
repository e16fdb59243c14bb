/**
 * Splits a screen's content into pages that each fit the USSD limit for their
 * own encoding, navigation lines included. Body text breaks at word
 * boundaries; option lines are never split. The options of a question stay
 * together on its last page whenever they fit one screen, and a notice (an
 * invalid input) is laid over the page the caller is on without moving any
 * other page.
 */
import { fitsScreen, type ScreenLimits } from '../i18n/gsm.js';

export interface ScreenParts {
  /** prose above the options; may hold several paragraphs (`\n`) */
  body: string;
  /** option lines, each kept whole */
  items: readonly string[];
  /** line(s) shown at the bottom of the last page, or '' */
  footer: string;
  /** the line that leads to the next page (`98. Suite`) */
  more: string;
}

interface Piece {
  readonly text: string;
  /** how it joins the piece before it */
  readonly sep: ' ' | '\n';
  /** an option line (or, past a cut, a part of one) */
  readonly item: boolean;
}

/** One page as laid out: the body words on it, its option lines, and its last line. */
interface Page {
  readonly body: readonly Piece[];
  readonly items: readonly string[];
  /** `more` on every page but the last; the footer, or '', on the last */
  readonly nav: string;
}

interface Layout {
  readonly pages: readonly Page[];
  readonly texts: readonly string[];
  /** pages with a notice, by page and notices: a few per layout */
  readonly noticed: Map<string, string>;
}

function bodyPieces(body: string): Piece[] {
  const pieces: Piece[] = [];
  const paragraphs = body.split('\n').map((p) => p.trim()).filter((p) => p.length > 0);
  for (const paragraph of paragraphs) {
    paragraph.split(/ +/).forEach((word, i) => pieces.push({ text: word, sep: i === 0 ? '\n' : ' ', item: false }));
  }
  return pieces;
}

function join(pieces: readonly Piece[]): string {
  let out = '';
  pieces.forEach((piece, i) => {
    out = i === 0 ? piece.text : out + piece.sep + piece.text;
  });
  return out;
}

/** A page from consecutive pieces: body words first, then option lines, as they were given. */
function pageOf(pieces: readonly Piece[], nav: string): Page {
  return { body: pieces.filter((p) => !p.item), items: pieces.filter((p) => p.item).map((p) => p.text), nav };
}

function pageText(page: Page, notice = ''): string {
  const lines: string[] = [];
  if (notice) lines.push(notice);
  const body = join(page.body);
  if (body) lines.push(body);
  lines.push(...page.items);
  if (page.nav) lines.push(page.nav);
  return lines.join('\n');
}

function withSuffix(content: string, suffix: string): string {
  if (!suffix) return content;
  return content ? `${content}\n${suffix}` : suffix;
}

/** Cuts one word that cannot fit a page alone into chunks that do. */
function splitLongWord(word: string, suffix: string, limits: ScreenLimits): [string, string] {
  const chars = [...word];
  let n = chars.length - 1;
  while (n > 1 && !fitsScreen(withSuffix(chars.slice(0, n).join(''), suffix), limits)) n--;
  return [chars.slice(0, n).join(''), chars.slice(n).join('')];
}

/**
 * Fills pages in reading order, as many pieces on each as fit, every page but
 * the last ending with `more`; the last page holds `items` above `nav`.
 * Undefined when `items` and `nav` alone do not fit one screen.
 */
function fill(input: readonly Piece[], items: readonly string[], nav: string, more: string, limits: ScreenLimits): Page[] | undefined {
  const last = (rest: readonly Piece[]): Page => ({ body: rest.filter((p) => !p.item), items: [...rest.filter((p) => p.item).map((p) => p.text), ...items], nav });
  const fits = (page: Page) => fitsScreen(pageText(page), limits);
  if (items.length && !fits(last([]))) return undefined;
  const pieces = [...input];
  const pages: Page[] = [];
  let i = 0;
  // A bounded loop: every iteration ends the layout, or consumes at least one piece or part of one.
  for (;;) {
    if (i >= pieces.length || fits(last(pieces.slice(i)))) return [...pages, last(pieces.slice(i))];
    let j = i;
    while (j < pieces.length && fits(pageOf(pieces.slice(i, j + 1), more))) j++;
    if (j === pieces.length) {
      const from = lastPageStart(pieces, i, items.length > 0, (k) => fits(last(pieces.slice(k))));
      return [...pages, pageOf(pieces.slice(i, from), more), last(pieces.slice(from))];
    }
    if (j === i) {
      // One word longer than a page: cut it so that the caller still reads everything.
      const piece = pieces[i]!;
      const [head, tail] = splitLongWord(piece.text, more, limits);
      pages.push(pageOf([{ ...piece, text: head }], more));
      pieces[i] = { ...piece, text: tail };
      continue;
    }
    pages.push(pageOf(pieces.slice(i, j), more));
    i = j;
  }
}

/** Whether a piece starts a sentence: a paragraph's first word or an option line, or the word after a full stop. */
function startsSentence(pieces: readonly Piece[], k: number): boolean {
  return pieces[k]!.sep === '\n' || (k > 0 && /[.!?]$/.test(pieces[k - 1]!.text));
}

/**
 * Where the last page starts when the rest of the pieces (from `i`) fits a
 * page above `more` but not above the last page's own lines (`fitsLast(k)`:
 * whether the pieces from k fit there). Whole sentences go to the last page
 * when some fit there; else, above options, as many of the question's last
 * words as fit; else, at the end of a text, its last word.
 */
function lastPageStart(pieces: readonly Piece[], i: number, options: boolean, fitsLast: (k: number) => boolean): number {
  let first = i + 1;
  while (first < pieces.length && !fitsLast(first)) first++;
  if (first >= pieces.length - 1) return first;
  for (let k = first; k < pieces.length; k++) if (startsSentence(pieces, k)) return k;
  return options ? first : pieces.length - 1;
}

/**
 * The options together on the last page, when they fit one screen. The
 * footer goes only when the options cannot fit beside it, or when leaving it
 * out saves a page or brings the question's words beside its options (0 and
 * 00 still work without it). Undefined when the options alone cannot fit one
 * screen: then they page with the body, as a long list does.
 */
function optionsTogether(body: readonly Piece[], parts: ScreenParts, limits: ScreenLimits): Page[] | undefined {
  let best: Page[] | undefined;
  const withBody = (pages: Page[]) => body.length === 0 || pages[pages.length - 1]!.body.length > 0;
  for (const nav of parts.footer ? [parts.footer, ''] : ['']) {
    const pages = fill(body, parts.items, nav, parts.more, limits);
    if (!pages) continue;
    // Fewer pages first; then the question's own words beside its options; then the footer.
    if (!best || pages.length < best.length || (pages.length === best.length && withBody(pages) && !withBody(best))) best = pages;
  }
  return best;
}

function layOut(parts: ScreenParts, limits: ScreenLimits): Page[] {
  const body = bodyPieces(parts.body);
  if (parts.items.length > 0) {
    const together = optionsTogether(body, parts, limits);
    if (together) return together;
  }
  // Intermediate pages carry only the "more" line: the back/home line would
  // cost a fifth of an 80-character screen, and 0 still goes back from there.
  const items = parts.items.map((text): Piece => ({ text, sep: '\n', item: true }));
  return fill([...body, ...items], [], parts.footer, parts.more, limits)!;
}

/** Layouts already computed: a flow's screens are few, and a step repeats them. */
const layouts = new Map<string, Layout>();
const KEPT = 5000;

function layout(parts: ScreenParts, limits: ScreenLimits): Layout {
  const key = `${limits.gsm7}\u0000${limits.ucs2}\u0000${parts.body}\u0000${parts.items.join('\u0001')}\u0000${parts.footer}\u0000${parts.more}`;
  let found = layouts.get(key);
  if (!found) {
    if (layouts.size >= KEPT) layouts.clear();
    const pages = layOut(parts, limits);
    found = { pages, texts: pages.map((p) => pageText(p)), noticed: new Map() };
    layouts.set(key, found);
  }
  return found;
}

/**
 * Lays the parts out on as few pages as fit. Every page but the last ends with
 * `more`; the last ends with `footer`, except when the options could only stay
 * together, or fit on fewer pages, without it. Pure; the result of a given
 * input is remembered (a bounded cache), so a busy hotline measures each
 * screen once.
 *
 * @example
 * paginate({ body: 'Kalata', items: ['1. Wote cogo'], footer: '', more: '98. Nɔfɛta' }, { gsm7: 182, ucs2: 80 });
 * // ['Kalata\n1. Wote cogo']
 */
export function paginate(parts: ScreenParts, limits: ScreenLimits): string[] {
  return [...layout(parts, limits).texts];
}

/** The first sentence of a notice: what it says when the whole does not fit. */
export function firstSentence(text: string): string {
  const m = /^(.+?[.!?])\s/su.exec(text);
  return m ? m[1]! : text;
}

/**
 * The pages `paginate` gives, page `index` with a notice above it (an
 * invalid input): no other page moves, and no word moves to another page.
 * `notices` are in order of preference; the first that fits is shown, whole
 * or cut to its first sentence (write the essential first). When the page is
 * full, what gives way is, in order: the footer (0 and 00 still work), then
 * the page's first words, by whole sentences when some remain (the caller
 * has just read them), the notice then cut to its first sentence to keep
 * more of them; the options and the "more" line stay. Only when the options
 * alone fill the page does the shortest notice stand over as many of them as
 * fit (the others still answer).
 *
 * @example
 * const parts = { body: 'Wote cogo', items: ['1. Tɔgɔsɛbɛn', '2. Wote don'], footer: '', more: '98. Nɔfɛta' };
 * paginateWithNotice(parts, { gsm7: 182, ucs2: 80 }, 0, ['Fili don. Segin ka sugandi.']);
 * // ['Fili don. Segin ka sugandi.\nWote cogo\n1. Tɔgɔsɛbɛn\n2. Wote don']
 */
export function paginateWithNotice(parts: ScreenParts, limits: ScreenLimits, index: number, notices: readonly string[]): string[] {
  const { pages, texts, noticed } = layout(parts, limits);
  const out = [...texts];
  const at = Math.max(0, Math.min(index, pages.length - 1));
  const wanted = notices.filter((n) => n.length > 0);
  if (!wanted.length) return out;
  const key = `${at}\u0000${wanted.join('\u0001')}`;
  let text = noticed.get(key);
  if (text === undefined) {
    text = overlay(pages[at]!, at === pages.length - 1, wanted, limits) ?? texts[at]!;
    noticed.set(key, text);
  }
  out[at] = text;
  return out;
}

function overlay(page: Page, last: boolean, notices: readonly string[], limits: ScreenLimits): string | undefined {
  const fits = (p: Page, notice: string) => fitsScreen(pageText(p, notice), limits);
  const variants = last && page.nav ? [page, { ...page, nav: '' }] : [page];
  const bare: Page = { body: [], items: page.items, nav: last ? '' : page.nav };
  const allForms: string[] = [];
  for (const notice of notices) {
    const forms = [...new Set([notice, firstSentence(notice)])];
    allForms.push(...forms);
    for (const v of variants) for (const form of forms) if (fits(v, form)) return pageText(v, form);
    for (const form of [...forms].reverse()) {
      if (!fits(bare, form)) continue;
      let from = 0;
      while (from < page.body.length && !fits({ ...bare, body: page.body.slice(from) }, form)) from++;
      // Rather whole sentences than a sentence cut at its start, when some remain.
      for (let k = from; k < page.body.length; k++) {
        if (startsSentence(page.body, k)) {
          from = k;
          break;
        }
      }
      return pageText({ ...bare, body: page.body.slice(from) }, form);
    }
  }
  const shortest = allForms.reduce((a, b) => (b.length < a.length ? b : a));
  for (let n = page.items.length - 1; n >= 0; n--) {
    const some: Page = { ...bare, items: page.items.slice(0, n) };
    if (fits(some, shortest)) return pageText(some, shortest);
  }
  return undefined;
}
