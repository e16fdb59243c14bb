/**
 * Africa's Talking sends every input of the session so far joined by `*`
 * (`1*2*Kati*…`). A `*` typed inside free text looks the same as a separator,
 * so the newest input is what the new `text` adds to the one stored after the
 * previous step, never a split of the whole string.
 */
import type { TurnInputs } from '../../runtime/ussd-runtime.js';

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
