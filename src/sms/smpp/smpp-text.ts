/**
 * A text as SMPP carries it: GSM 03.38 (one unpacked septet per octet,
 * `data_coding` 0x00) when every character is in the GSM-7 tables, UCS-2
 * (UTF-16BE, `data_coding` 0x08) otherwise, the same choice
 * sms-segments-calculator makes (src/sms/sms-text.ts `measureSms`). A text
 * longer than one SMS is cut into parts that each carry a concatenation
 * header (UDH IE 0x00: reference, total, index): 153 septets or 67 UTF-16
 * units a part, never splitting an escape pair or a surrogate pair, so the
 * part count is the segment count the calculator gives.
 */
import { measureSms } from '../sms-text.js';

export const DATA_CODING = Object.freeze({ gsm7: 0x00, ucs2: 0x08 });
/** esm_class bit telling the SMSC that short_message starts with a UDH */
export const UDH_INDICATOR = 0x40;

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** extension table: character -> code after the 0x1B escape */
const GSM7_EXTENSION: Readonly<Record<string, number>> = { '\f': 0x0a, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2f, '[': 0x3c, '~': 0x3d, ']': 0x3e, '|': 0x40, '€': 0x65 };
const BASIC_CODE = new Map([...GSM7_BASIC].map((ch, i) => [ch, i]));
const ESCAPE = 0x1b;

export interface SmppText {
  encoding: 'GSM-7' | 'UCS-2';
  dataCoding: number;
  /** each part's short_message: the UDH (when there are several parts) then the encoded text */
  parts: Buffer[];
  /** the text of each part, for logs and tests */
  texts: string[];
}

/** The septets of one character, or undefined when it is not GSM-7. */
function gsm7Code(ch: string): number[] | undefined {
  const basic = BASIC_CODE.get(ch);
  if (basic !== undefined && basic !== ESCAPE) return [basic];
  const ext = GSM7_EXTENSION[ch];
  return ext === undefined ? undefined : [ESCAPE, ext];
}

function concatHeader(reference: number, total: number, index: number): Buffer {
  // UDHL 5, IE 0x00 (8-bit reference concatenation), IE length 3
  return Buffer.from([0x05, 0x00, 0x03, reference & 0xff, total, index]);
}

/**
 * Encodes `text` for submit_sm, split when it does not fit one SMS.
 * `reference` tells the handset which parts belong together (0-255).
 *
 * @example
 * const { dataCoding, parts } = encodeSmppText('Bonjour', 7); // 0x00, one part, no UDH
 */
export function encodeSmppText(text: string, reference: number): SmppText {
  const chars = [...text];
  // The calculator's choice, unless it took a character for GSM-7 that this table lacks (the raw escape).
  const encoding = measureSms(text).encoding === 'GSM-7' && chars.every((ch) => gsm7Code(ch)) ? 'GSM-7' : 'UCS-2';
  const units: { text: string; bytes: number[]; size: number }[] =
    encoding === 'GSM-7'
      ? chars.map((ch) => {
          const code = gsm7Code(ch)!;
          return { text: ch, bytes: code, size: code.length };
        })
      : chars.map((ch) => {
          const b = Buffer.from(ch, 'utf16le').swap16();
          return { text: ch, bytes: [...b], size: ch.length };
        });
  const single = encoding === 'GSM-7' ? 160 : 70;
  const perPart = encoding === 'GSM-7' ? 153 : 67;
  const total = units.reduce((n, u) => n + u.size, 0);
  const groups: (typeof units)[] = [];
  if (total <= single) groups.push(units);
  else {
    let current: typeof units = [];
    let size = 0;
    for (const u of units) {
      if (size + u.size > perPart) {
        groups.push(current);
        current = [];
        size = 0;
      }
      current.push(u);
      size += u.size;
    }
    if (current.length) groups.push(current);
  }
  const parts = groups.map((g, i) => {
    const body = Buffer.from(g.flatMap((u) => u.bytes));
    return groups.length > 1 ? Buffer.concat([concatHeader(reference, groups.length, i + 1), body]) : body;
  });
  return {
    encoding,
    dataCoding: encoding === 'GSM-7' ? DATA_CODING.gsm7 : DATA_CODING.ucs2,
    parts,
    texts: groups.map((g) => g.map((u) => u.text).join('')),
  };
}

/** The concatenation information of a received UDH (8- or 16-bit reference), if any. */
export function concatInfo(udh: readonly Buffer[] | undefined): { reference: number; total: number; index: number } | undefined {
  for (const ie of udh ?? []) {
    if (ie[0] === 0x00 && ie.length >= 5) return { reference: ie[2]!, total: ie[3]!, index: ie[4]! };
    if (ie[0] === 0x08 && ie.length >= 6) return { reference: ie.readUInt16BE(2), total: ie[4]!, index: ie[5]! };
  }
  return undefined;
}
