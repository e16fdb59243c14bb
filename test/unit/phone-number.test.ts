import { describe, expect, it } from '@jest/globals';
import { toE164 } from '../../src/channels/phone-number.js';

describe('the phone-number rule every channel reads by (DEFAULT_COUNTRY=ML)', () => {
  it.each([
    ['+22376123456', '+22376123456'],
    ['+223 76 12 34 56', '+22376123456'],
    ['(+223) 76-12.34.56', '+22376123456'],
    ['0022376123456', '+22376123456'],
    ['00 223 76 12 34 56', '+22376123456'],
    ['22376123456', '+22376123456'],
    [' 22376123456', '+22376123456'], // an unencoded + decoded as a space
    ['76123456', '+22376123456'],
    ['+33612345678', '+33612345678'],
    ['+254791541111', '+254791541111'],
    // Without the `+`: a valid international reading when the national one is not (AT, Hubtel).
    ['254712345678', '+254712345678'],
    ['233244123456', '+233244123456'],
    ['250788383383', '+250788383383'],
    // With the `+`, a length the country allows is enough: the metadata may not know a new range yet.
    ['+15555555555', '+15555555555'],
  ])('reads %j as %s', (raw, e164) => {
    expect(toE164(raw, 'ML')).toBe(e164);
  });

  it.each([
    ['0712345678', 'a local number of another country'],
    ['0244123456', 'a local Ghanaian number'],
    ['7612345', 'seven digits'],
    ['+2237612345', 'too short for Mali'],
    ['+223761234567', 'too long for Mali'],
    ['+99912345678', 'no such country code'],
    ['+1234567890', 'too short for +1'],
    ['+254711XXXYYY', 'letters (a vanity reading would accept them)'],
    ['2547XXXXXXXX', 'a placeholder'],
    ['MTN', 'a name'],
    ['hello', 'a word'],
    ['', 'nothing'],
    ['+', 'a plus alone'],
    ['++22376123456', 'two pluses'],
    ['123', 'three digits'],
    ['1'.repeat(40), 'too long an input'],
  ])('refuses %j (%s)', (raw) => {
    expect(toE164(raw, 'ML')).toBeUndefined();
  });

  it('reads a local number in the configured country', () => {
    expect(toE164('0712345678', 'KE')).toBe('+254712345678');
    expect(toE164('254712345678', 'KE')).toBe('+254712345678');
    // Elsewhere, a Malian number needs its country code.
    expect(toE164('76123456', 'KE')).toBeUndefined();
    expect(toE164('22376123456', 'KE')).toBe('+22376123456');
  });
});
