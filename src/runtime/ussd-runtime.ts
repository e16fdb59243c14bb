/**
 * The shell around the pure engine: load the session, step it, record the turn
 * and its effects in PostgreSQL, save the session, answer. Channels call it
 * with a gateway-neutral turn; every gateway quirk stays in `channels/`.
 */
import { randomUUID } from 'node:crypto';
import { start, step } from '../engine/step.js';
import type { CompiledFlows, Effect, Lang, Screen, StepResult } from '../engine/types.js';
import type { FlowRegistry } from '../flows/flow-registry.js';
import { encryptText, pseudonymizePhone } from '../privacy/phone.js';
import type { Secrets } from '../privacy/secrets.js';
import { recordTurn, rememberedLanguage, type OutboxRow, type ReportRow, type StepRow } from '../store/call-log-store.js';
import type { Db } from '../store/database.js';
import type { SessionStore, StoredCall } from '../store/session-store.js';
import type { Logger } from '../logger.js';
import { mintReference } from './reference.js';

/** What the caller typed this turn, as the channel reads it against the stored position. */
export type TurnInputs =
  /** a new call; inputs typed in the dial string (`*384*123*1#`) follow */
  | { kind: 'new'; inputs: string[] }
  | { kind: 'step'; input: string }
  /** the gateway repeated a request already answered */
  | { kind: 'replay' }
  /** the request does not follow from the stored position */
  | { kind: 'mismatch' };

export interface UssdTurn {
  channel: string;
  gatewaySessionId: string;
  /** E.164, already normalized by the channel */
  phone: string;
  serviceCode: string;
  networkCode: string | null;
  /** the gateway's position after this turn, stored for the next one */
  marker: string;
  /** reads this turn's input from the position stored after the previous turn */
  resolve(previousMarker: string | undefined): TurnInputs;
}

export interface UssdReply {
  text: string;
  end: boolean;
}

export interface UssdRuntimeDeps {
  flows: FlowRegistry;
  sessions: SessionStore;
  db: Db;
  secrets: Secrets;
  logger: Logger;
  defaultLanguage: Lang;
  /** queues SMS once their rows are committed; the outbox relay catches up if this fails */
  enqueueSms?: (ids: readonly string[]) => Promise<void>;
  now?: () => number;
}

export interface UssdRuntime {
  handle(turn: UssdTurn): Promise<UssdReply>;
  /** the localized END a caller gets when something failed */
  apology(lang?: Lang): UssdReply;
}

