/**
 * The simulator's voice mode (`POST /simulator/voice`): a call to the voice
 * line from a test number, turn by turn, through the real runtime and the
 * same turn and prompts as Africa's Talking's voice handler
 * (channels/voice/voice-turn.ts). The page plays the recordings and speaks
 * the words itself; here only the JSON of each screen is made.
 *
 * Marked as the USSD simulator's calls are (simulator-phone.ts): recorded
 * under the channel `simulator-voice`, reports and call-back requests marked
 * simulated, SMS closed as `dry_run` in the turn's own transaction (none ever
 * leaves), a number that called the real service refused, and a NINA never
 * looked up. « Parler » records nothing: the answer is a placeholder address.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import type { Lang } from '../../engine/types.js';
import { VOICE_TEXTS } from '../../flows/channel-texts.js';
import { toE164 } from '../../channels/phone-number.js';
import type { Gather, Spoken } from '../../channels/voice/voice-prompts.js';
import { replyScreen, sayText, voiceTurn, type VoiceAnswer } from '../../channels/voice/voice-turn.js';
import { pseudonymizePhone } from '../../privacy/phone.js';
import { createCallRuntime } from '../../runtime/call-runtime.js';
import type { Lookup } from '../../runtime/lookups.js';
import { insertCallback, type NewCallback } from '../../store/callback-store.js';
import { recordTurn, type TurnRecord } from '../../store/call-log-store.js';
import type { Db } from '../../store/database.js';
import { createSessionStore } from '../../store/session-store.js';
import { t } from './console-i18n.js';
import { closeAsSimulated, SIMULATOR_CHANNEL, turnEffectsInWords } from './simulator-phone.js';
import { withoutNina } from './simulator.js';

/** The channel the simulator's voice calls are recorded under. */
export const SIMULATOR_VOICE_CHANNEL = 'simulator-voice';
/** Where « Parler » says the caller's words are: an address that is nobody's (RFC 2606). */
export const simulatedRecording = (n: number) => `https://simulateur.invalid/enregistrement-${n}.mp3`;

