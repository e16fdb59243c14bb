/**
 * Reads a Hubtel programmable-services request (JSON `Mobile, SessionId,
 * ServiceCode, Type, Message, Operator, Sequence, ClientState`, sometimes
 * `Platform`) into a gateway-neutral turn, and formats the runtime's reply
 * as Hubtel's JSON answer.
 *
 * Unlike Africa's Talking, Hubtel sends only the newest input. It numbers
 * the requests of a session with `Sequence` where it sends one (the SDK's own
 * sample request has none): with it, a repeated request is recognised by its
 * number; without it, a `Response` is the next step of the stored session.
 *
 * Request types (`Type`, read without regard to case): `Initiation` starts a
 * call, `Response` carries an input, `Release` (the caller ended it) and
 * `Timeout` (the gateway gave up waiting) close it, `Favorite` (the SDK: "a
 * special case of Initiation") starts a call, `Query` (an API query for data)
 * is answered with a plain release.
 */
import { z } from 'zod';
import { sanitizeText } from '../../runtime/sanitize.js';
import type { TurnInputs, CallReply, CallTurn } from '../../runtime/call-runtime.js';
import { toE164 } from '../phone-number.js';
import { dialledForm, isServedCode } from '../service-code.js';

export const CHANNEL = 'hubtel';

/** Hubtel keeps at most this many characters of `ClientState`. */
export const CLIENT_STATE_MAX = 100;

/** A reply's `Label` (a title the Hubtel app shows over the screen) keeps at most this many characters. */
export const LABEL_MAX = 40;

/** The label of a screen without a first line to take it from. */
export const DEFAULT_LABEL = 'Kalata';

/** The older API capitalises the type, the newer one does not; both mean the same. */
const REQUEST_TYPES = ['initiation', 'response', 'release', 'timeout', 'favorite', 'query'] as const;
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
      .pipe(z.enum(REQUEST_TYPES, { error: 'Type must be Initiation, Response, Release, Timeout, Favorite or Query' })),
    Message: optionalText('Message', 4096),
    Operator: optionalText('Operator', 32),
    // An int in the JSON, a digit string in the docs' sample ("Sequence":"1"); absent in the SDK's sample.
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

/** What the reply echoes of the request. */
export interface HubtelEcho {
  sessionId: string;
  clientState: string;
}

export type HubtelRequest =
  /** a step of the conversation (Initiation, Favorite, Response), for the runtime */
  | { ok: true; kind: 'turn'; turn: CallTurn; echo: HubtelEcho }
  /**
   * the gateway says the session is over (Release, Timeout): the call is
   * closed with `status`; `over` is a turn that never steps, for the reply
   */
  | { ok: true; kind: 'end'; status: 'Release' | 'Timeout'; over: CallTurn; echo: HubtelEcho }
  /** an API query for data: Kalata has none to give */
  | { ok: true; kind: 'query'; echo: HubtelEcho }
  | { ok: false; status: number; reason: string };

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

/** One request as the position logic reads it. `sequence` is undefined when the gateway sent none. */
export interface SequencedRequest {
  type: 'initiation' | 'response';
  sequence: number | undefined;
  message: string;
  dialInputs: string[];
}

/**
 * The position stored after a request: its `Sequence`; without one, `i`
 * after a first request and `-` after a step.
 */
export function sequenceMarker(request: Pick<SequencedRequest, 'type' | 'sequence'>): string {
  if (request.sequence !== undefined) return String(request.sequence);
  return request.type === 'initiation' ? 'i' : '-';
}

/**
 * Reads this request against the position stored after the previous turn.
 * With sequences on both sides: the same number again is a retry, a higher
 * one on a Response is the next step, anything else does not follow. Without
 * them a Response is the next step, and an Initiation repeats the call's
 * first request only while the call has gone no further.
 */
export function resolveSequence(previous: string | undefined, request: SequencedRequest): TurnInputs {
  if (previous === undefined) {
    // A Response without a session: the session was lost or expired, never guess a position.
    return request.type === 'initiation' ? { kind: 'new', inputs: request.dialInputs } : { kind: 'mismatch' };
  }
  const before = /^\d+$/.test(previous) ? Number(previous) : undefined;
  if (request.sequence !== undefined && before !== undefined) {
    if (request.sequence === before) return { kind: 'replay' };
    // A second Initiation on a live session id is not a step: its Message is a dial string.
    return request.sequence > before && request.type === 'response' ? { kind: 'step', input: request.message } : { kind: 'mismatch' };
  }
  if (request.type === 'response') return { kind: 'step', input: request.message };
  return previous === 'i' && request.sequence === undefined ? { kind: 'replay' } : { kind: 'mismatch' };
}

