/**
 * One turn of a voice call, for any channel that speaks the flows (Africa's
 * Talking's callback, the console's simulator): the CallTurn the runtime
 * steps, and the reply read back as a VoiceScreen. What the gateway then
 * writes (AT's XML, the simulator's JSON) stays with the channel.
 *
 * - A first request starts the call; silence, or the key that repeats an
 *   information, answers the last screen again; a recording answers a free
 *   text with its URL; other keys are the engine's input (readKeys).
 * - The position kept after each screen names the keys the channel answers
 *   itself (screenMarks): repeat, adviser.
 */
import type { CompiledFlows, Lang } from '../../engine/types.js';
import type { FlowRegistry } from '../../flows/flow-registry.js';
import { advisersAnswer } from '../../flows/voice-settings.js';
import type { CallReply, CallTurn } from '../../runtime/call-runtime.js';
import { readKeys, screenMarks, voiceLanguages, voiceScreen, type Spoken, type VoiceScreen, type VoiceSpeaker } from './voice-prompts.js';

/** What the caller did since the last screen. */
export type VoiceAnswer =
  /** nothing heard (a GetDigits timed out, a recording of nothing) */
  | { kind: 'silence' }
  /** keys pressed (`#` included when it ended them) */
  | { kind: 'keys'; keys: string }
  /** a recording of the caller's words: its URL */
  | { kind: 'recording'; url: string };

export interface VoiceTurnOptions {
  flows: FlowRegistry;
  speaker: VoiceSpeaker;
  now: () => Date;
}

export interface VoiceTurnRequest {
  channel: string;
  gatewaySessionId: string;
  /** E.164 */
  phone: string;
  answer: VoiceAnswer;
  /** the request's address, for the per-address limit */
  address?: string;
  /** a request that does not follow a stored position: `new` starts the call (AT), `mismatch` refuses it (the simulator) */
  unknown?: 'new' | 'mismatch';
}

export interface VoiceTurn {
  turn: CallTurn;
  /** the languages the voice line offers now (the goodbye is said in the first) */
  languages: Lang[];
  /** after the runtime answered: whether the caller pressed the adviser's key */
  adviserAsked(): boolean;
}

/** The flows a reply's screen was made from (a call keeps its version), else the live ones. */
export function replyFlows(registry: FlowRegistry, reply: CallReply): CompiledFlows {
  return (reply.view && registry.get(reply.view.flowHash)) || registry.live();
}

/** Whether the home menu offers an adviser now (flows/voice.yaml's hours). */
export const adviserNow = (flows: CompiledFlows, now: Date): boolean => advisersAnswer(flows.voice?.adviser, now);

/**
 * What the caller hears for a reply, and how they answer it; a reply without
 * a view (an apology) is said as its text.
 *
 * @example
 * const screen = replyScreen(options, reply); // { prompts: [{ say: '…', lang: 'fr' }], gather: { kind: 'key' } }
 */
export function replyScreen(options: VoiceTurnOptions, reply: CallReply): VoiceScreen {
  // Built once per reply: the runtime asks for it to store the position (markAfter), the channel to answer.
  const built = screensOfReplies.get(reply);
  if (built) return built;
  const flows = replyFlows(options.flows, reply);
  const screen: VoiceScreen = !reply.view
    ? { prompts: [{ say: reply.text, lang: flows.languages[0]! }], gather: { kind: reply.end ? 'none' : 'key' } }
    : voiceScreen(flows, reply.view, options.speaker, { adviser: adviserNow(flows, options.now()) });
  screensOfReplies.set(reply, screen);
  return screen;
}

const screensOfReplies = new WeakMap<CallReply, VoiceScreen>();

/** A short text of the voice line (goodbye, the silence notice), said in `lang` from the live content. */
export function sayText(options: VoiceTurnOptions, lang: Lang, key: string): Spoken[] {
  const flows = options.flows.live();
  const view = { flowHash: flows.hash, node: '', kind: 'end' as const, lang, notice: [], body: { key, text: flows.texts(lang, key) }, options: [], nav: false, end: true };
  return [...voiceScreen(flows, view, options.speaker).prompts];
}

/**
 * The CallTurn of one voice request.
 *
 * @example
 * const { turn } = voiceTurn(options, { channel: 'simulator-voice', gatewaySessionId, phone, answer: { kind: 'keys', keys: '1' } });
 * const reply = await runtime.handle(turn);
 */
export function voiceTurn(options: VoiceTurnOptions, request: VoiceTurnRequest): VoiceTurn {
  const languages = voiceLanguages(options.flows.live(), options.speaker);
  const { answer } = request;
  let adviser = false;
  const turn: CallTurn = {
    channel: request.channel,
    gatewaySessionId: request.gatewaySessionId,
    phone: request.phone,
    serviceCode: 'voice',
    networkCode: null,
    marker: '',
    wantsView: true,
    languages,
    ...(request.address ? { address: request.address } : {}),
    // The keys the channel answers itself (repeat a screen, an adviser) are kept with the position.
    markAfter: (reply) => (!reply.view || reply.end ? '' : screenMarks(replyScreen(options, reply))),
    resolve(previous) {
      if (previous === undefined) return request.unknown === 'mismatch' ? { kind: 'mismatch' } : { kind: 'new', inputs: [] };
      // Silence, or the key that says the screen again: the last answer, once more.
      if (answer.kind === 'silence') return { kind: 'replay' };
      if (answer.kind === 'recording') return { kind: 'recording', url: answer.url };
      const meaning = readKeys(previous, answer.keys);
      if (meaning.kind === 'engine') return { kind: 'step', input: meaning.input };
      adviser = meaning.kind === 'adviser';
      return { kind: 'replay' };
    },
  };
  return { turn, languages, adviserAsked: () => adviser };
}
