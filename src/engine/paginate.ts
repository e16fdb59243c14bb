/**
 * Splits a screen's content into pages that each fit the USSD limit for their
 * own encoding, navigation lines included. Body text breaks at word
 * boundaries; option lines are never split.
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
  text: string;
  /** how it joins the piece before it */
  sep: ' ' | '\n';
}

function toPieces(body: string, items: readonly string[]): Piece[] {
  const pieces: Piece[] = [];
  const paragraphs = body.split('\n').map((p) => p.trim()).filter((p) => p.length > 0);
  for (const paragraph of paragraphs) {
    paragraph.split(/ +/).forEach((word, i) => pieces.push({ text: word, sep: i === 0 ? '\n' : ' ' }));
  }
  for (const item of items) pieces.push({ text: item, sep: '\n' });
  return pieces;
}

function join(pieces: readonly Piece[], from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const piece = pieces[i]!;
    out = i === from ? piece.text : out + piece.sep + piece.text;
  }
  return out;
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

/** Layouts already computed: a flow's screens are few, and a step repeats them. */
const layouts = new Map<string, readonly string[]>();
const LAYOUTS_KEPT = 5000;

/**
 * Lays the parts out on as few pages as fit. Every page but the last ends with
 * `more`; the last ends with `footer`. Pure; the result of a given input is
 * remembered (a bounded cache), so a busy hotline measures each screen once.
 */
export function paginate(parts: ScreenParts, limits: ScreenLimits): string[] {
  const key = `${limits.gsm7}\u0000${limits.ucs2}\u0000${parts.body}\u0000${parts.items.join('\u0001')}\u0000${parts.footer}\u0000${parts.more}`;
  let pages = layouts.get(key);
  if (!pages) {
    if (layouts.size >= LAYOUTS_KEPT) layouts.clear();
    pages = layOut(parts, limits);
    layouts.set(key, pages);
  }
  return [...pages];
}

function layOut(parts: ScreenParts, limits: ScreenLimits): string[] {
  const pieces = toPieces(parts.body, parts.items);
  const lastSuffix = parts.footer;
  // Intermediate pages carry only the "more" line: the back/home line would
  // cost a fifth of an 80-character screen, and 0 still goes back from there.
  const moreSuffix = parts.more;
  const pages: string[] = [];
  let i = 0;
  // A bounded loop: every iteration consumes at least one piece or part of one.
  while (i < pieces.length || pages.length === 0) {
    const rest = join(pieces, i, pieces.length);
    const finalPage = withSuffix(rest, lastSuffix);
    if (fitsScreen(finalPage, limits) || i >= pieces.length) {
      pages.push(finalPage);
      break;
    }
    let j = i;
    while (j < pieces.length && fitsScreen(withSuffix(join(pieces, i, j + 1), moreSuffix), limits)) j++;
    if (j === pieces.length) {
      // The rest fits beside "more" but not beside the (longer) footer: leave
      // the last piece for a final page, so that the footer is never lost.
      j = pieces.length - 1;
      if (j === i) {
        pages.push(withSuffix(rest, moreSuffix), lastSuffix);
        break;
      }
    }
    if (j === i) {
      // One word longer than a page: cut it so that the caller still reads everything.
      const [head, tail] = splitLongWord(pieces[i]!.text, moreSuffix, limits);
      pages.push(withSuffix(head, moreSuffix));
      pieces[i] = { text: tail, sep: pieces[i]!.sep };
      continue;
    }
    pages.push(withSuffix(join(pieces, i, j), moreSuffix));
    i = j;
  }
  return pages;
}
