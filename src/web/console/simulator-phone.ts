/**
 * The simulator as a phone: a number that calls the hotline through the real
 * runtime (recorded under the channel `simulator`), receives its SMS in an
 * inbox, and texts the hotline through the real inbound-SMS handling.
 *
 * No simulator SMS ever reaches a gateway, whatever transport is configured:
 * every outbox row the simulator causes is closed as `dry_run` (transport
 * `simulator`, its text rendered as the worker would) in the same database
 * transaction that creates it. A committed simulator row is therefore never
 * `pending`, `queued` or `retrying`, so neither the outbox relay nor a worker
 * can claim it (see claimSms); and nothing here enqueues a job.
 *
 * Nor does the simulator act for real people: a number that has called or
 * texted the real service is refused (a STOP typed here would otherwise opt a
 * citizen out), and a NINA number is never looked up, by USSD or by SMS
 * (anyone allowed here could otherwise find where any voter is registered).
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import type { Lang } from '../../engine/types.js';
import type { FlowRegistry } from '../../flows/flow-registry.js';
import { measure } from '../../i18n/gsm.js';
import { languageCode } from '../../i18n/languages.js';
import { toE164 } from '../../channels/phone-number.js';
import { pseudonymizePhone } from '../../privacy/phone.js';
import { createCallRuntime, type CallRuntime } from '../../runtime/call-runtime.js';
import { createInboundSms, type InboundResult, type InboundSms } from '../../sms/inbound-sms.js';
import { renderSms } from '../../sms/sms-text.js';
import { callStartFacts, recordTurn, type TurnRecord } from '../../store/call-log-store.js';
import type { Db } from '../../store/database.js';
import { createSessionStore } from '../../store/session-store.js';
import { addSmsEvent } from '../../store/sms-store.js';
import type { Lookup } from '../../runtime/lookups.js';
import { insertCallback, type NewCallback } from '../../store/callback-store.js';
import { findNinaLike } from '../../sms/nina-in-text.js';
import { t } from './console-i18n.js';
import { fmtSeconds } from './page.js';
import { contactInWords, languageInWords, withoutNina } from './simulator.js';

/** The channel simulated calls are recorded under. */
export const SIMULATOR_CHANNEL = 'simulator';
/** The transport recorded on every SMS the simulator caused: none left the machine. */
export const SIMULATOR_TRANSPORT = 'simulator';
/** The number the page calls from by default: a test number, nobody's phone. */
export const DEFAULT_SIMULATOR_PHONE = '+22370000001';
/** Prefix of the gateway ids of messages typed in the simulator. */
const INBOUND_ID_PREFIX = 'simulateur-';

type Executor = Pick<Db, 'selectFrom' | 'updateTable' | 'insertInto'>;

/**
 * Closes outbox rows as sent nowhere: the text the worker would send, status
 * `dry_run`, transport `simulator`. Meant to run in the transaction that
 * inserted them.
 */
export async function closeAsSimulated(db: Executor, flows: FlowRegistry, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    const row = await db.selectFrom('sms_outbox').select(['language', 'template', 'vars']).where('id', '=', id).executeTakeFirst();
    if (!row) continue;
    let patch: { status: 'dry_run' | 'failed'; text?: string; segments?: number; encoding?: string; failure_reason?: string };
    try {
      const live = flows.live();
      const lang: Lang = live.languages.includes(row.language) ? row.language : live.languages[0]!;
      const vars = (typeof row.vars === 'string' ? JSON.parse(row.vars) : row.vars) as Record<string, string>;
      const rendered = renderSms(live, lang, row.template, vars ?? {});
      patch = { status: 'dry_run', text: rendered.text, segments: rendered.segments, encoding: rendered.encoding };
    } catch (err) {
      patch = { status: 'failed', failure_reason: `cannot be prepared: ${(err as Error).message}` };
    }
    await db
      .updateTable('sms_outbox')
      .set({ ...patch, transport: SIMULATOR_TRANSPORT, updated_at: new Date(), ...(patch.status === 'dry_run' ? { sent_at: new Date() } : {}) })
      .where('id', '=', id)
      .execute();
    await addSmsEvent(db, id, patch.status, 'simulateur : jamais envoyé');
  }
}

/** `20:10:32` in the console's time zone (the page footer names it). */
const timeOf = (d: Date | string) => fmtSeconds(d).split(' ')[1] ?? '';

/** What a turn did, in words (the page shows these instead of JSON), in the reader's language. */
export function turnEffectsInWords(record: TurnRecord, callbacks: readonly { added: boolean }[] = []): string[] {
  const words: string[] = [];
  if (record.language) words.push(languageInWords(record.language.language));
  for (const r of record.reports) words.push(t('Signalement {{ref}} enregistré ({{how}})', { ref: r.ref, how: contactInWords(r.contact) }));
  for (const m of record.sms) words.push(t('SMS discret mis en file ({{ref}}) : simulé, il ne part jamais', { ref: m.ref }));
  for (const c of callbacks) {
    words.push(c.added ? t('Demande de rappel mise dans la file des rappels (marquée essai du simulateur)') : t('Demande de rappel non ajoutée : une autre attend déjà pour ce numéro'));
  }
  return words;
}