export function createUssdRuntime(deps: UssdRuntimeDeps): UssdRuntime {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ subsystem: 'ussd' });

  function apology(lang: Lang = deps.defaultLanguage): UssdReply {
    const flows = deps.flows.live();
    return { text: flows.texts(lang, flows.common.unavailable), end: true };
  }

  async function handle(turn: UssdTurn): Promise<UssdReply> {
    const began = performance.now();
    const phoneHash = pseudonymizePhone(deps.secrets.phoneHashKey, turn.phone);
    const stored = await deps.sessions.get(turn.channel, turn.gatewaySessionId);
    if (stored && stored.phoneHash !== phoneHash) {
      log.warn({ channel: turn.channel, session: turn.gatewaySessionId }, 'session id reused by another number');
      return apology(stored.session.lang);
    }
    const inputs = turn.resolve(stored?.marker);
    if (inputs.kind === 'replay' && stored) return stored.lastReply;
    if (stored?.session.ended) return stored.lastReply;
    if (inputs.kind === 'mismatch' || inputs.kind === 'replay') {
      log.info({ channel: turn.channel, session: turn.gatewaySessionId, kind: inputs.kind }, 'request does not follow the session');
      return apology(stored?.session.lang);
    }

    const at = now();
    const steps: { input: string | null; result: StepResult }[] = [];
    let flows: CompiledFlows;
    let callId: string;
    let startedAt: number;
    if (inputs.kind === 'new' || !stored) {
      flows = deps.flows.live();
      const remembered = await rememberedLanguage(deps.db, phoneHash);
      const known = remembered === 'fr' || remembered === 'bm';
      callId = randomUUID();
      startedAt = at;
      let result = start(flows, { id: callId, ref: mintReference(), lang: known ? remembered : deps.defaultLanguage, languageKnown: known }, at);
      steps.push({ input: null, result });
      for (const input of inputs.kind === 'new' ? inputs.inputs : [inputs.input]) {
        if (result.session.ended) break;
        result = step(flows, result.session, input, at);
        steps.push({ input, result });
      }
    } else {
      const pinned = deps.flows.get(stored.session.flowHash);
      if (!pinned) {
        log.warn({ session: turn.gatewaySessionId }, 'flow version of the session is gone');
        return apology(stored.session.lang);
      }
      flows = pinned;
      callId = stored.callId;
      startedAt = stored.session.startedAt;
      steps.push({ input: inputs.input, result: step(flows, stored.session, inputs.input, at) });
    }

    const last = steps[steps.length - 1]!.result;
    const session = last.session;
    const reply: UssdReply = { text: last.screen.text, end: last.screen.end };
    const firstSeq = stored?.seq ?? 0;
    const latencyMs = performance.now() - began;
    const stepRows: StepRow[] = steps.map((s, i) => ({
      seq: firstSeq + i + 1,
      node: s.result.session.node,
      input: s.input,
      ...screenColumns(s.result.screen),
      latencyMs,
      at: new Date(at),
    }));
    const effects = steps.flatMap((s) => s.result.effects);
    const { reports, sms, language } = effectRecords(effects, turn.phone, phoneHash, deps.secrets);

    const smsIds = await recordTurn(deps.db, {
      call: {
        id: callId,
        channel: turn.channel,
        gatewaySessionId: turn.gatewaySessionId,
        phoneHash,
        serviceCode: turn.serviceCode,
        networkCode: turn.networkCode,
        language: session.lang,
        flowHash: flows.hash,
        startedAt: new Date(startedAt),
        updatedAt: new Date(at),
        endedAt: session.ended ? new Date(at) : null,
        outcome: session.outcome ?? null,
        lastNode: session.node,
        steps: firstSeq + steps.length,
      },
      steps: stepRows,
      reports,
      sms,
      ...(language ? { language: { phoneHash, language } } : {}),
    });

    const next: StoredCall = {
      v: 1,
      callId,
      channel: turn.channel,
      gatewaySessionId: turn.gatewaySessionId,
      phoneHash,
      serviceCode: turn.serviceCode,
      networkCode: turn.networkCode,
      session,
      marker: turn.marker,
      lastReply: reply,
      seq: firstSeq + steps.length,
    };
    await deps.sessions.save(next);
    for (const r of reports) log.info({ call: callId, ref: r.ref }, 'fraud report filed');
    if (smsIds.length && deps.enqueueSms) {
      // Not awaited: the caller's reply never waits on the queue.
      deps.enqueueSms(smsIds).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'SMS left for the outbox relay'));
    }
    return reply;
  }

  return { handle, apology };
}

function screenColumns(screen: Screen): Pick<StepRow, 'screen' | 'screenLength' | 'encoding' | 'ended'> {
  return { screen: screen.text, screenLength: screen.length, encoding: screen.encoding, ended: screen.end };
}

/** Turns the engine's effects into the rows they ask for. */
function effectRecords(effects: readonly Effect[], phone: string, phoneHash: string, secrets: Secrets) {
  const reports: ReportRow[] = [];
  const sms: OutboxRow[] = [];
  let language: Lang | undefined;
  let phoneEnc: string | undefined;
  const sealed = () => (phoneEnc ??= encryptText(secrets.dataEncryptionKey, phone));
  for (const effect of effects) {
    switch (effect.type) {
      case 'set_language':
        language = effect.lang;
        break;
      case 'save_report':
        reports.push({ ref: effect.ref, phoneHash, phoneEnc: sealed(), language: effect.lang, fields: effect.fields });
        break;
      case 'send_sms':
        sms.push({
          dedupeKey: `${effect.ref}:${effect.template}`,
          ref: effect.ref,
          phoneHash,
          phoneEnc: sealed(),
          language: effect.lang,
          template: effect.template,
          vars: effect.vars,
        });
        break;
    }
  }
  return { reports, sms, language };
}
