/**
 * Reads a Hubtel-style USSD request (JSON `Mobile, SessionId, ServiceCode,
 * Type, Message, Operator, Sequence, ClientState`) into a gateway-neutral
 * turn, an end-of-session notice, or a plain reason why it cannot be read.
 *
 * Unlike Africa's Talking, Hubtel sends only the newest input, and numbers
 * each request of a session with `Sequence`: the sequence is the position
 * marker, so a repeated request is recognised by its number, not its text.
 */
import { z } from 'zod';
import { normalizePhone } from '../../privacy/phone.js';
import { sanitizeText } from '../../runtime/sanitize.js';
import type { TurnInputs, UssdTurn } from '../../runtime/ussd-runtime.js';

export const CHANNEL = 'hubtel';

/** Hubtel keeps at most this many characters of `ClientState`. */
export const CLIENT_STATE_MAX = 100;

/** The older API capitalises the type, the newer one does not; both mean the same. */
const REQUEST_TYPES = ['initiation', 'response', 'release', 'timeout'] as const;
export type HubtelRequestType = (typeof REQUEST_TYPES)[number];

/** A required string field, with a plain reason when it is missing, not a string or too long. */
function requiredText(name: string, max: number) {
  return z
    .string({ error: (issue) => (issue.input == null ? `${name} is missing` : `${name} must be a string`) })
    .min(1, `${name} is missing`)
    .max(max, `${name} is longer than ${max} characters`);
}

/** An optional string field; null and absent mean the same. */
function optionalText(name: string, max: number) {
  return z
    .string({ error: `${name} must be a string` })
    .max(max, `${name} is longer than ${max} characters`)
    .nullish();
}

export const hubtelBodySchema = z.object(
  {
    SessionId: requiredText('SessionId', 128).regex(/^[\x21-\x7e]+$/, 'SessionId must be printable ASCII without spaces'),
    Mobile: requiredText('Mobile', 32),
    ServiceCode: requiredText('ServiceCode', 64),
    Type: requiredText('Type', 16)
      .transform((t) => t.toLowerCase())
      .pipe(z.enum(REQUEST_TYPES, { error: 'Type must be Initiation, Response, Release or Timeout' })),
    Message: optionalText('Message', 4096),
    Operator: optionalText('Operator', 32),
    // An int in the JSON; a digit string is read the same.
    Sequence: z
      .union([z.number().int().min(0).max(2 ** 31 - 1), z.string().regex(/^\d{1,9}$/, 'Sequence must be a whole number')], {
        error: 'Sequence must be a whole number',
      })
      .transform(Number)
      .nullish(),
    // The gateway's own field: echoed, never read. Any length (within the body limit) is cut when echoed.
    ClientState: z.string({ error: 'ClientState must be a string' }).nullish(),
  },
  { error: 'expected a JSON object' },
);

export type HubtelBody = z.infer<typeof hubtelBodySchema>;

export type HubtelRequest =
  /** a step of the conversation, for the runtime */
  | { ok: true; kind: 'turn'; turn: UssdTurn; clientState: string }
  /** the gateway says the session is over (Release, Timeout): nothing to show */
  | { ok: true; kind: 'end'; gatewaySessionId: string; clientState: string }
  | { ok: false; status: number; reason: string };

/**
 * Normalizes Hubtel's `Mobile` to E.164. Hubtel leaves out the `+`
 * (`233244123456`): a number of 10 to 15 digits that is not a Malian form is
 * read as international.
 */
export function hubtelPhone(mobile: string): string | undefined {
  const raw = mobile.trim();
  return normalizePhone(raw) ?? (/^[1-9]\d{9,14}$/.test(raw) ? normalizePhone(`+${raw}`) : undefined);
}

/**
 * The inputs typed in the dial string: `*384*123*1*2#` dialled on
 * `*384*123#` gives `['1', '2']`. An Initiation's `Message` is the whole dial
 * string; one that does not extend the service code carries no inputs.
 */
export function dialStringInputs(message: string, serviceCode: string): string[] {
  const bare = (code: string) => code.trim().replace(/^\*+/, '').replace(/#+$/, '');
  const dialled = bare(message);
  const code = bare(serviceCode);
  if (code === '' || !dialled.startsWith(`${code}*`)) return [];
  return dialled
    .slice(code.length + 1)
    .split('*')
    .filter((part) => part !== '');
}

/** `ClientState` as it goes back: at most 100 characters, never a split surrogate pair. */
export function echoClientState(raw: string | null | undefined): string {
  const chars = Array.from(raw ?? '');
  return chars.length > CLIENT_STATE_MAX ? chars.slice(0, CLIENT_STATE_MAX).join('') : (raw ?? '');
}

/**
 * Reads this request's input against the sequence stored after the previous
 * turn. The same sequence again is a retry; a lower one, or a Response with
 * no session, does not follow the call.
 */
export function resolveSequence(previous: string | undefined, request: { type: 'initiation' | 'response'; sequence: number; message: string; dialInputs: string[] }): TurnInputs {
  if (previous === undefined) {
    // A Response without a session: the session was lost or expired, never guess a position.
    return request.type === 'initiation' ? { kind: 'new', inputs: request.dialInputs } : { kind: 'mismatch' };
  }
  const before = /^\d+$/.test(previous) ? Number(previous) : NaN;
  if (request.sequence === before) return { kind: 'replay' };
  // A second Initiation on a live session id is not a step: its Message is a dial string.
  if (request.sequence > before && request.type === 'response') return { kind: 'step', input: request.message };
  return { kind: 'mismatch' };
}

/** Turns a well-formed body into a turn or an end notice, or says why it cannot be served. */
export function toHubtelRequest(b: HubtelBody, allowedServiceCodes: readonly string[]): HubtelRequest {
  const phone = hubtelPhone(b.Mobile);
  if (!phone) return { ok: false, status: 400, reason: 'Mobile is not a phone number' };
  const serviceCode = b.ServiceCode.trim();
  if (allowedServiceCodes.length > 0 && !allowedServiceCodes.includes(serviceCode)) {
    return { ok: false, status: 403, reason: 'ServiceCode is not served here' };
  }
  const clientState = echoClientState(b.ClientState);
  if (b.Type === 'release' || b.Type === 'timeout') {
    return { ok: true, kind: 'end', gatewaySessionId: b.SessionId, clientState };
  }
  if (b.Sequence == null) return { ok: false, status: 400, reason: 'Sequence is missing' };
  const request = {
    type: b.Type,
    sequence: b.Sequence,
    message: sanitizeText(b.Message ?? ''),
    dialInputs: b.Type === 'initiation' ? dialStringInputs(sanitizeText(b.Message ?? ''), serviceCode) : [],
  };
  return {
    ok: true,
    kind: 'turn',
    clientState,
    turn: {
      channel: CHANNEL,
      gatewaySessionId: b.SessionId,
      phone,
      serviceCode,
      networkCode: b.Operator?.trim() || null,
      marker: String(b.Sequence),
      resolve: (previous) => resolveSequence(previous, request),
    },
  };
}

export interface HubtelReply {
  Type: 'Response' | 'Release';
  Message: string;
  ClientState: string;
}

/** Hubtel's reply format: `Response` keeps the session open, `Release` closes it. */
export function formatHubtelReply(reply: { text: string; end: boolean }, clientState: string): HubtelReply {
  return { Type: reply.end ? 'Release' : 'Response', Message: reply.text, ClientState: clientState };
}
