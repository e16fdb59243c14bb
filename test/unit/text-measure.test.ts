import { describe, expect, it } from '@jest/globals';
import { foldToGsm7 } from '../../src/i18n/bambara-spelling.js';
import { fitsScreen, measure, nonGsmCharacters } from '../../src/i18n/gsm.js';
import { resolveAgainstMarker, resolveCumulativeText, textMarker } from '../../src/channels/africastalking/cumulative-text.js';
import { sanitizeText } from '../../src/runtime/sanitize.js';

describe('GSM-7 and UCS-2 measurement', () => {
  it('counts French that fits GSM-7 in septets', () => {
    expect(measure('Où voter? Réponse à l\'école')).toEqual({ encoding: 'GSM-7', length: 27 });
  });
  it('counts extension characters twice', () => {
    expect(measure('{€}')).toEqual({ encoding: 'GSM-7', length: 6 });
  });
  it('turns the whole text UCS-2 for one character outside GSM-7', () => {
    expect(measure('Français')).toEqual({ encoding: 'UCS-2', length: 8 });
    expect(measure('Dɛmɛ')).toEqual({ encoding: 'UCS-2', length: 4 });
    expect(nonGsmCharacters('être «ça»')).toEqual(['ê', '«', 'ç', '»']);
  });
  it('counts emoji as two UTF-16 units', () => {
    expect(measure('ok 👍')).toEqual({ encoding: 'UCS-2', length: 5 });
  });
  it('treats NFD é as UCS-2, NFC é as GSM-7', () => {
    expect(measure('e\u0301').encoding).toBe('UCS-2');
    expect(measure('e\u0301'.normalize('NFC')).encoding).toBe('GSM-7');
  });
  it('applies the limit of the encoding', () => {
    const limits = { gsm7: 182, ucs2: 80 };
    expect(fitsScreen('a'.repeat(182), limits)).toBe(true);
    expect(fitsScreen('a'.repeat(183), limits)).toBe(false);
    expect(fitsScreen('ɛ'.repeat(80), limits)).toBe(true);
    expect(fitsScreen(`${'a'.repeat(80)}ɛ`, limits)).toBe(false);
  });
});

describe('Bambara GSM-7 folding', () => {
  it('folds the four letters, keeping GSM-7', () => {
    const folded = foldToGsm7('Ɲɛ ɲɔgɔn ŋɔni Ɛ Ɔ');
    expect(folded).toBe('Nyè nyògòn ngòni E O');
    expect(measure(folded).encoding).toBe('GSM-7');
  });
});

describe("Africa's Talking cumulative text", () => {
  it('reads a new call and dial-string inputs', () => {
    expect(resolveCumulativeText(undefined, '')).toEqual({ kind: 'new', inputs: [] });
    expect(resolveCumulativeText(undefined, '1*2')).toEqual({ kind: 'new', inputs: ['1', '2'] });
  });
  it('takes the newest input as what the text adds', () => {
    expect(resolveCumulativeText('', '1')).toEqual({ kind: 'step', input: '1' });
    expect(resolveCumulativeText('1*2', '1*2*Kati*Sebenikoro')).toEqual({ kind: 'step', input: 'Kati*Sebenikoro' });
    expect(resolveCumulativeText('1*A*B', '1*A*B*3')).toEqual({ kind: 'step', input: '3' });
    expect(resolveCumulativeText('1', '1*')).toEqual({ kind: 'step', input: '' });
    expect(resolveCumulativeText('1', '1**')).toEqual({ kind: 'step', input: '*' });
  });
  it('tells a replay and a text that does not follow', () => {
    expect(resolveCumulativeText('1*2', '1*2')).toEqual({ kind: 'replay' });
    expect(resolveCumulativeText('1*2', '1*3')).toEqual({ kind: 'mismatch' });
    expect(resolveCumulativeText('1*2', '1*23')).toEqual({ kind: 'mismatch' });
  });
  it('reads the same against the stored marker, which never holds the text', () => {
    const key = 'k'.repeat(32);
    const marker = (text: string) => textMarker(key, text);
    expect(marker('3*1*ABC123456789')).not.toContain('ABC');
    expect(marker('3*1*ABC123456789')).toMatch(/^16:[A-Za-z0-9_-]{22}$/);
    expect(resolveAgainstMarker(key, undefined, '1*2')).toEqual({ kind: 'new', inputs: ['1', '2'] });
    expect(resolveAgainstMarker(key, marker(''), '1')).toEqual({ kind: 'step', input: '1' });
    expect(resolveAgainstMarker(key, marker('1*2'), '1*2*Kati*Sebenikoro')).toEqual({ kind: 'step', input: 'Kati*Sebenikoro' });
    expect(resolveAgainstMarker(key, marker('1'), '1**')).toEqual({ kind: 'step', input: '*' });
    expect(resolveAgainstMarker(key, marker('1*2'), '1*2')).toEqual({ kind: 'replay' });
    expect(resolveAgainstMarker(key, marker('1*2'), '1*3')).toEqual({ kind: 'mismatch' });
    expect(resolveAgainstMarker(key, marker('1*2'), '1*3*4')).toEqual({ kind: 'mismatch' });
    expect(resolveAgainstMarker('x'.repeat(32), marker('1*2'), '1*2*3')).toEqual({ kind: 'mismatch' });
    // A session stored before markers still works.
    expect(resolveAgainstMarker(key, '1*2', '1*2*3')).toEqual({ kind: 'step', input: '3' });
  });
});

describe('sanitizing typed text', () => {
  it('removes NUL, controls, bidi overrides and zero-width characters, keeps letters', () => {
    expect(sanitizeText('a\u0000b\u0007c\u202Ed\u200Be\uFEFFf')).toBe('abcdef');
    expect(sanitizeText('ligne 1\r\nligne 2')).toBe('ligne 1 ligne 2');
    expect(sanitizeText('Ségou ɲɔgɔn 👍')).toBe('Ségou ɲɔgɔn 👍');
  });
});