/** The same turn, read as not following the session: the runtime answers it with a release and steps nothing. */
export function turnThatNeverSteps(turn: CallTurn): CallTurn {
  return { ...turn, resolve: () => ({ kind: 'mismatch' }) };
}

/**
 * Turns a well-formed body into a turn, an end notice or a query, or says
 * why it cannot be served. `defaultCountry` is where a `Mobile` without `+`
 * is read first (see ../phone-number.ts); Hubtel sends `233244123456`.
 */
export function toHubtelRequest(b: HubtelBody, allowedServiceCodes: readonly string[], defaultCountry: string): HubtelRequest {
  const phone = toE164(b.Mobile, defaultCountry);
  if (!phone) return { ok: false, status: 400, reason: 'Mobile is not a phone number' };
  // Recorded as dialled (`*713#`), whichever form Hubtel sent (`713`).
  const serviceCode = dialledForm(b.ServiceCode);
  if (!isServedCode(serviceCode, allowedServiceCodes)) return { ok: false, status: 403, reason: 'ServiceCode is not served here' };
  const echo: HubtelEcho = { sessionId: b.SessionId, clientState: echoClientState(b.ClientState) };
  if (b.Type === 'query') return { ok: true, kind: 'query', echo };

  // The SDK's request model defaults a missing Sequence to 0; Hubtel numbers from 1.
  const sequence = b.Sequence == null || b.Sequence === 0 ? undefined : b.Sequence;
  const message = sanitizeText(b.Message ?? '');
  const type = b.Type === 'response' ? 'response' : 'initiation';
  const request: SequencedRequest = {
    type,
    sequence,
    message,
    dialInputs: type === 'initiation' ? dialStringInputs(message, serviceCode) : [],
  };
  const turn: CallTurn = {
    channel: CHANNEL,
    gatewaySessionId: b.SessionId,
    phone,
    serviceCode,
    networkCode: b.Operator?.trim() || null,
    marker: sequenceMarker(request),
    opening: type === 'initiation',
    resolve: (previous) => resolveSequence(previous, request),
  };
  if (b.Type === 'release' || b.Type === 'timeout') {
    return { ok: true, kind: 'end', status: b.Type === 'release' ? 'Release' : 'Timeout', over: turnThatNeverSteps(turn), echo };
  }
  return { ok: true, kind: 'turn', turn, echo };
}

/**
 * Hubtel's answer. The programmable-services docs make every field but
 * `ClientState` mandatory: a reply without them is "invalid" at the gateway.
 */
export interface HubtelReply {
  SessionId: string;
  /** `Response` keeps the session open, `Release` closes it (capitalised, as Hubtel's SDK sends it) */
  Type: 'Response' | 'Release';
  Message: string;
  /** a short title of the screen */
  Label: string;
  /** `input` where the caller answers, `display` on a final screen */
  DataType: 'input' | 'display';
  /** `number` for a choice from the screen, `text` for free text (and on a final screen) */
  FieldType: 'number' | 'text';
  ClientState: string;
}

/**
 * A screen's title: its first line with text, cut to LABEL_MAX characters
 * (at a space when one is near), or DEFAULT_LABEL.
 *
 * @example
 * screenLabel('Kalata. Langue / Kan:\n1. Français') // 'Kalata. Langue / Kan:'
 */
export function screenLabel(text: string): string {
  const first = text
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .find((line) => line !== '');
  if (!first) return DEFAULT_LABEL;
  const chars = Array.from(first);
  if (chars.length <= LABEL_MAX) return first;
  const cut = chars.slice(0, LABEL_MAX).join('');
  const space = cut.lastIndexOf(' ');
  return (space >= LABEL_MAX / 2 ? cut.slice(0, space) : cut).trimEnd();
}

/**
 * The runtime's reply in Hubtel's format, every mandatory field set. A
 * waiting screen whose kind of answer is unknown asks for text, which never
 * keeps a caller from typing a number.
 */
export function formatHubtelReply(reply: CallReply, echo: HubtelEcho): HubtelReply {
  return {
    SessionId: echo.sessionId,
    Type: reply.end ? 'Release' : 'Response',
    Message: reply.text,
    Label: screenLabel(reply.text),
    DataType: reply.end ? 'display' : 'input',
    FieldType: !reply.end && reply.expects === 'choice' ? 'number' : 'text',
    ClientState: echo.clientState,
  };
}
