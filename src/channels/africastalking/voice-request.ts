/**
 * Africa's Talking's voice callback, read into what the voice line needs
 * (docs/at-voice-protocol.md has the protocol and its sources).
 *
 * AT posts a form for each step of a call, all under one `sessionId`:
 * when a call comes in or an outbound call is answered, after a
 * `GetDigits` (`dtmfDigits`) or a `Record` (`recordingUrl`), and a final
 * notification (`isActive=0`) with the duration, the cost and the hang-up
 * cause. `callerNumber` is the citizen's number in both directions.
 * Nothing here is stored or logged: the caller's number goes on only as
 * the runtime's input (which pseudonymizes it).
 */
import { z } from 'zod';
import { toE164 } from '../phone-number.js';
import { sanitizeText } from '../../runtime/sanitize.js';
import { formField, optionalFormField } from './form.js';

/** The voice line's channel, as the call records name it. */
export const VOICE_CHANNEL = 'voice';

/** AT's field set; fields it sends that the line does not use (carrier, country code, dial details) are let through unread. */
const voiceSchema = z.object({
  isActive: z.enum(['0', '1'], { error: 'isActive is 1 (a live call) or 0 (its end)' }),
  sessionId: formField('sessionId', 128),
  direction: z.enum(['Inbound', 'Outbound'], { error: 'direction is Inbound or Outbound' }),
  callerNumber: formField('callerNumber', 64),
  destinationNumber: optionalFormField('destinationNumber', 128),
  dtmfDigits: optionalFormField('dtmfDigits', 64),
  recordingUrl: optionalFormField('recordingUrl', 512),
  durationInSeconds: optionalFormField('durationInSeconds', 12),
  currencyCode: optionalFormField('currencyCode', 8),
  amount: optionalFormField('amount', 32),
  hangupCause: optionalFormField('hangupCause', 64),
  callSessionState: optionalFormField('callSessionState', 32),
  clientRequestId: optionalFormField('clientRequestId', 128),
});

/** What a key press may be: digits, `*` and `#` (AT passes `finishOnKey`'s key along, as in `123#`). */
const DIGITS = /^[0-9*#]{1,64}$/;

export type VoiceEvent =
  | {
      kind: 'step';
      gatewaySessionId: string;
      direction: 'Inbound' | 'Outbound';
      /** the citizen's number, E.164 */
      phone: string;
      /** the hotline number, E.164, when AT names one (a SIP address is none) */
      destination?: string;
      /** the keys pressed after a GetDigits, `finishOnKey` removed; absent on a call's first request or after a silence */
      digits?: string;
      /** where AT keeps what the caller said after a Record */
      recordingUrl?: string;
      /** our request id, on an outbound call we placed (the missed-call callback) */
      clientRequestId?: string;
    }
  | {
      kind: 'ended';
      gatewaySessionId: string;
      phone: string;
      /** AT's words for how it ended: the call's state and the hang-up cause (`Completed`, `NotAnswered / SUBSCRIBER_ABSENT`) */
      status: string;
      durationMs: number | null;
      /** `147.440 UGX` */
      cost: string | null;
      hangupCause: string | null;
      recordingUrl?: string;
    };

export type VoiceRead = { ok: true; event: VoiceEvent } | { ok: false; reason: string };

const present = (v: string | undefined) => (v ? v : undefined);

/**
 * Reads one voice callback's fields. A malformed one gets a plain reason
 * (the handler answers it with a 400), never a guess.
 *
 * @example
 * const read = readVoiceCallback(req.body, 'ML');
 * if (!read.ok) return res.status(400).type('text/plain').send(read.reason);
 */
export function readVoiceCallback(fields: unknown, defaultCountry: string): VoiceRead {
  const parsed = voiceSchema.safeParse(fields ?? {});
  if (!parsed.success) return { ok: false, reason: parsed.error.issues[0]!.message };
  const b = parsed.data;
  const phone = toE164(b.callerNumber, defaultCountry);
  if (!phone) return { ok: false, reason: 'callerNumber is not a phone number' };
  const recordingUrl = present(b.recordingUrl);
  if (recordingUrl && !/^https?:\/\/[^\s]+$/.test(recordingUrl)) return { ok: false, reason: 'recordingUrl is not an http(s) URL' };
  if (b.isActive === '0') {
    const seconds = b.durationInSeconds && /^\d+$/.test(b.durationInSeconds) ? Math.min(Number(b.durationInSeconds), 2_147_483) : null;
    const state = present(b.callSessionState);
    const cause = present(b.hangupCause);
    return {
      ok: true,
      event: {
        kind: 'ended',
        gatewaySessionId: b.sessionId,
        phone,
        status: sanitizeText([state, cause].filter(Boolean).join(' / ') || 'ended'),
        durationMs: seconds === null ? null : seconds * 1000,
        cost: b.amount ? sanitizeText(`${b.amount}${b.currencyCode ? ` ${b.currencyCode}` : ''}`) : null,
        hangupCause: cause ? sanitizeText(cause) : null,
        ...(recordingUrl ? { recordingUrl } : {}),
      },
    };
  }
  const pressed = present(b.dtmfDigits);
  if (pressed !== undefined && !DIGITS.test(pressed)) return { ok: false, reason: 'dtmfDigits holds something other than keys 0-9, * and #' };
  const destination = b.destinationNumber && /^\+?\d{6,15}$/.test(b.destinationNumber) ? toE164(b.destinationNumber, defaultCountry) : undefined;
  // `#` ends what is typed (a NINA): it is the key that says "done", not part of the answer.
  const digits = pressed?.replace(/#$/, '');
  return {
    ok: true,
    event: {
      kind: 'step',
      gatewaySessionId: b.sessionId,
      direction: b.direction,
      phone,
      ...(destination ? { destination } : {}),
      ...(digits !== undefined ? { digits } : {}),
      ...(recordingUrl ? { recordingUrl } : {}),
      ...(b.clientRequestId ? { clientRequestId: b.clientRequestId } : {}),
    },
  };
}
