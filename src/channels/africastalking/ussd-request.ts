/**
 * Reads Africa's Talking's USSD callback (form body `sessionId, serviceCode,
 * phoneNumber, networkCode, text`) into a gateway-neutral turn, or a plain
 * reason why it cannot be read.
 */
import { z } from 'zod';
import { formField, optionalFormField } from './form.js';
import { toE164 } from '../phone-number.js';
import { sanitizeText } from '../../runtime/sanitize.js';
import type { CallTurn } from '../../runtime/call-runtime.js';
import { resolveAgainstMarker, textMarker } from './cumulative-text.js';
import { isServedCode } from '../service-code.js';

export const CHANNEL = 'africastalking';

export const ussdBodySchema = z.object({
  sessionId: formField('sessionId', 128).regex(/^[\x21-\x7e]+$/, 'sessionId must be printable ASCII without spaces'),
  phoneNumber: formField('phoneNumber', 32),
  serviceCode: formField('serviceCode', 64),
  networkCode: optionalFormField('networkCode', 32),
  // Empty on the first request of a call; AT may also leave it out.
  text: z.union([formField('text', 4096), z.literal(''), z.null()]).optional(),
});

export type ParsedRequest = { ok: true; turn: CallTurn } | { ok: false; status: number; reason: string };

/**
 * Turns a well-formed body into a turn, or says why it cannot be served.
 * `markerKey` keys the stored position (see cumulative-text.ts);
 * `defaultCountry` is where a number without `+` is read (see ../phone-number.ts).
 */
export function toCallTurn(b: z.infer<typeof ussdBodySchema>, allowedServiceCodes: readonly string[], markerKey: string, defaultCountry: string): ParsedRequest {
  const phone = toE164(b.phoneNumber, defaultCountry);
  if (!phone) return { ok: false, status: 400, reason: 'phoneNumber is not a phone number' };
  const serviceCode = b.serviceCode.trim();
  if (!isServedCode(serviceCode, allowedServiceCodes)) {
    return { ok: false, status: 403, reason: 'serviceCode is not served here' };
  }
  const text = sanitizeText(b.text ?? '');
  return {
    ok: true,
    turn: {
      channel: CHANNEL,
      gatewaySessionId: b.sessionId,
      phone,
      serviceCode,
      networkCode: b.networkCode?.trim() || null,
      marker: textMarker(markerKey, text),
      opening: text === '',
      resolve: (previous) => resolveAgainstMarker(markerKey, previous, text),
    },
  };
}

/** AT's reply format: `CON …` keeps the session open, `END …` closes it. */
export function formatCallReply(reply: { text: string; end: boolean }): string {
  return `${reply.end ? 'END' : 'CON'} ${reply.text}`;
}
