/**
 * Reads Africa's Talking's USSD callback (form body `sessionId, serviceCode,
 * phoneNumber, networkCode, text`) into a gateway-neutral turn, or a plain
 * reason why it cannot be read.
 */
import { z } from 'zod';
import { normalizePhone } from '../../privacy/phone.js';
import { sanitizeText } from '../../runtime/sanitize.js';
import type { UssdTurn } from '../../runtime/ussd-runtime.js';
import { resolveCumulativeText } from './cumulative-text.js';

export const CHANNEL = 'africastalking';

const single = (name: string, max: number) =>
  z.string({ error: (issue) => (Array.isArray(issue.input) ? `${name} is given more than once` : `${name} is missing`) })
    .max(max, `${name} is longer than ${max} characters`);

const bodySchema = z.object({
  sessionId: single('sessionId', 128).regex(/^[\x21-\x7e]+$/, 'sessionId must be printable ASCII without spaces'),
  phoneNumber: single('phoneNumber', 32).min(1, 'phoneNumber is missing'),
  serviceCode: single('serviceCode', 64).min(1, 'serviceCode is missing'),
  networkCode: single('networkCode', 32).optional(),
  text: z.union([single('text', 4096), z.null()]).optional(),
});

export type ParsedRequest = { ok: true; turn: UssdTurn } | { ok: false; status: number; reason: string };

export function parseUssdRequest(body: unknown, allowedServiceCodes: readonly string[]): ParsedRequest {
  if (!body || typeof body !== 'object') return { ok: false, status: 400, reason: 'expected a form body' };
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) return { ok: false, status: 400, reason: parsed.error.issues[0]!.message };
  const b = parsed.data;
  const phone = normalizePhone(b.phoneNumber);
  if (!phone) return { ok: false, status: 400, reason: 'phoneNumber is not a phone number' };
  const serviceCode = b.serviceCode.trim();
  if (allowedServiceCodes.length > 0 && !allowedServiceCodes.includes(serviceCode)) {
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
      marker: text,
      resolve: (previous) => resolveCumulativeText(previous, text),
    },
  };
}

/** AT's reply format: `CON …` keeps the session open, `END …` closes it. */
export function formatUssdReply(reply: { text: string; end: boolean }): string {
  return `${reply.end ? 'END' : 'CON'} ${reply.text}`;
}
