/**
 * One conversation, played through any gateway: each driver speaks its
 * gateway's format to a harness and hands back what the caller sees, so the
 * conformance suite can demand the same screens from every channel.
 */
import type { HubtelReply } from '../../src/channels/hubtel/ussd-request.js';
import type { Harness } from './harness.js';

/** What the caller sees after a request. */
export interface Reply {
  text: string;
  end: boolean;
}

export interface Call {
  sessionId: string;
  /** E.164 (`+22376000001`); each driver sends it the way its gateway does */
  phone: string;
  serviceCode?: string;
  /** inputs typed in the dial string: `['1', '2']` dials `*384*123*1*2#` */
  dialInputs?: string[];
}

export interface ChannelDriver {
  /** the `channel` recorded on the call */
  name: 'africastalking' | 'hubtel';
  /** dials the service code */
  start(call: Call): Promise<Reply>;
  /** sends the caller's newest input */
  send(call: Call, input: string): Promise<Reply>;
  /** sends the previous request again, as a gateway retrying it does */
  resend(call: Call): Promise<Reply>;
}

const SERVICE_CODE = '*384*123#';

/** Africa's Talking: form bodies, every input so far joined by `*`, `CON`/`END` text back. */
export function atDriver(h: Harness): ChannelDriver {
  const typed = new Map<string, string[]>();
  const post = async (call: Call): Promise<Reply> => {
    const text = typed.get(call.sessionId)!.join('*');
    const res = await h.at({ sessionId: call.sessionId, phoneNumber: call.phone, serviceCode: call.serviceCode ?? SERVICE_CODE, networkCode: '61002', text });
    if (res.status !== 200) throw new Error(`africastalking: HTTP ${res.status}: ${res.body}`);
    const match = /^(CON|END) ([\s\S]*)$/.exec(res.body);
    if (!match) throw new Error(`africastalking: not a USSD reply: ${res.body}`);
    return { text: match[2]!, end: match[1] === 'END' };
  };
  return {
    name: 'africastalking',
    start(call) {
      typed.set(call.sessionId, [...(call.dialInputs ?? [])]);
      return post(call);
    },
    send(call, input) {
      typed.get(call.sessionId)!.push(input);
      return post(call);
    },
    resend: post,
  };
}

export interface HubtelBody {
  Mobile?: unknown;
  SessionId?: unknown;
  ServiceCode?: unknown;
  Type?: unknown;
  Message?: unknown;
  Operator?: unknown;
  Sequence?: unknown;
  ClientState?: unknown;
  /** sent by newer gateways: `USSD`, `Web`, `Hubtel-App`, `Hubtel-POS` */
  Platform?: unknown;
}

/**
 * What is wrong with a Hubtel reply: every field the programmable-services
 * docs make mandatory (`SessionId, Type, Message, Label, DataType,
 * FieldType`), with a value Hubtel knows, and the optional `ClientState`
 * within 100 characters. Empty when nothing is.
 */
export function hubtelReplyProblems(reply: unknown, sessionId?: string): string[] {
  if (typeof reply !== 'object' || reply === null) return ['not a JSON object'];
  const r = reply as Record<string, unknown>;
  const problems: string[] = [];
  const text = (name: string) => {
    if (typeof r[name] !== 'string' || r[name] === '') problems.push(`${name} is missing or empty`);
  };
  for (const name of ['SessionId', 'Type', 'Message', 'Label', 'DataType', 'FieldType']) text(name);
  if (sessionId !== undefined && r.SessionId !== sessionId) problems.push(`SessionId is ${String(r.SessionId)}, not ${sessionId}`);
  if (r.Type !== 'Response' && r.Type !== 'Release') problems.push(`Type ${String(r.Type)} is neither Response nor Release`);
  if (!['input', 'display'].includes(r.DataType as string)) problems.push(`DataType ${String(r.DataType)} is neither input nor display`);
  if (!['text', 'phone', 'email', 'number', 'decimal', 'textarea'].includes(r.FieldType as string)) problems.push(`FieldType ${String(r.FieldType)} is not one Hubtel knows`);
  if (r.Type === 'Release' && r.DataType !== 'display') problems.push('a Release must be displayed, not wait for input');
  if (r.Type === 'Response' && r.DataType !== 'input') problems.push('a Response must wait for input');
  if (typeof r.Label === 'string' && Array.from(r.Label).length > 40) problems.push('Label is longer than 40 characters');
  if (typeof r.ClientState !== 'string' || Array.from(r.ClientState).length > 100) problems.push('ClientState is not a string of at most 100 characters');
  return problems;
}

/** POSTs a Hubtel-style JSON body; returns the status and the body (JSON when it is). */
export async function postHubtel(h: Harness, body: HubtelBody | string, options: { path?: string; contentType?: string } = {}) {
  const res = await fetch(`${h.base}${options.path ?? '/ussd/hubtel'}`, {
    method: 'POST',
    headers: { 'content-type': options.contentType ?? 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const json = res.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(text) as HubtelReply) : undefined;
  return { status: res.status, text, json };
}

/**
 * Hubtel: JSON bodies, the service code without `*` and `#` (`384*123`),
 * `Initiation` with the whole dial string, then `Response` with only the
 * newest input and the next `Sequence`; the `ClientState` of each reply goes
 * back with the next request. Every reply must carry Hubtel's mandatory
 * fields (see hubtelReplyProblems).
 */
export function hubtelDriver(h: Harness): ChannelDriver {
  const state = new Map<string, { type: 'Initiation' | 'Response'; sequence: number; message: string; clientState: string }>();
  const post = async (call: Call): Promise<Reply> => {
    const s = state.get(call.sessionId)!;
    const res = await postHubtel(h, {
      Mobile: call.phone.replace(/^\+/, ''),
      SessionId: call.sessionId,
      ServiceCode: (call.serviceCode ?? SERVICE_CODE).replace(/^\*/, '').replace(/#$/, ''),
      Type: s.type,
      Message: s.message,
      Operator: 'orange',
      Sequence: s.sequence,
      ClientState: s.clientState,
    });
    if (res.status !== 200 || !res.json) throw new Error(`hubtel: HTTP ${res.status}: ${res.text}`);
    const problems = hubtelReplyProblems(res.json, call.sessionId);
    if (problems.length) throw new Error(`hubtel: not a valid reply (${problems.join('; ')}): ${res.text}`);
    s.clientState = res.json.ClientState;
    return { text: res.json.Message, end: res.json.Type === 'Release' };
  };
  return {
    name: 'hubtel',
    start(call) {
      const code = (call.serviceCode ?? SERVICE_CODE).replace(/#$/, '');
      const message = `${[code, ...(call.dialInputs ?? [])].join('*')}#`;
      state.set(call.sessionId, { type: 'Initiation', sequence: 1, message, clientState: `kalata-test:${call.sessionId}` });
      return post(call);
    },
    send(call, input) {
      const s = state.get(call.sessionId)!;
      state.set(call.sessionId, { ...s, type: 'Response', sequence: s.sequence + 1, message: input });
      return post(call);
    },
    resend: post,
  };
}

/** Plays `inputs` after dialling; returns every screen, the first one included. */
export async function play(driver: ChannelDriver, call: Call, inputs: readonly string[]): Promise<Reply[]> {
  const replies = [await driver.start(call)];
  for (const input of inputs) replies.push(await driver.send(call, input));
  return replies;
}
