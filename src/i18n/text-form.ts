/**
 * The form a gateway shows text in. Both gateways' docs warn against special
 * characters in menus (Hubtel: "do not include special characters … e.g.
 * É"), and some handsets show UCS-2 badly. Each gateway is set to one form:
 *
 * - `as_written`: the texts as the locale files have them;
 * - `gsm7`: every character outside GSM-7 folded to its nearest GSM-7 form
 *   (Bambara ɛ ɔ ɲ ŋ as è ò ny ng, ê as e, « » as "), so a screen holds 182
 *   characters, accents GSM-7 has (é è à ù) kept;
 * - `ascii`: plain ASCII letters only (é as e, ɛ as e, ɲ as ny).
 *
 * The folding is applied to the texts before the engine lays a screen out
 * (so a folded screen is paginated at 182 characters), and once more to the
 * finished screen for what comes from data (polling-centre names).
 */
import type { CompiledFlows, TextLookup } from '../engine/types.js';
import { gsm7Length } from './gsm.js';
import { foldToGsm7 } from './bambara-spelling.js';

export type TextForm = 'as_written' | 'gsm7' | 'ascii';
export const TEXT_FORMS: readonly TextForm[] = ['as_written', 'gsm7', 'ascii'];

/** Characters with no plain-letter decomposition, and punctuation, as GSM-7 and ASCII both have them. */
const PLAIN: Readonly<Record<string, string>> = {
  'ɛ': 'e', 'Ɛ': 'E', 'ɔ': 'o', 'Ɔ': 'O', 'ɲ': 'ny', 'Ɲ': 'Ny', 'ŋ': 'ng', 'Ŋ': 'Ng',
  'œ': 'oe', 'Œ': 'OE', 'æ': 'ae', 'Æ': 'AE', 'ß': 'ss', 'ø': 'o', 'Ø': 'O', 'đ': 'd', 'Đ': 'D', 'ł': 'l', 'Ł': 'L',
  '«': '"', '»': '"', '“': '"', '”': '"', '„': '"', '‘': "'", '’': "'", '‚': "'", 'ʼ': "'",
  '–': '-', '—': '-', '‑': '-', '…': '...', '\u00a0': ' ', '\u202f': ' ', '•': '*', '€': 'EUR',
};

/** One character in plain ASCII: its base letter, its plain form, or `?`. */
function toAscii(ch: string): string {
  if (ch <= '\u007f') return ch;
  const plain = PLAIN[ch];
  if (plain !== undefined) return plain;
  const base = ch.normalize('NFD').replace(/\p{M}+/gu, '');
  return base.length > 0 && [...base].every((c) => c <= '\u007f') ? base : '?';
}

/** One character in GSM-7: itself when GSM-7 has it, else its plain ASCII form. */
function toGsm7(ch: string): string {
  if (gsm7Length(ch) >= 0) return ch;
  return [...toAscii(ch)].map((c) => (gsm7Length(c) >= 0 ? c : '?')).join('');
}

/** A text in the given form. Pure; idempotent. */
export function applyTextForm(text: string, form: TextForm): string {
  if (form === 'as_written') return text;
  if (form === 'ascii') return [...text].map(toAscii).join('');
  // Bambara's own phone spelling first (ɛ as è, not e), then anything else outside GSM-7.
  return [...foldToGsm7(text)].map(toGsm7).join('');
}

const variants = new WeakMap<CompiledFlows, Map<TextForm, CompiledFlows>>();

/**
 * The same flows, shown in `form`: one object per flows and form (the same
 * hash, so calls in progress and their records are unchanged).
 */
export function withTextForm(flows: CompiledFlows, form: TextForm = 'as_written'): CompiledFlows {
  if (form === 'as_written') return flows;
  let forms = variants.get(flows);
  if (!forms) variants.set(flows, (forms = new Map()));
  let variant = forms.get(form);
  if (!variant) {
    const base = flows.texts;
    const texts: TextLookup = (lang, key, vars) => applyTextForm(base(lang, key, vars), form);
    variant = Object.freeze({ ...flows, texts });
    forms.set(form, variant);
  }
  return variant;
}