const voiceBody = z
  .object({
    phone: z.string().max(32),
    /** the call's id, from the first answer; absent to call */
    call: z.string().uuid().optional(),
    /** keys pressed; a `#` ending digits is dropped, as the gateway's finishOnKey is */
    keys: z.string().regex(/^[0-9*#]{1,65}$/).optional(),
    /** « Parler »: the caller answered with a recording */
    speak: z.literal(true).optional(),
    /** « Silence »: how many screens in a row heard nothing, this one included (the second says goodbye) */
    silence: z.number().int().min(1).max(2).optional(),
    /** « Raccrocher »: the caller hung up */
    hangup: z.literal(true).optional(),
  })
  .strict()
  .refine((b) => (b.call === undefined ? b.keys === undefined && !b.speak && !b.silence && !b.hangup : [b.keys !== undefined, Boolean(b.speak), Boolean(b.silence), Boolean(b.hangup)].filter(Boolean).length === 1));

/** A prompt as the page plays it: recordings one after another, or words for the browser's voice. */
export type SimulatedPrompt = { recordings: string[]; words: string } | { words: string; lang: Lang };

export interface SimulatorVoiceDeps {
  ctx: Pick<AppContext, 'db' | 'redis' | 'redisPrefix' | 'flows' | 'secrets' | 'logger' | 'config'>;
  lookup: Lookup;
}

export function createSimulatorVoice({ ctx, lookup }: SimulatorVoiceDeps): { turn: RequestHandler } {
  const sessions = createSessionStore(ctx.redis, { prefix: `${ctx.redisPrefix}simvoice:`, ttlSeconds: ctx.config.sessionTtlSeconds });
  /** What each call's last turn did, taken by the request that ran it. */
  const lastTurn = new Map<string, { record: TurnRecord; callbacks: { added: boolean }[] }>();
  const keep = (turn: TurnRecord, callbacks: { added: boolean }[]) => {
    if (lastTurn.size > 1000) lastTurn.clear();
    lastTurn.set(turn.call.gatewaySessionId, { record: turn, callbacks });
  };
  /** One turn written as the USSD simulator's are: marked, its SMS closed as sent nowhere, in one transaction. */
  const write = (turn: TurnRecord, callbacks: NewCallback[]) =>
    ctx.db.transaction().execute(async (trx) => {
      const ids = await recordTurn(trx as unknown as Db, { ...turn, reports: turn.reports.map((r) => ({ ...r, simulated: true })) });
      await closeAsSimulated(trx, ctx.flows, ids);
      const added: { added: boolean }[] = [];
      for (const c of callbacks) added.push({ added: await insertCallback(trx as unknown as Db, { ...c, simulated: true }) });
      keep(turn, added);
      return ids;
    });
  const runtime = createCallRuntime({
    flows: ctx.flows,
    sessions,
    db: ctx.db,
    secrets: ctx.secrets,
    logger: ctx.logger,
    defaultLanguage: ctx.flows.live().languages[0]!,
    lookup: withoutNina(lookup),
    simulated: true,
    writeTurn: (turn) => write(turn, []),
    writeTurnWithCallbacks: write,
  });
  const speaker = { tts: new Set(ctx.config.voiceTts) };
  const turnOptions = { flows: ctx.flows, speaker, now: () => new Date() };
  let recordings = 0;

  const prompts = (said: readonly Spoken[]): SimulatedPrompt[] => said.map((s) => ('say' in s ? { words: s.say, lang: s.lang } : { recordings: s.play.map((id) => `/voice/media/${id}.mp3`), words: s.words }));
  /** Whether this number was ever seen outside the simulator: then it is someone's, and the simulator leaves it alone. */
  const usedForReal = async (phoneHash: string) => {
    const [call, text] = await Promise.all([
      ctx.db.selectFrom('calls').select('id').where('phone_hash', '=', phoneHash).where('channel', 'not in', [SIMULATOR_CHANNEL, SIMULATOR_VOICE_CHANNEL]).limit(1).executeTakeFirst(),
      ctx.db.selectFrom('sms_inbound').select('id').where('phone_hash', '=', phoneHash).where('gateway_id', 'not like', 'simulateur-%').limit(1).executeTakeFirst(),
    ]);
    return Boolean(call ?? text);
  };

  const turn: RequestHandler = async (req, res) => {
    const parsed = voiceBody.safeParse(req.body);
    if (!parsed.success) return void res.status(400).json({ error: t('requête du simulateur invalide') });
    const body = parsed.data;
    const phone = toE164(body.phone, ctx.config.defaultCountry);
    if (!phone) return void res.status(400).json({ error: t("ce numéro n'est pas un numéro de téléphone valable (pays par défaut : {{country}})", { country: ctx.config.defaultCountry }) });
    if (await usedForReal(pseudonymizePhone(ctx.secrets.phoneHashKey, phone))) {
      return void res.status(409).json({ error: t('ce numéro a déjà appelé ou écrit au vrai service : choisissez un numéro de test') });
    }
    const callId = body.call ?? randomUUID();
    /** Closes the call as the gateway's final notification does (a call the engine did not finish is abandoned). */
    const close = (status: string) => runtime.end({ channel: SIMULATOR_VOICE_CHANNEL, gatewaySessionId: callId, status, durationMs: null, hops: null, cost: null, error: null }).catch(() => false);
    if (body.hangup) {
      await close('simulateur : raccroché');
      return void res.json({ call: callId, prompts: [], gather: { kind: 'none' }, ended: true, effects: [] });
    }
    const keys = body.keys !== undefined && body.keys.length > 1 ? body.keys.replace(/#$/, '') : body.keys;
    const answer: VoiceAnswer = keys !== undefined ? { kind: 'keys', keys } : body.speak ? { kind: 'recording', url: simulatedRecording(++recordings) } : { kind: 'silence' };
    const { turn: callTurn, languages } = voiceTurn(turnOptions, { channel: SIMULATOR_VOICE_CHANNEL, gatewaySessionId: callId, phone, answer, unknown: body.call ? 'mismatch' : 'new' });
    const gather: Gather = { kind: 'none' };
    if (body.silence === 2) {
      // The second silence: goodbye, and the call is over, as on the voice line.
      const lang = languages[0] ?? ctx.flows.live().languages[0]!;
      await close('simulateur : silence');
      return void res.json({ call: callId, prompts: prompts(sayText(turnOptions, lang, VOICE_TEXTS.goodbye)), gather, ended: true, effects: [] });
    }
    const reply = await runtime.handle(callTurn);
    const kept = lastTurn.get(callId);
    lastTurn.delete(callId);
    const screen = replyScreen(turnOptions, reply);
    const again = body.silence === 1 && reply.view ? sayText(turnOptions, reply.view.lang, VOICE_TEXTS.silence) : [];
    const ended = reply.end || screen.gather.kind === 'none';
    if (ended) await close('simulateur : terminé');
    res.json({
      call: callId,
      prompts: prompts([...again, ...screen.prompts]),
      gather: ended ? gather : screen.gather,
      ended,
      effects: kept ? turnEffectsInWords(kept.record, kept.callbacks) : [],
      /** an SMS was queued for this number: the page watches its inbox */
      sms: Boolean(kept?.record.sms.length),
      ...(answer.kind === 'recording' ? { recording: answer.url } : {}),
    });
  };

  return { turn };
}
