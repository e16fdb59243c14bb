/**
 * `POST /voice/africastalking`: Africa's Talking's voice callback. Each
 * request is one step of a call (docs/at-voice-protocol.md): the runtime
 * steps the same flows as USSD, and the screen it answers with is said by
 * channels/voice/voice-prompts.ts and written as AT's XML.
 *
 * - A menu waits for one key (`0` back, `*` home); more than nine options
 *   for a number then `#`; a NINA for digits then `#`; a free text is a
 *   `Record` with a beep (the answer is the recording's URL).
 * - AT sends nothing when a `GetDigits` hears no key: a `Redirect` after it
 *   comes back here with `silence=1`; the screen is said once more, and the
 *   second silence says goodbye (AT then hangs up and sends the end).
 * - The final notification (`isActive=0`) closes the call with AT's
 *   duration, cost and hang-up cause.
 * Every readable request gets a 200 with XML; a malformed one a 400 with a
 * plain reason. The caller's number goes only to the runtime.
 */
import express, { type Request, type RequestHandler } from 'express';
import type { Lang } from '../../engine/types.js';
import type { FlowRegistry } from '../../flows/flow-registry.js';
import type { Logger } from '../../logger.js';
import type { CallReply, CallRuntime } from '../../runtime/call-runtime.js';
import { VOICE_TEXTS } from '../../flows/channel-texts.js';
import type { Spoken, VoiceScreen, VoiceSpeaker } from '../voice/voice-prompts.js';
import { adviserNow, replyFlows, replyScreen, sayText, voiceTurn, type VoiceAnswer } from '../voice/voice-turn.js';
import { readVoiceCallback, VOICE_CHANNEL } from './voice-request.js';
import { voiceXml, type Prompt, type VoiceAction } from './voice-xml.js';

/** AT's final notification carries some twenty fields (dial details, carrier): a larger field limit than USSD's. */
export const parseVoiceForm = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 60 });

/** Seconds AT waits for a key on a menu, for digits, and for the first word of a recording. */
const KEY_TIMEOUT = 8;
const DIGITS_TIMEOUT = 20;
/** A spoken description: at most this long, ended by `#` or this much silence. */
const RECORD_MAX_SECONDS = 90;
const RECORD_SILENCE_SECONDS = 5;
/** Media ids per Play: a URL stays well under what servers take. */
const IDS_PER_URL = 40;

export interface VoiceHandlerOptions {
  runtime: CallRuntime;
  flows: FlowRegistry;
  logger: Logger;
  /** where a number without `+` is read first (DEFAULT_COUNTRY) */
  defaultCountry: string;
  speaker: VoiceSpeaker;
  sayVoice: 'woman' | 'man';
  /** PUBLIC_URL, or undefined: each request's own address */
  publicUrl?: string;
  /** the WEBHOOK_SECRET path segment, repeated in the callback URLs AT is given */
  secret?: string;
  /** hotline numbers whose incoming calls are missed calls: rejected (free for the caller), then called back */
  callbackNumbers?: ReadonlySet<string>;
  /** decides and queues the call-back of a missed call (src/runtime/missed-calls.ts) */
  missedCall?: (phone: string, hotline: string) => Promise<unknown>;
  now?: () => Date;
}