const callBody = z.object({
  phone: z.string().max(32),
  /** a language of the live flows (checked against them) */
  lang: languageCode,
  /** the call's id, from the first answer; absent to dial */
  call: z.string().uuid().optional(),
  /** inputs sent on this call so far, this one included */
  seq: z.number().int().min(0).max(500).default(0),
  input: z.string().max(200).optional(),
});

const smsBody = z.object({ phone: z.string().max(32), text: z.string().trim().min(1).max(160) });

export interface SimulatorPhoneDeps {
  ctx: Pick<AppContext, 'db' | 'redis' | 'redisPrefix' | 'flows' | 'secrets' | 'keywords' | 'logger' | 'config'>;
  lookup: Lookup;
}

export function createSimulatorPhone({ ctx, lookup: realLookup }: SimulatorPhoneDeps) {
  const lookup = withoutNina(realLookup);
  const log = ctx.logger.child({ subsystem: 'simulator' });
  const sessions = createSessionStore(ctx.redis, { prefix: `${ctx.redisPrefix}sim:`, ttlSeconds: ctx.config.sessionTtlSeconds });
  /** What each call's last turn did, taken by the request that ran it. */
  const lastTurn = new Map<string, TurnRecord>();
  /** The call-back requests of each call's last turn, and whether each was added. */
  const lastCallbacks = new Map<string, { added: boolean }[]>();

  // One runtime per language, made when first used: the page's language is the caller's, as if chosen on an earlier call.
  const runtimes = new Map<Lang, CallRuntime>();
  const runtimeFor = (lang: Lang): CallRuntime => {
    const made = runtimes.get(lang);
    if (made) return made;
    const runtime = createCallRuntime({
        flows: ctx.flows,
        sessions,
        db: ctx.db,
        secrets: ctx.secrets,
        logger: ctx.logger,
        defaultLanguage: lang,
        lookup,
        // No spool (it would write later, outside this transaction) and no enqueueSms: see the top of the file.
        writeTurn: (turn) =>
          ctx.db.transaction().execute(async (trx) => {
            // Its reports are marked: triage and counts leave them out.
            const ids = await recordTurn(trx as unknown as Db, { ...turn, reports: turn.reports.map((r) => ({ ...r, simulated: true })) });
            await closeAsSimulated(trx, ctx.flows, ids);
            // A turn finished after its deadline is never taken: keep the map small.
            if (lastTurn.size > 1000) lastTurn.clear();
            lastTurn.set(turn.call.gatewaySessionId, turn);
            return ids;
          }),
        // Its call-back requests are marked too (left out of the queue unless asked), in the turn's transaction.
        simulated: true,
        writeTurnWithCallbacks: (turn: TurnRecord, callbacks: NewCallback[]) =>
          ctx.db.transaction().execute(async (trx) => {
            const ids = await recordTurn(trx as unknown as Db, { ...turn, reports: turn.reports.map((r) => ({ ...r, simulated: true })) });
            await closeAsSimulated(trx, ctx.flows, ids);
            const added: { added: boolean }[] = [];
            for (const c of callbacks) added.push({ added: await insertCallback(trx as unknown as Db, { ...c, simulated: true }) });
            if (lastTurn.size > 1000) lastTurn.clear();
            if (lastCallbacks.size > 1000) lastCallbacks.clear();
            lastTurn.set(turn.call.gatewaySessionId, turn);
            lastCallbacks.set(turn.call.gatewaySessionId, added);
            return ids;
          }),
        callStartFacts: async (key) => ({ ...(await callStartFacts(ctx.db, [key]))[0]!, remembered: lang }),
      });
    runtimes.set(lang, runtime);
    return runtime;
  };

  // The real inbound handling, on a database whose transactions close the reply as simulated before they commit.
  const closingDb = new Proxy(ctx.db, {
    get(target, prop) {
      if (prop === 'transaction') {
        return () => ({
          execute: <T>(fn: (trx: Db) => Promise<T>) =>
            target.transaction().execute(async (trx) => {
              const result = await fn(trx as unknown as Db);
              const replyId = (result as InboundResult & { replyId?: string }).replyId;
              if (replyId) await closeAsSimulated(trx, ctx.flows, [replyId]);
              return result;
            }),
        });
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const inbound: (m: InboundSms) => Promise<InboundResult> = createInboundSms({ db: closingDb, flows: ctx.flows, secrets: ctx.secrets, keywords: ctx.keywords, logger: ctx.logger });

  const phoneOf = (raw: string) => toE164(raw, ctx.config.defaultCountry);
  /** Whether this number was ever seen outside the simulator: then it is someone's, and the simulator leaves it alone. */
  const usedForReal = async (phoneHash: string) => {
    const [call, text] = await Promise.all([
      // The simulator's own calls, USSD or voice, do not make a number real.
      ctx.db.selectFrom('calls').select('id').where('phone_hash', '=', phoneHash).where('channel', 'not in', [SIMULATOR_CHANNEL, `${SIMULATOR_CHANNEL}-voice`]).limit(1).executeTakeFirst(),
      ctx.db.selectFrom('sms_inbound').select('id').where('phone_hash', '=', phoneHash).where('gateway_id', 'not like', `${INBOUND_ID_PREFIX}%`).limit(1).executeTakeFirst(),
    ]);
    return Boolean(call ?? text);
  };
  /** The number in E.164 and its pseudonym, or the answer already sent. */
  const testNumber = async (raw: string, res: Parameters<RequestHandler>[1]) => {
    const phone = phoneOf(raw);
    if (!phone) {
      res.status(400).json({ error: t("ce numéro n'est pas un numéro de téléphone valable (pays par défaut : {{country}})", { country: ctx.config.defaultCountry }) });
      return undefined;
    }
    const phoneHash = pseudonymizePhone(ctx.secrets.phoneHashKey, phone);
    if (await usedForReal(phoneHash)) {
      res.status(409).json({ error: t('ce numéro a déjà appelé ou écrit au vrai service : choisissez un numéro de test') });
      return undefined;
    }
    return { phone, phoneHash };
  };

  const call: RequestHandler = async (req, res) => {
    const parsed = callBody.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: t('requête du simulateur invalide') });
      return;
    }
    const { lang, seq, input } = parsed.data;
    if (!ctx.flows.live().languages.includes(lang)) {
      res.status(400).json({ error: t('requête du simulateur invalide') });
      return;
    }
    const number = await testNumber(parsed.data.phone, res);
    if (!number) return;
    const { phone } = number;
    const callId = parsed.data.call ?? randomUUID();
    const dialing = !parsed.data.call;
    const reply = await runtimeFor(lang).handle({
      channel: SIMULATOR_CHANNEL,
      gatewaySessionId: callId,
      phone,
      serviceCode: ctx.config.serviceCodes[0] ?? '*000#',
      networkCode: null,
      marker: String(dialing ? 0 : seq),
      resolve: (previous) => {
        if (dialing) return previous === undefined ? { kind: 'new', inputs: [] } : { kind: 'mismatch' };
        if (previous === String(seq)) return { kind: 'replay' };
        return previous === String(seq - 1) && input !== undefined ? { kind: 'step', input } : { kind: 'mismatch' };
      },
    });
    const record = lastTurn.get(callId);
    const callbacks = lastCallbacks.get(callId) ?? [];
    lastTurn.delete(callId);
    lastCallbacks.delete(callId);
    const m = measure(reply.text);
    res.json({
      call: callId,
      seq: dialing ? 0 : seq,
      screen: { text: reply.text, end: reply.end, length: m.length, encoding: m.encoding },
      node: record?.call.lastNode ?? '',
      effects: record ? turnEffectsInWords(record, callbacks) : [],
    });
  };

  /** The phone's inbox: what the simulator sent and received for this number, oldest first. */
  const inbox: RequestHandler = async (req, res) => {
    const number = await testNumber(String(req.query.phone ?? ''), res);
    if (!number) return;
    const { phoneHash } = number;
    const [received, sent] = await Promise.all([
      ctx.db
        .selectFrom('sms_outbox')
        .select(['id', 'text', 'status', 'created_at'])
        .where('phone_hash', '=', phoneHash)
        .where('transport', '=', SIMULATOR_TRANSPORT)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(30)
        .execute(),
      ctx.db
        .selectFrom('sms_inbound')
        .select(['id', 'text', 'received_at'])
        .where('phone_hash', '=', phoneHash)
        .where('gateway_id', 'like', `${INBOUND_ID_PREFIX}%`)
        .orderBy('received_at', 'desc')
        .orderBy('id', 'desc')
        .limit(30)
        .execute(),
    ]);
    const messages = [
      ...received.map((r) => ({ id: `r${r.id}`, direction: 'in' as const, text: r.text ?? t('(texte indisponible)'), at: new Date(r.created_at).toISOString(), time: timeOf(r.created_at) })),
      ...sent.map((s) => ({ id: `s${s.id}`, direction: 'out' as const, text: s.text, at: new Date(s.received_at).toISOString(), time: timeOf(s.received_at) })),
    ].sort((a, b) => a.at.localeCompare(b.at));
    res.json({ messages });
  };

  /** A text from the phone, handled as the gateway's callback hands it over. */
  const sms: RequestHandler = async (req, res) => {
    const parsed = smsBody.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: t('message vide ou trop long (160 caractères au plus)') });
      return;
    }
    if (findNinaLike(parsed.data.text)) {
      res.status(400).json({ error: t("un numéro NINA n'est jamais cherché dans le simulateur : envoyez BUREAU seul pour voir la réponse d'aide") });
      return;
    }
    const number = await testNumber(parsed.data.phone, res);
    if (!number) return;
    const { phone } = number;
    try {
      const result = await inbound({ gatewayId: `${INBOUND_ID_PREFIX}${randomUUID()}`, phone, to: null, text: parsed.data.text, receivedAt: new Date(), linkId: null });
      res.json({ replied: !result.duplicate && Boolean(result.replyId) });
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'simulated SMS failed');
      res.status(500).json({ error: t("le message n'a pas pu être traité") });
    }
  };

  return { call, inbox, sms };
}
