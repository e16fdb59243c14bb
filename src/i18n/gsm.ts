/**
 * How long a text is on a handset, in the encoding the network will use for it.
 *
 * GSM 03.38 (GSM-7) holds the basic table in one septet per character and the
 * extension table (`| ^ { } [ ~ ] \ €` and form feed) in two. A single character
 * outside both tables turns the whole text into UCS-2, counted in UTF-16 units.
 * Pure: the engine uses it to paginate, the linter to report.
 */

export type Encoding = 'GSM-7' | 'UCS-2';

export interface Measure {
  encoding: Encoding;
  /** septets for GSM-7, UTF-16 code units for UCS-2 */
  length: number;
}

export interface ScreenLimits {
  gsm7: number;
  ucs2: number;
}

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENSION = '\f^{}\\[~]|€';

const basic = new Set(GSM7_BASIC);
const extension = new Set(GSM7_EXTENSION);

/** Septets a text takes in GSM-7, or -1 when it does not fit the alphabet. */
export function gsm7Length(text: string): number {
  let septets = 0;
  for (const ch of text) {
    if (basic.has(ch)) septets += 1;
    else if (extension.has(ch)) septets += 2;
    else return -1;
  }
  return septets;
}

/** Measures `text` (expected in NFC) in the encoding a network would pick for it. */
export function measure(text: string): Measure {
  const septets = gsm7Length(text);
  if (septets >= 0) return { encoding: 'GSM-7', length: septets };
  return { encoding: 'UCS-2', length: text.length };
}

/** The screen limit that applies to a text in its encoding. */
export function limitFor(m: Measure, limits: ScreenLimits): number {
  return m.encoding === 'GSM-7' ? limits.gsm7 : limits.ucs2;
}

/** True when `text` fits one USSD screen. */
export function fitsScreen(text: string, limits: ScreenLimits): boolean {
  const m = measure(text);
  return m.length <= limitFor(m, limits);
}

/** The characters of `text` that force UCS-2, for the linter's messages. */
export function nonGsmCharacters(text: string): string[] {
  const found = new Set<string>();
  for (const ch of text) if (!basic.has(ch) && !extension.has(ch)) found.add(ch);
  return [...found];
}
