/**
 * paginate(): examples of how a screen's content is laid out on USSD pages,
 * then properties over arbitrary bodies and option lists in GSM-7 and UCS-2;
 * noticePage(): a notice laid over one page.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { firstSentence, paginate, paginateWithNotice, type ScreenParts } from '../../src/engine/paginate.js';
import { fitsScreen, measure, type ScreenLimits } from '../../src/i18n/gsm.js';

const LIMITS: ScreenLimits = { gsm7: 182, ucs2: 80 };
const SMALL: ScreenLimits = { gsm7: 160, ucs2: 70 };

const MORE = '98. Suite';
const FOOTER = '0. Retour 00. Accueil';

/** Words of a text, split on any whitespace. */
function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

/** The words a caller should read, body first, then option lines. */
function expectedWords(parts: Pick<ScreenParts, 'body' | 'items'>): string[] {
  return [...words(parts.body), ...parts.items.flatMap(words)];
}

/**
 * Strips the navigation line from every page (asserting it is there: `more` on
 * every page but the last, `footer` on the last) and returns what is left.
 */
function contents(pages: readonly string[], parts: Pick<ScreenParts, 'footer' | 'more'>): string[] {
  return pages.map((page, i) => {
    const suffix = i < pages.length - 1 ? parts.more : parts.footer;
    if (!suffix) return page;
    if (page === suffix) return '';
    expect(page.endsWith(`\n${suffix}`)).toBe(true);
    return page.slice(0, -(suffix.length + 1));
  });
}

/** The same as `contents`, but tolerant of a missing navigation line (for the properties about words). */
function contentsLoose(pages: readonly string[], parts: Pick<ScreenParts, 'footer' | 'more'>): string[] {
  return pages.map((page) => {
    for (const suffix of [parts.more, parts.footer]) {
      if (!suffix) continue;
      if (page === suffix) return '';
      if (page.endsWith(`\n${suffix}`)) return page.slice(0, -(suffix.length + 1));
    }
    return page;
  });
}

/** The page a notice stands on, out of paginateWithNotice's pages (the index clamped as it clamps it). */
function noticePage(parts: ScreenParts, limits: ScreenLimits, index: number, notices: readonly string[]): string {
  const pages = paginateWithNotice(parts, limits, index, notices);
  return pages[Math.min(index, pages.length - 1)]!;
}

/** No lone surrogate: a cut never falls inside a surrogate pair. */
function wellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

function allFit(pages: readonly string[], limits: ScreenLimits): void {
  for (const page of pages) {
    const m = measure(page);
    expect({ page, ...m, fits: fitsScreen(page, limits) }).toEqual({ page, ...m, fits: true });
  }
}