export function atVoiceHandler(options: VoiceHandlerOptions): RequestHandler {
  const log = options.logger.child({ subsystem: 'channel.africastalking.voice' });
  const { speaker } = options;

  const baseOf = (req: Request) => options.publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
  const callbackOf = (req: Request) => `${baseOf(req)}/voice/africastalking${options.secret ? `/${encodeURIComponent(options.secret)}` : ''}`;
  const mediaUrl = (req: Request, ids: readonly string[]) => `${baseOf(req)}/voice/media/${ids.join('-')}.mp3`;

  const prompt = (req: Request, s: Spoken): Prompt[] => {
    if ('say' in s) return [{ say: s.say, voice: options.sayVoice }];
    const out: Prompt[] = [];
    for (let i = 0; i < s.play.length; i += IDS_PER_URL) out.push({ play: mediaUrl(req, s.play.slice(i, i + IDS_PER_URL)) });
    return out;
  };

  const now = options.now ?? (() => new Date());
  const turnOptions = { flows: options.flows, speaker, now };

  /** The XML of a reply: its screen said, then what the caller answers with. */
  const actionsOf = (req: Request, reply: CallReply, silences: number, before: Spoken[] = []): VoiceAction[] => {
    const screen: VoiceScreen = replyScreen(turnOptions, reply);
    const prompts = [...before, ...screen.prompts].flatMap((s) => prompt(req, s));
    if (screen.gather.kind === 'none' || !prompts.length) return prompts.length ? prompts : [{ say: reply.text, voice: options.sayVoice }];
    const last = prompts[prompts.length - 1]!;
    const lead: VoiceAction[] = prompts.slice(0, -1);
    const callbackUrl = callbackOf(req);
    if (screen.gather.kind === 'record') {
      // Nothing recorded comes back as silence: counted like a GetDigits' (the second says goodbye).
      return [...lead, { record: last, maxLength: RECORD_MAX_SECONDS, timeout: RECORD_SILENCE_SECONDS, finishOnKey: '#', trimSilence: true, playBeep: true, callbackUrl: `${callbackUrl}?silence=${silences + 1}` }];
    }
    const gather: VoiceAction =
      screen.gather.kind === 'key'
        ? { getDigits: last, numDigits: 1, timeout: KEY_TIMEOUT, callbackUrl }
        : screen.gather.kind === 'number'
          ? { getDigits: last, numDigits: 3, finishOnKey: '#', timeout: KEY_TIMEOUT, callbackUrl }
          : { getDigits: last, numDigits: Math.min(screen.gather.max + 1, 64), finishOnKey: '#', timeout: DIGITS_TIMEOUT, callbackUrl };
    // AT says nothing back when no key is pressed: it runs the next action, which brings the call here again.
    return [...lead, gather, { redirect: `${callbackUrl}?silence=${silences + 1}` }];
  };

  /** A short text of the voice line, said in the call's language (the goodbye after silences). */
  const say = (lang: Lang, key: string): Spoken[] => sayText(turnOptions, lang, key);

  const send = (res: Parameters<RequestHandler>[1], actions: VoiceAction[]) => {
    res.status(200).type('application/xml').send(voiceXml(actions));
  };

  return async (req, res) => {
    if (!req.is('application/x-www-form-urlencoded')) return void res.status(415).type('text/plain').send('expected Content-Type: application/x-www-form-urlencoded');
    const read = readVoiceCallback(req.body, options.defaultCountry);
    if (!read.ok) return void res.status(400).type('text/plain').send(read.reason);
    const event = read.event;
    if (event.kind === 'ended') {
      try {
        const known = await options.runtime.end({ channel: VOICE_CHANNEL, gatewaySessionId: event.gatewaySessionId, status: event.status, durationMs: event.durationMs, hops: null, cost: event.cost, error: event.hangupCause });
        if (!known) log.info({ session: event.gatewaySessionId }, 'end of an unknown voice call');
      } catch (err) {
        log.warn({ err: (err as Error).message, session: event.gatewaySessionId }, 'end of a voice call not recorded');
      }
      return void res.status(200).type('text/plain').send('OK');
    }

    // A ring to the call-back number: rejected at once (AT charges nothing), and called back.
    const fresh = event.digits === undefined && event.recordingUrl === undefined && req.query.silence === undefined;
    if (fresh && event.direction === 'Inbound' && event.destination && options.callbackNumbers?.has(event.destination) && options.missedCall) {
      await options.missedCall(event.phone, event.destination);
      return void send(res, [{ reject: true }]);
    }
    const silenceParam = typeof req.query.silence === 'string' && /^[0-9]$/.test(req.query.silence) ? Number(req.query.silence) : 0;
    const silent = event.digits === undefined && event.recordingUrl === undefined;
    const silences = silent ? silenceParam : 0;
    const answer: VoiceAnswer = silent ? { kind: 'silence' } : event.recordingUrl !== undefined ? { kind: 'recording', url: event.recordingUrl } : { kind: 'keys', keys: event.digits! };
    const { turn, languages, adviserAsked } = voiceTurn(turnOptions, { channel: VOICE_CHANNEL, gatewaySessionId: event.gatewaySessionId, phone: event.phone, answer, ...(req.ip ? { address: req.ip } : {}) });
    if (silent && silences >= 2) {
      // The second silence: goodbye. AT ends the call after the last action, and its final notification closes the record.
      const lang = languages[0] ?? options.flows.live().languages[0]!;
      return void send(res, say(lang, VOICE_TEXTS.goodbye).flatMap((s) => prompt(req, s)));
    }
    const reply = await options.runtime.handle(turn);
    const replied = replyFlows(options.flows, reply);
    const adviser = replied.voice?.adviser;
    if (adviserAsked() && adviser && reply.view && adviserNow(replied, now())) {
      // Put through; if nobody picks up, AT runs what follows: back here, to the same menu.
      log.info({ session: event.gatewaySessionId }, 'caller put through to an adviser');
      const connecting = say(reply.view.lang, VOICE_TEXTS.adviserConnecting).flatMap((s) => prompt(req, s));
      return void send(res, [...connecting, { dial: adviser.numbers, sequential: true, maxDuration: adviser.max_minutes * 60 }, { redirect: `${callbackOf(req)}?silence=0` }]);
    }
    const again = silent && silences === 1 && reply.view ? say(reply.view.lang, VOICE_TEXTS.silence) : [];
    try {
      send(res, actionsOf(req, reply, silences, again));
    } catch (err) {
      log.error({ err: (err as Error).message, session: event.gatewaySessionId }, 'voice reply could not be written');
      send(res, [{ say: reply.text || '.', voice: options.sayVoice }]);
    }
  };
}
