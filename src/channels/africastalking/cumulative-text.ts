/**
 * Africa's Talking sends every input of the session so far joined by `*`
 * (`1*2*Kati*…`). A `*` typed inside free text looks the same as a separator,
 * so the newest input is what the new `text` adds to the one seen at the
 * previous step, never a split of the whole string.
 *
 * Between steps only a marker is kept: the text's length and a keyed digest,
 * never the text itself, which may hold a NINA number or a report's words.
 */
import { createHmac } from 'node:crypto';
import type { TurnInputs } from '../../runtime/call-runtime.js';

export function resolveCumulativeText(previous: string | undefined, text: string): TurnInputs {
  if (previous === undefined) {
    // A first request carries inputs only when dialled as `*384*123*1*2#`: digits, never free text.
    return { kind: 'new', inputs: text === '' ? [] : text.split('*') };
  }
  if (text === previous) return { kind: 'replay' };
  if (previous === '') return { kind: 'step', input: text };
  if (text.startsWith(`${previous}*`)) return { kind: 'step', input: text.slice(previous.length + 1) };
  return { kind: 'mismatch' };
}

const digest = (key: string, text: string) => createHmac('sha256', key).update(`at-text:${text}`).digest('base64url').slice(0, 22);
const MARKER = /^(\d{1,5}):([A-Za-z0-9_-]{22})$/;

/** What is stored after a step: `length:digest` of the text. */
export function textMarker(key: string, text: string): string {
  return `${text.length}:${digest(key, text)}`;
}

/** resolveCumulativeText against a stored marker (or, from before markers, the stored text). */
export function resolveAgainstMarker(key: string, previous: string | undefined, text: string): TurnInputs {
  const m = previous === undefined ? null : MARKER.exec(previous);
  if (!m) return resolveCumulativeText(previous, text);
  const length = Number(m[1]);
  const seen = m[2];
  if (text.length === length && digest(key, text) === seen) return { kind: 'replay' };
  if (length === 0 && digest(key, '') === seen) return { kind: 'step', input: text };
  if (text.length > length && text[length] === '*' && digest(key, text.slice(0, length)) === seen) return { kind: 'step', input: text.slice(length + 1) };
  return { kind: 'mismatch' };
}