describe('paginate: examples', () => {
  it('puts everything on one page when it fits, footer last', () => {
    const parts: ScreenParts = {
      body: 'Kalata: infos sur le vote',
      items: ['1. Comment voter', '2. Aide'],
      footer: FOOTER,
      more: MORE,
    };
    expect(paginate(parts, LIMITS)).toEqual([`Kalata: infos sur le vote\n1. Comment voter\n2. Aide\n${FOOTER}`]);
  });

  it('keeps paragraphs on their own lines and drops blank ones', () => {
    const pages = paginate({ body: '  Premier   paragraphe.\n\n  Second. ', items: ['1. Oui'], footer: '', more: MORE }, LIMITS);
    expect(pages).toEqual(['Premier paragraphe.\nSecond.\n1. Oui']);
  });

  it('yields one page holding only the footer when there is no content', () => {
    expect(paginate({ body: '', items: [], footer: FOOTER, more: MORE }, LIMITS)).toEqual([FOOTER]);
    expect(paginate({ body: '', items: [], footer: '', more: MORE }, LIMITS)).toEqual(['']);
  });

  it('splits a long body at word boundaries, losing and repeating nothing', () => {
    const body = Array.from({ length: 80 }, (_, i) => `mot${i + 1}`).join(' ');
    const parts: ScreenParts = { body, items: [], footer: FOOTER, more: MORE };
    const pages = paginate(parts, LIMITS);
    expect(pages.length).toBeGreaterThan(1);
    allFit(pages, LIMITS);
    const content = contents(pages, parts);
    // no word cut: every token on a page is a whole word of the body
    const bodyWords = new Set(words(body));
    for (const c of content) for (const w of words(c)) expect(bodyWords.has(w)).toBe(true);
    expect(content.flatMap(words)).toEqual(words(body));
  });

  it('ends every page but the last with `more`, and the last with the footer', () => {
    const body = Array.from({ length: 120 }, (_, i) => `w${i}`).join(' ');
    const parts: ScreenParts = { body, items: ['1. Continuer'], footer: FOOTER, more: MORE };
    const pages = paginate(parts, LIMITS);
    expect(pages.length).toBeGreaterThanOrEqual(2);
    pages.slice(0, -1).forEach((p) => expect(p.endsWith(`\n${MORE}`)).toBe(true));
    expect(pages[pages.length - 1]!.endsWith(`\n1. Continuer\n${FOOTER}`)).toBe(true);
    pages.slice(0, -1).forEach((p) => expect(p.includes(FOOTER)).toBe(false));
  });

  it('fills pages as much as it can (a page is never shorter than needed)', () => {
    // 10 words of 9 characters + spaces: 99 septets; with `more` a 60-septet
    // screen holds 5 words (49 + 10), not 6 (59 + 10).
    const body = Array.from({ length: 10 }, (_, i) => `mmmmmmmm${i}`).join(' ');
    const pages = paginate({ body, items: [], footer: '', more: MORE }, { gsm7: 60, ucs2: 30 });
    expect(pages).toHaveLength(2);
    expect(words(pages[0]!.slice(0, -MORE.length))).toHaveLength(5);
    expect(pages[1]).toBe(words(body).slice(5).join(' '));
  });

  it('never splits an option line', () => {
    const items = Array.from({ length: 21 }, (_, i) => `${i + 1}. Région numéro ${i + 1} ɲɔrɔ`);
    const parts: ScreenParts = { body: 'Mara:', items, footer: '0. Segin 00. Daminɛ', more: '98. Nɔfɛta' };
    const pages = paginate(parts, LIMITS);
    expect(pages.length).toBeGreaterThan(3);
    allFit(pages, LIMITS);
    const lines = pages.flatMap((p) => p.split('\n'));
    const found = lines.filter((l) => items.includes(l));
    expect(found).toEqual(items);
  });

  it('cuts a single word longer than a screen, losing nothing', () => {
    const word = Array.from({ length: 500 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const parts: ScreenParts = { body: `Avant ${word} après`, items: ['1. Oui'], footer: FOOTER, more: MORE };
    const pages = paginate(parts, LIMITS);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    allFit(pages, LIMITS);
    const joined = contentsLoose(pages, parts).join('').replace(/\s+/g, '');
    expect(joined).toBe(`Avant${word}après1.Oui`);
  });

  it('cuts a long word of UCS-2 characters, emoji included, without splitting a surrogate pair', () => {
    const word = 'ɛ😀ŋ'.repeat(60); // 240 code points, 300 UTF-16 units
    const parts: ScreenParts = { body: word, items: [], footer: '', more: MORE };
    const pages = paginate(parts, LIMITS);
    allFit(pages, LIMITS);
    for (const p of pages) expect(wellFormed(p)).toBe(true);
    expect(contents(pages, parts).join('')).toBe(word);
  });

  describe('limits per encoding', () => {
    it('a GSM-7 page holds up to 182 septets', () => {
      expect(paginate({ body: 'a'.repeat(182), items: [], footer: '', more: MORE }, LIMITS)).toHaveLength(1);
      expect(paginate({ body: 'a'.repeat(183), items: [], footer: '', more: MORE }, LIMITS)).toHaveLength(2);
    });

    it('a UCS-2 page holds up to 80 UTF-16 units', () => {
      expect(paginate({ body: 'ɛ'.repeat(80), items: [], footer: '', more: MORE }, LIMITS)).toHaveLength(1);
      expect(paginate({ body: 'ɛ'.repeat(81), items: [], footer: '', more: MORE }, LIMITS)).toHaveLength(2);
    });

    it('one non-GSM character (ɛ) turns its page into UCS-2 with 80 units', () => {
      // 100 GSM characters fit a GSM-7 page; with one ɛ they no longer fit one page.
      const gsm = Array.from({ length: 20 }, () => 'abcd').join(' '); // 99 characters
      expect(paginate({ body: gsm, items: [], footer: FOOTER, more: MORE }, LIMITS)).toHaveLength(1);
      const parts: ScreenParts = { body: `${gsm} ɛ`, items: [], footer: FOOTER, more: MORE };
      const pages = paginate(parts, LIMITS);
      expect(pages.length).toBeGreaterThan(1);
      allFit(pages, LIMITS);
      const withE = pages.filter((p) => p.includes('ɛ'));
      expect(withE).toHaveLength(1);
      expect(measure(withE[0]!).encoding).toBe('UCS-2');
      expect(measure(withE[0]!).length).toBeLessThanOrEqual(80);
      expect(contents(pages, parts).flatMap(words)).toEqual(words(parts.body));
    });

    it('pages without a non-GSM character keep the GSM-7 limit', () => {
      const body = ['ɛ', ...Array.from({ length: 40 }, () => 'abcd')].join(' '); // 201 characters
      const parts: ScreenParts = { body, items: [], footer: '', more: MORE };
      const pages = paginate(parts, LIMITS);
      expect(pages).toHaveLength(2);
      expect(measure(pages[0]!)).toEqual({ encoding: 'UCS-2', length: expect.any(Number) });
      expect(measure(pages[0]!).length).toBeLessThanOrEqual(80);
      expect(measure(pages[1]!).encoding).toBe('GSM-7');
      expect(measure(pages[1]!).length).toBeGreaterThan(80);
      expect(contents(pages, parts).flatMap(words)).toEqual(words(body));
    });

    it('a non-GSM `more` or footer line counts on the page it ends', () => {
      const body = Array.from({ length: 30 }, () => 'abcd').join(' '); // 149 GSM characters
      const pages = paginate({ body, items: [], footer: '0. Segin 00. Daminɛ', more: '98. Nɔfɛta' }, LIMITS);
      expect(pages.length).toBeGreaterThan(1);
      for (const p of pages) {
        expect(measure(p).encoding).toBe('UCS-2');
        expect(p.length).toBeLessThanOrEqual(80);
      }
    });

    it('extension characters (€, {, }, [, ], ~, ^, |, \\) count two septets', () => {
      for (const ch of '€{}[]~^|\\') expect(measure(ch)).toEqual({ encoding: 'GSM-7', length: 2 });
      expect(paginate({ body: '€'.repeat(91), items: [], footer: '', more: MORE }, LIMITS)).toEqual(['€'.repeat(91)]);
      const pages = paginate({ body: '€'.repeat(92), items: [], footer: '', more: MORE }, LIMITS);
      expect(pages).toHaveLength(2);
      allFit(pages, LIMITS);
      expect(contents(pages, { footer: '', more: MORE }).join('')).toBe('€'.repeat(92));
      // 100 characters but 200 septets: more than one page
      const braces = paginate({ body: '{'.repeat(100), items: [], footer: '', more: MORE }, LIMITS);
      expect(braces.length).toBe(2);
      allFit(braces, LIMITS);
    });
  });

  describe('the options of a question stay together on its last page', () => {
    const SEGIN = '0. Segin 00. Daminɛ';
    const NOFETA = '98. Nɔfɛta';

    it('a Bambara confirm keeps 1 and 2 on one page, leaving out the footer when that saves a page', () => {
      const parts: ScreenParts = {
        body: 'Nin kofɔli ci wa? Bagabagali walima fariyakow, Mali kɔkan.',
        items: ['1. A ci', '2. A dabila'],
        footer: SEGIN,
        more: NOFETA,
      };
      // with the footer: 98 units, over 80; without it: 78
      expect(paginate(parts, LIMITS)).toEqual(['Nin kofɔli ci wa? Bagabagali walima fariyakow, Mali kɔkan.\n1. A ci\n2. A dabila']);
    });

    it('keeps the footer when everything fits with it', () => {
      const parts: ScreenParts = { body: 'Nin kofɔli ci wa? Wote sanni, Segu.', items: ['1. A ci', '2. A dabila'], footer: SEGIN, more: NOFETA };
      expect(paginate(parts, LIMITS)).toEqual([`Nin kofɔli ci wa? Wote sanni, Segu.\n1. A ci\n2. A dabila\n${SEGIN}`]);
    });

    it('flows a long question over pages with `more`, its last words above all the options and the footer', () => {
      const body = `${Array.from({ length: 14 }, (_, i) => `kɔ${i + 1}`).join(' ')} ci wa?`;
      const parts: ScreenParts = { body, items: ['1. A ci', '2. A dabila'], footer: SEGIN, more: NOFETA };
      const pages = paginate(parts, LIMITS);
      expect(pages.length).toBe(2);
      allFit(pages, LIMITS);
      expect(pages[0]!.endsWith(`\n${NOFETA}`)).toBe(true);
      expect(pages[0]).not.toContain('1. A ci');
      expect(pages[1]!.endsWith(`ci wa?\n1. A ci\n2. A dabila\n${SEGIN}`)).toBe(true);
      expect(contentsLoose(pages, parts).flatMap(words)).toEqual(expectedWords(parts));
    });

    it('gives the last page the longest end of the question that fits, rather than a page of options alone', () => {
      // 60 units of body fit above `more` (71), not above the options and footer.
      const body = 'Nanbara kofɔ. I ka nimɔrɔ tɛ jira. Kofɔli bɛ se ka kɛ sisan.';
      const parts: ScreenParts = { body, items: ['1. Kofɔli kɛ', '2. Jɔn wɛrɛ ka kan ka kunnafoni'], footer: SEGIN, more: NOFETA };
      const pages = paginate(parts, LIMITS);
      expect(pages).toHaveLength(2);
      const [first, last] = pages as [string, string];
      expect(last.split('\n').slice(-3)).toEqual(['1. Kofɔli kɛ', '2. Jɔn wɛrɛ ka kan ka kunnafoni', SEGIN]);
      expect(last.split('\n').length).toBe(4); // some of the question stands above its options
      expect(first.endsWith(`\n${NOFETA}`)).toBe(true);
      expect(contents(pages, parts).flatMap(words)).toEqual(words(body).concat(parts.items.flatMap(words)));
    });

    it('a menu whose options fit one screen only without the footer shows them all there, the title before', () => {
      // The Bambara vote menu: 78 units of options, 98 with the footer, 88 with the title.
      const items = ['1. Tɔgɔsɛbɛn', '2. Sɛbɛn minnu bɛ ta', '3. Wote don', '4. Jɔn bɛ se ka wote', '5. Wote yɔrɔ'];
      const pages = paginate({ body: 'Wote cogo', items, footer: SEGIN, more: NOFETA }, LIMITS);
      expect(pages).toEqual([`Wote cogo\n${NOFETA}`, items.join('\n')]);
    });

    it('a list too long for one screen still pages by items, the prompt with the first ones', () => {
      const items = Array.from({ length: 21 }, (_, i) => `${i + 1}. Mara ${i + 1}`);
      const parts: ScreenParts = { body: 'Mara:', items, footer: SEGIN, more: NOFETA };
      const pages = paginate(parts, LIMITS);
      expect(pages.length).toBeGreaterThan(1);
      expect(pages[0]!.startsWith('Mara:\n1. Mara 1\n')).toBe(true);
      expect(pages[pages.length - 1]!.endsWith(`21. Mara 21\n${SEGIN}`)).toBe(true);
      allFit(pages, LIMITS);
    });
  });

  describe('a notice over one page', () => {
    const NOTICE = 'Fili don. Segin ka sugandi.';
    const SEGIN = '0. Segin 00. Daminɛ';
    const NOFETA = '98. Nɔfɛta';

    it('stands above the page when both fit, and moves no other page', () => {
      const body = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');
      const parts: ScreenParts = { body, items: ['1. Ɔwɔ'], footer: FOOTER, more: MORE };
      const pages = paginate(parts, { gsm7: 182, ucs2: 60 });
      expect(pages.length).toBeGreaterThan(1);
      expect(noticePage(parts, LIMITS, 0, ['Choix non valide.'])).toBe(`Choix non valide.\n${paginate(parts, LIMITS)[0]}`);
    });

    it('on a full last page, takes the place of the footer first', () => {
      const parts: ScreenParts = { body: 'Nin kofɔli ci wa? Wote sanni, Segu.', items: ['1. A ci', '2. A dabila'], footer: SEGIN, more: NOFETA };
      expect(noticePage(parts, LIMITS, 0, ['Nɔfɛta tɛ yen.'])).toBe('Nɔfɛta tɛ yen.\nNin kofɔli ci wa? Wote sanni, Segu.\n1. A ci\n2. A dabila');
    });

    it('is cut to its first sentence rather than hide a word of a page that could show whole', () => {
      const parts: ScreenParts = {
        body: 'Nin kofɔli ci wa? Wote sanni, Kulikoro.',
        items: ['1. A ci', '2. A dabila'],
        footer: SEGIN,
        more: NOFETA,
      };
      // the whole notice only fits in place of the question's first words; its first sentence fits with all of them
      expect(firstSentence(NOTICE)).toBe('Fili don.');
      expect(noticePage(parts, LIMITS, 0, [NOTICE])).toBe('Fili don.\nNin kofɔli ci wa? Wote sanni, Kulikoro.\n1. A ci\n2. A dabila');
    });

    it('on a full page of text, keeps the end of the page and its `more` line', () => {
      const body = Array.from({ length: 40 }, (_, i) => `kuma${i}`).join(' ');
      const parts: ScreenParts = { body, items: [], footer: SEGIN, more: NOFETA };
      const pages = paginate(parts, LIMITS);
      const shown = noticePage(parts, LIMITS, 1, [NOTICE]);
      expect(fitsScreen(shown, LIMITS)).toBe(true);
      expect(shown.startsWith('Fili don.\n')).toBe(true);
      expect(shown.endsWith(`\n${NOFETA}`)).toBe(true);
      const kept = shown.split('\n')[1]!;
      expect(pages[1]!.split('\n')[0]!.endsWith(kept)).toBe(true);
    });

    it('over options that fill the page, shows the shortest notice and as many options as fit', () => {
      const items = ['1. Tɔgɔsɛbɛn', '2. Sɛbɛn minnu bɛ ta', '3. Wote don', '4. Jɔn bɛ se ka wote', '5. Wote yɔrɔ'];
      const parts: ScreenParts = { body: 'Wote cogo', items, footer: SEGIN, more: NOFETA };
      expect(noticePage(parts, LIMITS, 1, ['Nɔfɛta tɛ yen.', NOTICE])).toBe(['Fili don.', ...items.slice(0, 4)].join('\n'));
    });

    it('the page number is clamped to the layout', () => {
      const parts: ScreenParts = { body: 'Kalata', items: ['1. Wote cogo'], footer: '', more: NOFETA };
      expect(noticePage(parts, LIMITS, 7, ['Fili don.'])).toBe('Fili don.\nKalata\n1. Wote cogo');
      expect(noticePage(parts, LIMITS, 0, [])).toBe('Kalata\n1. Wote cogo');
    });
  });

  it('regression: a last page that fits with `more` but not with a longer footer still ends with the footer', () => {
    // 19 characters: + "\n98. Suite" = 29 fits 30, + "\n0. Retour 00. Accueil" = 41 does not.
    const parts: ScreenParts = { body: 'aaaa bbbb cccc dddd', items: [], footer: FOOTER, more: MORE };
    const pages = paginate(parts, { gsm7: 30, ucs2: 20 });
    expect(pages[pages.length - 1]!.endsWith(FOOTER)).toBe(true);
    expect(contents(pages, parts).flatMap(words)).toEqual(words(parts.body));
  });

  it('regression: a GSM-7 page that fits with a GSM-7 `more` but not with a UCS-2 footer still ends with the footer', () => {
    // 99 GSM characters: + "\n98. Suite" is 109 septets (GSM-7, fits 182);
    // + "\n0. Segin 00. Daminɛ" is 119 units in UCS-2, more than 80.
    const body = Array.from({ length: 20 }, () => 'abcd').join(' ');
    const parts: ScreenParts = { body, items: [], footer: '0. Segin 00. Daminɛ', more: MORE };
    const pages = paginate(parts, LIMITS);
    allFit(pages, LIMITS);
    expect(pages[pages.length - 1]!.endsWith('0. Segin 00. Daminɛ')).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// Properties

const GSM_LETTERS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;?!\'()-/'];
const GSM_ACCENTED = [...'éèàùìòÇÉÄÖÑÜäöñü£$¥§¿¡'];
const GSM_EXTENSION = [...'€{}[]~^|\\'];
const BAMBARA = [...'ɛɔɲŋƐƆƝŊ'];
const OTHER = [...'ôêçÈÒ’«»', '😀', '👍🏽', '🇲🇱', '你'];

const letter = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...GSM_LETTERS) },
  { weight: 3, arbitrary: fc.constantFrom(...GSM_ACCENTED) },
  { weight: 1, arbitrary: fc.constantFrom(...GSM_EXTENSION) },
  { weight: 2, arbitrary: fc.constantFrom(...BAMBARA) },
  { weight: 1, arbitrary: fc.constantFrom(...OTHER) },
);

const word = (maxLength: number) => fc.array(letter, { minLength: 1, maxLength }).map((cs) => cs.join(''));

/** Paragraphs of words, with runs of spaces and blank lines thrown in. */
const body = (wordLength: number) =>
  fc
    .array(
      fc.array(fc.tuple(word(wordLength), fc.constantFrom(' ', ' ', ' ', '  ')), { minLength: 0, maxLength: 40 }),
      { minLength: 0, maxLength: 4 },
    )
    .map((paragraphs) =>
      paragraphs.map((p) => p.map(([w, sep], i) => (i === 0 ? w : sep + w)).join('')).join('\n'),
    );

/** Numbered option lines, short enough for any screen. */
const items = fc
  .array(fc.array(word(8), { minLength: 1, maxLength: 3 }), { minLength: 0, maxLength: 12 })
  .map((lines) => lines.map((ws, i) => `${i + 1}. ${ws.join(' ')}`));

const nav = fc.record({
  footer: fc.constantFrom('', FOOTER, '0. Segin 00. Daminɛ', '0. Segin 00. Daminè'),
  more: fc.constantFrom(MORE, '98. Nɔfɛta', '98. Nòfèta'),
});

const limits = fc.constantFrom(LIMITS, SMALL);

const parts = (wordLength: number): fc.Arbitrary<ScreenParts> =>
  fc.tuple(body(wordLength), items, nav).map(([b, its, n]) => ({ body: b, items: its, ...n }));

const RUNS = { numRuns: 400 };

describe('paginate: properties', () => {
  it('every page fits the screen for its own encoding', () => {
    fc.assert(
      fc.property(parts(12), limits, (p, l) => {
        const pages = paginate(p, l);
        expect(pages.length).toBeGreaterThan(0);
        for (const page of pages) expect(fitsScreen(page, l)).toBe(true);
      }),
      RUNS,
    );
  });

  it('the words of body and items all appear once, in order, none cut', () => {
    fc.assert(
      fc.property(parts(12), limits, (p, l) => {
        const pages = paginate(p, l);
        expect(contentsLoose(pages, p).flatMap(words)).toEqual(expectedWords(p));
      }),
      RUNS,
    );
  });

  it('option lines stay whole and in order', () => {
    fc.assert(
      fc.property(parts(12), limits, (p, l) => {
        const lines = paginate(p, l).flatMap((page) => page.split('\n'));
        expect(lines.filter((line) => p.items.includes(line))).toEqual(p.items);
      }),
      RUNS,
    );
  });

  it('words longer than a screen are cut, but every character is kept, in order', () => {
    const longWord = fc.array(letter, { minLength: 1, maxLength: 400 }).map((cs) => cs.join(''));
    const longParts = fc
      .tuple(fc.array(fc.oneof(word(10), longWord), { minLength: 0, maxLength: 6 }), items, nav)
      .map(([ws, its, n]): ScreenParts => ({ body: ws.join(' '), items: its, ...n }));
    fc.assert(
      fc.property(longParts, limits, (p, l) => {
        const pages = paginate(p, l);
        for (const page of pages) {
          expect(fitsScreen(page, l)).toBe(true);
          expect(wellFormed(page)).toBe(true);
        }
        const strip = (s: string) => s.replace(/\s+/g, '');
        expect(strip(contentsLoose(pages, p).join(''))).toBe(strip(expectedWords(p).join('')));
      }),
      RUNS,
    );
  });

  it('every page but the last ends with `more`; the last ends with the footer, or with all the options when it had to go', () => {
    fc.assert(
      fc.property(parts(12), limits, (p, l) => {
        const pages = paginate(p, l);
        pages.slice(0, -1).forEach((page) => expect(page === p.more || page.endsWith(`\n${p.more}`)).toBe(true));
        const last = pages[pages.length - 1]!;
        const options = p.items.join('\n');
        const endsWithFooter = p.footer !== '' && (last === p.footer || last.endsWith(`\n${p.footer}`));
        const endsWithOptions = p.items.length > 0 && fitsScreen(options, l) && (last === options || last.endsWith(`\n${options}`));
        if (p.footer) expect(endsWithFooter || endsWithOptions).toBe(true);
        else expect(last.endsWith(`\n${p.more}`)).toBe(false);
      }),
      RUNS,
    );
  });

  it('options that fit one screen are all on the last page, together, after the body', () => {
    fc.assert(
      fc.property(parts(12), limits, (p, l) => {
        const options = p.items.join('\n');
        if (!p.items.length || !fitsScreen(options, l)) return;
        const pages = paginate(p, l);
        const last = pages[pages.length - 1]!;
        expect(last.includes(options)).toBe(true);
        for (const page of pages.slice(0, -1)) for (const line of page.split('\n')) expect(p.items.includes(line)).toBe(false);
        // the question's last word stands above its options whenever it fits there
        const lastWord = words(p.body).pop();
        if (lastWord && fitsScreen(`${lastWord}\n${options}`, l)) {
          expect(contentsLoose([last], p)[0]!.split('\n').filter((line) => !p.items.includes(line)).length).toBeGreaterThan(0);
        }
      }),
      RUNS,
    );
  });

  it('a notice over any page fits, starts with the notice (whole or its first sentence), and shows only that page\'s lines', () => {
    const notices = fc.constantFrom(['Choix non valide.'], ['Fili don. Segin ka sugandi.'], ['Nɔfɛta tɛ yen.', 'Fili don. Segin ka sugandi.'], ['Pas de page suivante.', 'Choix non valide.']);
    fc.assert(
      fc.property(parts(12), limits, notices, fc.nat(30), (p, l, ns, k) => {
        const pages = paginate(p, l);
        const at = Math.min(k, pages.length - 1);
        const shown = noticePage(p, l, k, ns);
        expect(fitsScreen(shown, l)).toBe(true);
        const forms = ns.flatMap((n) => [n, firstSentence(n)]);
        const notice = forms.find((f) => shown.startsWith(`${f}\n`) || shown === f);
        expect(notice).toBeDefined();
        const page = pages[at]!;
        const whole = [ns[0], page].filter(Boolean).join('\n');
        if (fitsScreen(whole, l)) expect(shown).toBe(whole);
        // what stands under the notice comes from this page, in order: no word from another page
        const under = shown.slice(notice!.length + 1).split('\n').filter(Boolean);
        const lines = page.split('\n');
        let from = 0;
        for (const line of under) {
          const i = lines.findIndex((candidate, j) => j >= from && (candidate === line || candidate.endsWith(` ${line}`) || candidate.endsWith(line)));
          expect({ line, page, found: i >= 0 }).toEqual({ line, page, found: true });
          from = i + 1;
        }
        // no other page changes, and the layout itself does not
        const all = paginateWithNotice(p, l, k, ns);
        expect(all.filter((_, i) => i !== at)).toEqual(pages.filter((_, i) => i !== at));
        expect(paginate(p, l)).toEqual(pages);
      }),
      RUNS,
    );
  });

  it('is deterministic and does not use more pages than needed for content that fits one', () => {
    fc.assert(
      fc.property(parts(12), limits, (p, l) => {
        const a = paginate(p, l);
        expect(paginate(p, l)).toEqual(a);
        const single = [p.body.split('\n').map((x) => x.trim().split(/ +/).join(' ')).filter(Boolean).join('\n'), ...p.items]
          .filter(Boolean)
          .concat(p.footer ? [p.footer] : [])
          .join('\n');
        if (fitsScreen(single, l)) expect(a).toEqual([single]);
      }),
      RUNS,
    );
  });
});
