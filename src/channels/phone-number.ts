/**
 * The one rule every channel reads a caller's number by, whatever form the
 * gateway sends it in (`+22376123456`, `0022376123456`, `22376123456`,
 * `76123456`, Hubtel's `233244123456`, AT's `254711…` without the `+`).
 *
 * - With `+` or `00` the country is stated: the number is accepted when its
 *   length is one its country's numbering plan allows (libphonenumber's
 *   "possible"), so a new range the bundled metadata does not know yet still
 *   gets through.
 * - Without them the country has to be inferred: the digits are read as a
 *   national number of `DEFAULT_COUNTRY` first, then as international digits
 *   whose `+` the gateway left out. The first reading that is a valid number
 *   (an assigned range, libphonenumber's "valid") wins.
 * - Anything else (letters, a local number of another country, too short or
 *   too long) is refused: the channel answers 400 `<field> is not a phone
 *   number`. Letters are refused before the library sees them, since it
 *   would read `+254711XXXYYY` as a vanity number.
 *
 * Nothing here logs: the raw number never leaves this function.
 *
 * A gateway repeats the caller's number on every keypress, and reading it is
 * the dearest step of a turn after the I/O: each valid form is read once and
 * kept in memory for a few minutes (never logged, never written), bounded.
 */
import { parsePhoneNumber } from 'awesome-phonenumber';
import { LRUCache } from 'lru-cache';

/** Longest input considered (E.164 is at most 15 digits; room for spaces and dots). */
const MAX_INPUT = 32;

/**
 * The caller's number in E.164, or undefined when it cannot be read by the
 * rule above. `defaultCountry` is a region code such as `ML` (the config's
 * `defaultCountry`, validated at start).
 *
 * @example
 * toE164('76123456', 'ML'); // '+22376123456'
 * toE164('254712345678', 'ML'); // '+254712345678'
 * toE164('0712345678', 'ML'); // undefined: a local number, but not of Mali
 */
export function toE164(raw: string, defaultCountry: string): string | undefined {
  if (raw.length > MAX_INPUT) return undefined;
  const key = `${defaultCountry}:${raw}`;
  const seen = readings.get(key);
  if (seen !== undefined) return seen;
  const e164 = readE164(raw, defaultCountry);
  // Only numbers that read: a stream of junk cannot push callers' numbers out.
  if (e164) readings.set(key, e164);
  return e164;
}

/** Numbers read lately: as long as a call lasts, then gone. */
const readings = new LRUCache<string, string>({ max: 20_000, ttl: 10 * 60_000 });

function readE164(raw: string, defaultCountry: string): string | undefined {
  // A `+` sent unencoded in a form body arrives as a space: such a number is read like any other without `+`.
  const compact = raw.trim().replace(/[\s().-]/g, '');
  if (!/^\+?\d{3,17}$/.test(compact)) return undefined;
  if (compact.startsWith('+') || compact.startsWith('00')) {
    const parsed = parsePhoneNumber(`+${compact.replace(/^(\+|00)/, '')}`);
    return parsed.possible ? parsed.number?.e164 : undefined;
  }
  for (const reading of [parsePhoneNumber(compact, { regionCode: defaultCountry }), parsePhoneNumber(`+${compact}`)]) {
    if (reading.valid) return reading.number.e164;
  }
  return undefined;
}
