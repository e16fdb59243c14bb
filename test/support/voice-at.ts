/**
 * Africa's Talking's voice line as a test plays it: the XML checker (AT's
 * elements and attributes, docs/at-voice-protocol.md §2.2, from AT's docs and
 * its SDKs) and a caller who follows what the XML says, posting back to the
 * URLs it names as AT does.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * AT's elements and the attributes each may carry (docs/at-voice-protocol.md §2.2,
 * from AT's docs and its SDKs), and what each may hold.
 */
export const ALLOWED: Record<string, { attributes: readonly string[]; children: readonly string[]; text: boolean }> = {
  Response: { attributes: [], children: ['Say', 'Play', 'GetDigits', 'Record', 'Dial', 'Redirect', 'Reject', 'Enqueue', 'Dequeue', 'Conference'], text: false },
  Say: { attributes: ['voice', 'playBeep'], children: [], text: true },
  Play: { attributes: ['url'], children: [], text: false },
  GetDigits: { attributes: ['numDigits', 'timeout', 'finishOnKey', 'callbackUrl'], children: ['Say', 'Play'], text: false },
  Record: { attributes: ['finishOnKey', 'maxLength', 'timeout', 'trimSilence', 'playBeep', 'callbackUrl'], children: ['Say', 'Play'], text: false },
  Dial: { attributes: ['phoneNumbers', 'record', 'sequential', 'callerId', 'ringbackTone', 'maxDuration'], children: [], text: false },
  Redirect: { attributes: [], children: [], text: true },
  Reject: { attributes: [], children: [], text: false },
};

type Node = Record<string, unknown>;
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', preserveOrder: true, trimValues: false, parseTagValue: false, parseAttributeValue: false });

/** Every problem of a document against ALLOWED: unknown elements or attributes, children where none may be, text where none may be. */
export function problemsOf(xml: string): string[] {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return [`not XML: ${valid.err.msg}`];
  if (!xml.startsWith('<?xml version="1.0" encoding="UTF-8"?><Response>')) return ['no XML declaration and <Response> root'];
  const problems: string[] = [];
  const walk = (nodes: Node[], parent: string) => {
    for (const node of nodes) {
      for (const [tag, value] of Object.entries(node)) {
        if (tag === ':@' || tag === '?xml') continue;
        if (tag === '#text') {
          if (!ALLOWED[parent]?.text) problems.push(`text inside <${parent}>`);
          continue;
        }
        const rule = ALLOWED[tag];
        if (!rule) problems.push(`unknown element <${tag}>`);
        else if (parent !== '' && !ALLOWED[parent]!.children.includes(tag)) problems.push(`<${tag}> inside <${parent}>`);
        for (const attr of Object.keys((node[':@'] as Node | undefined) ?? {})) {
          if (!rule?.attributes.includes(attr.slice(1))) problems.push(`attribute ${attr.slice(1)} on <${tag}>`);
        }
        walk(value as Node[], tag);
      }
    }
  };
  walk(parser.parse(xml) as Node[], '');
  return problems;
}


/** One action of an answer, as the caller meets it. */
export interface Action {
  tag: string;
  attrs: Record<string, string>;
  /** Say's words, Redirect's URL */
  text: string;
  /** GetDigits' or Record's prompt */
  children: Action[];
}

const flat = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', preserveOrder: true, trimValues: false, parseTagValue: false, parseAttributeValue: false });

/** The actions of an answer, in order; throws with the problems when AT would not take it. */
export function actionsOf(xml: string): Action[] {
  const problems = problemsOf(xml);
  if (problems.length) throw new Error(`AT would refuse this answer: ${problems.join('; ')}\n${xml}`);
  const read = (nodes: Node[]): Action[] =>
    nodes.flatMap((node) =>
      Object.entries(node)
        .filter(([tag]) => tag !== ':@' && tag !== '#text' && tag !== '?xml')
        .map(([tag, value]) => {
          const kids = value as Node[];
          const text = kids.map((k) => (typeof k['#text'] === 'string' ? (k['#text'] as string) : '')).join('');
          return { tag, attrs: ((node[':@'] as Record<string, string> | undefined) ?? {}), text, children: read(kids) };
        }),
    );
  const root = read(flat.parse(xml) as Node[]).find((a) => a.tag === 'Response')!;
  return root.children;
}

/** What an action says: its words, or `[play <url>]` for a recording. */
export function heard(actions: readonly Action[]): string {
  return actions
    .flatMap((a) => (a.tag === 'GetDigits' || a.tag === 'Record' ? a.children : [a]))
    .filter((a) => a.tag === 'Say' || a.tag === 'Play')
    .map((a) => (a.tag === 'Say' ? a.text : `[play ${a.attrs.url}]`))
    .join(' | ');
}

export interface VoiceTurn {
  status: number;
  xml: string;
  actions: Action[];
  /** everything said, in order */
  said: string;
}

/**
 * A caller on AT's voice line: `start` is the call coming in; `press`
 * answers the GetDigits with keys (to its callbackUrl), `speak` answers the
 * Record with a recording's URL, `silence` runs what follows a GetDigits that
 * heard nothing (its Redirect), `hangUp` is AT's final notification.
 */
export function voiceCaller(base: string, call: { sessionId: string; callerNumber: string; destinationNumber?: string; direction?: 'Inbound' | 'Outbound' }) {
  let last: VoiceTurn | undefined;
  const fields = { isActive: '1', sessionId: call.sessionId, direction: call.direction ?? 'Inbound', callerNumber: call.callerNumber, destinationNumber: call.destinationNumber ?? '+22320200000', callSessionState: 'Answered' };
  const post = async (url: string, extra: Record<string, string>): Promise<VoiceTurn> => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...fields, ...extra }).toString() });
    const xml = await res.text();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${xml}`);
    const actions = actionsOf(xml);
    last = { status: res.status, xml, actions, said: heard(actions) };
    return last;
  };
  const waiting = (tag: string) => {
    const action = last?.actions.find((a) => a.tag === tag);
    if (!action) throw new Error(`the call does not wait for <${tag}> now: ${last?.xml}`);
    return action;
  };
  return {
    start: (path = '/voice/africastalking') => post(`${base}${path}`, {}),
    press: (keys: string) => post(waiting('GetDigits').attrs.callbackUrl!, { dtmfDigits: keys }),
    speak: (recordingUrl: string) => post(waiting('Record').attrs.callbackUrl!, { recordingUrl }),
    /** the caller says nothing: AT runs the Redirect after the GetDigits (or posts an empty recording) */
    silence: () => {
      const redirect = last?.actions.find((a) => a.tag === 'Redirect');
      if (redirect) return post(redirect.text, {});
      return post(waiting('Record').attrs.callbackUrl!, { recordingUrl: '' });
    },
    async hangUp(extra: Record<string, string> = {}) {
      const res = await fetch(`${base}/voice/africastalking`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...fields, isActive: '0', callSessionState: 'Completed', durationInSeconds: '95', currencyCode: 'XOF', amount: '42.5000', hangupCause: 'NORMAL_CLEARING', ...extra }).toString(),
      });
      return { status: res.status, body: await res.text() };
    },
    get last() {
      return last;
    },
    sessionId: call.sessionId,
  };
}
