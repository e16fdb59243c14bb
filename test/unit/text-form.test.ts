/**
 * The text form a gateway shows screens in (issue 14): as written, folded to
 * GSM-7, or plain ASCII; applied before the screens are laid out, and linted
 * by flows:check for each form a gateway is set to.
 */
import { describe, expect, it } from '@jest/globals';
import { checkFlows, loadFlows } from '../../src/flows/flow-set.js';
import { applyTextForm, withTextForm } from '../../src/i18n/text-form.js';
import { measure } from '../../src/i18n/gsm.js';
import { start, step } from '../../src/engine/step.js';
import type { Lang } from '../../src/engine/types.js';

const LIMITS = { gsm7: 182, ucs2: 80 };
const options = (spelling: 'standard' | 'gsm7' = 'standard') => ({ flowsDir: 'flows', localesDir: 'locales', limits: LIMITS, spelling });

describe('applyTextForm', () => {
  it('leaves a text as written alone', () => {
    expect(applyTextForm('Où voter? «Kalata» ɛ ɔ ɲ ŋ', 'as_written')).toBe('Où voter? «Kalata» ɛ ɔ ɲ ŋ');
  });

  it('folds to GSM-7: Bambara to its phone spelling, other letters and quotes to their nearest, GSM-7 accents kept', () => {
    expect(applyTextForm('Wote kɛcogo, ɲɔgɔn, ŋaniya', 'gsm7')).toBe('Wote kècogo, nyògòn, nganiya');
    expect(applyTextForm('Carte d’électeur: «arrête», reçu… Ɛ Ɔ', 'gsm7')).toBe('Carte d\'électeur: "arrete", recu... E O');
    expect(applyTextForm('à è é ù Ç', 'gsm7')).toBe('à è é ù Ç');
  });

  it('makes plain ASCII: no accent, no Bambara letter, nothing unknown left', () => {
    expect(applyTextForm('Où voter? Écrivez «École» — ɛ ɔ ɲ ŋ Ɲ', 'ascii')).toBe('Ou voter? Ecrivez "Ecole" - e o ny ng Ny');
    expect(applyTextForm('日本 😀', 'ascii')).toBe('?? ?');
  });

  it('is idempotent, and its output is in the form it claims', () => {
    const samples = ['Où voter? «Kalata» ɛ ɔ ɲ ŋ', 'Carte d’électeur perdue… Bɛlɛtɛn', 'Ç ß Æ ø € 😀 日本'];
    for (const text of samples) {
      for (const form of ['gsm7', 'ascii'] as const) {
        const once = applyTextForm(text, form);
        expect(applyTextForm(once, form)).toBe(once);
        expect(measure(once).encoding).toBe('GSM-7');
      }
      expect(/^[\x20-\x7e]*$/.test(applyTextForm(text, 'ascii'))).toBe(true);
    }
  });
});

describe('the real flows in each text form', () => {
  const flows = loadFlows(options());

  it('keep the same version hash, one object per form', () => {
    const ascii = withTextForm(flows, 'ascii');
    expect(ascii.hash).toBe(flows.hash);
    expect(withTextForm(flows, 'ascii')).toBe(ascii);
    expect(withTextForm(flows, 'as_written')).toBe(flows);
  });

  it('a Bambara walk in ASCII shows only ASCII, paginated at 182 characters (fewer pages than in UCS-2)', () => {
    const ascii = withTextForm(flows, 'ascii');
    const walk = (f: typeof flows, lang: Lang) => {
      let r = start(f, { id: 's', ref: 'KA-7Q4M2XH', lang, languageKnown: true }, 0);
      const screens = [r.screen];
      for (const input of ['1', '1', '98', '98', '98', '98']) screens.push((r = step(f, r.session, input, 0)).screen);
      return screens;
    };
    const shown = walk(ascii, 'bm');
    for (const screen of shown) {
      expect(/^[\x20-\x7e\n]*$/.test(screen.text)).toBe(true);
      expect(screen.encoding).toBe('GSM-7');
      expect(screen.length).toBeLessThanOrEqual(182);
    }
    const pagesOf = (f: typeof flows) => {
      let r = start(f, { id: 's', ref: 'KA-7Q4M2XH', lang: 'bm', languageKnown: true }, 0);
      r = step(f, step(f, r.session, '1', 0).session, '1', 0);
      let pages = 1;
      while (/98\. /.test(r.screen.text) && pages < 20) {
        r = step(f, r.session, '98', 0);
        pages++;
      }
      return pages;
    };
    expect(pagesOf(ascii)).toBeLessThan(pagesOf(flows));
  });

  it('are linted by flows:check in each form a gateway uses, with the form named', () => {
    const check = checkFlows({ ...options(), textForms: ['ascii', 'gsm7', 'as_written'] });
    expect(check.problems.filter((p) => p.severity === 'error')).toEqual([]);
    const forms = new Set(check.report.map((r) => r.form ?? '-'));
    expect(forms).toEqual(new Set(['-', 'ascii', 'gsm7']));
    const asciiRows = check.report.filter((r) => r.form === 'ascii');
    expect(asciiRows.every((r) => r.encoding === 'GSM-7')).toBe(true);
    expect(new Set(asciiRows.map((r) => r.lang))).toEqual(new Set(['fr', 'bm']));
    // without a form set, nothing more is linted
    expect(checkFlows(options()).report.some((r) => r.form)).toBe(false);
  });
});
