/**
 * The XML Africa's Talking's voice line runs: `<Response>` and its actions,
 * in order (docs/at-voice-protocol.md, section 2, has each element and
 * attribute with its source). Only the actions and attributes AT documents
 * can be written, every value is escaped (AT's own SDKs escape nothing: a
 * URL with `&` would break the document), and the rules AT states are
 * checked here rather than discovered on a live call: `Reject` stands alone,
 * `GetDigits` wraps one prompt, nothing follows a terminal action.
 */

export type Prompt = { say: string; voice?: 'man' | 'woman' } | { play: string };

export type VoiceAction =
  | Prompt
  | {
      getDigits: Prompt;
      /** seconds before AT moves on to the next action (AT's default 30) */
      timeout?: number;
      /** the key that ends what is typed (a NINA ends with `#`) */
      finishOnKey?: '#' | '*';
      numDigits?: number;
      callbackUrl?: string;
    }
  | {
      record: Prompt | null;
      maxLength?: number;
      /** seconds of silence that end the recording */
      timeout?: number;
      finishOnKey?: '#' | '*';
      trimSilence?: boolean;
      playBeep?: boolean;
      callbackUrl?: string;
    }
  /** `recordCall`: AT records the bridged call (its URL comes in the final notification) */
  | { dial: readonly string[]; callerId?: string; maxDuration?: number; sequential?: boolean; recordCall?: boolean }
  | { redirect: string }
  | { reject: true };

export class VoiceXmlError extends Error {}

const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttr = (s: string) => escapeText(s).replace(/"/g, '&quot;');

/** Characters XML 1.0 cannot hold at all (escaping does not help): refused, never sent to AT. */
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

function attrs(values: Record<string, string | number | boolean | undefined>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      const text = String(v);
      if (NOT_XML.test(text)) throw new VoiceXmlError(`attribute ${k} holds a character XML cannot carry`);
      return ` ${k}="${escapeAttr(text)}"`;
    })
    .join('');
}

const url = (what: string, value: string) => {
  if (!/^https?:\/\/\S+$/.test(value)) throw new VoiceXmlError(`${what} must be an absolute http(s) URL`);
  return value;
};
const seconds = (what: string, value: number | undefined) => {
  if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > 3600)) throw new VoiceXmlError(`${what} is a whole number of seconds from 1 to 3600`);
  return value;
};

function prompt(p: Prompt): string {
  if ('say' in p) {
    if (!p.say.trim()) throw new VoiceXmlError('Say needs text');
    if (NOT_XML.test(p.say)) throw new VoiceXmlError('Say holds a character XML cannot carry');
    return `<Say${attrs({ voice: p.voice })}>${escapeText(p.say)}</Say>`;
  }
  return `<Play${attrs({ url: url('Play url', p.play) })}/>`;
}

function action(a: VoiceAction): string {
  if ('say' in a || 'play' in a) return prompt(a);
  if ('getDigits' in a) {
    const numDigits = a.numDigits;
    if (numDigits !== undefined && (!Number.isInteger(numDigits) || numDigits < 1 || numDigits > 64)) throw new VoiceXmlError('numDigits is from 1 to 64');
    return `<GetDigits${attrs({ timeout: seconds('GetDigits timeout', a.timeout), finishOnKey: a.finishOnKey, numDigits, callbackUrl: a.callbackUrl && url('GetDigits callbackUrl', a.callbackUrl) })}>${prompt(a.getDigits)}</GetDigits>`;
  }
  if ('dial' in a) {
    if (!a.dial.length || !a.dial.every((n) => /^\+\d{6,15}$/.test(n))) throw new VoiceXmlError('Dial needs numbers in E.164 (+223...)');
    return `<Dial${attrs({ phoneNumbers: a.dial.join(','), callerId: a.callerId, maxDuration: seconds('Dial maxDuration', a.maxDuration), sequential: a.sequential, record: a.recordCall })}/>`;
  }
  if ('record' in a) {
    const open = `<Record${attrs({ finishOnKey: a.finishOnKey, maxLength: seconds('Record maxLength', a.maxLength), timeout: seconds('Record timeout', a.timeout), trimSilence: a.trimSilence, playBeep: a.playBeep, callbackUrl: a.callbackUrl && url('Record callbackUrl', a.callbackUrl) })}`;
    return a.record ? `${open}>${prompt(a.record)}</Record>` : `${open}/>`;
  }
  if ('redirect' in a) return `<Redirect>${escapeText(url('Redirect', a.redirect))}</Redirect>`;
  return '<Reject/>';
}

/** Actions after which AT runs nothing more: Redirect and Reject always, a terminal Record (no prompt, no attribute). */
const isTerminal = (a: VoiceAction) => 'redirect' in a || 'reject' in a || ('record' in a && a.record === null && Object.keys(a).length === 1);

/**
 * The document AT runs, in order.
 *
 * @example
 * voiceXml([{ getDigits: { play: 'https://kalata.example/r/bm/main/home.title.mp3' }, timeout: 8, finishOnKey: '#' }, { say: 'Au revoir.' }]);
 */
export function voiceXml(actions: readonly VoiceAction[]): string {
  if (!actions.length) throw new VoiceXmlError('a response needs at least one action');
  if (actions.some((a) => 'reject' in a) && actions.length > 1) throw new VoiceXmlError('Reject must be the only action');
  const last = actions.findIndex(isTerminal);
  if (last >= 0 && last < actions.length - 1) throw new VoiceXmlError('nothing runs after Redirect, Reject or a terminal Record');
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${actions.map(action).join('')}</Response>`;
}
