import { describe, expect, it } from '@jest/globals';
import { csvCell, csvRow } from '../../src/web/console/csv.js';

describe('CSV cells', () => {
  it.each([
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+33 6', `"'+33 6"`],
    ['-1+1', `"'-1+1"`],
    ['@SUM(A1)', `"'@SUM(A1)"`],
    ['\t=1', `"'\t=1"`],
    ['  =1', `"'  =1"`],
    ['\u00a0=1', `"'\u00a0=1"`],
    ['＝1+1', `"'＝1+1"`],
    ['\n=1', `"'\n=1"`],
  ])('neutralizes %j', (input, output) => {
    expect(csvCell(input)).toBe(output);
  });

  it('quotes every cell, so a semicolon never starts a new one', () => {
    expect(csvCell("Bamako;=cmd|' /C calc'!A0")).toBe(`"Bamako;=cmd|' /C calc'!A0"`);
    expect(csvCell('Kati')).toBe('"Kati"');
    expect(csvCell(null)).toBe('""');
    expect(csvCell(new Date('2026-11-24T05:00:00Z'))).toBe('"2026-11-24T05:00:00.000Z"');
  });

  it('writes rows ending in CRLF', () => {
    expect(csvRow(['a', 1, 'b"c'])).toBe('"a","1","b""c"\r\n');
  });
});
