/**
 * The shell around the pure engine, for every kind of call (USSD today, the
 * voice line next): load the session, step it, record the turn
 * and its effects in PostgreSQL, save the session, answer. Channels call it
 * with a gateway-neutral turn; every gateway quirk stays in `channels/`.
 */
import { randomUUID } from 'node:crypto';
import { answerRecording, isPrivateCall, start, step } from '../engine/step.js';
import { screenView, type ScreenView } from '../engine/render.js';
import type { CompiledFlows, Effect, Lang, ResumePoint, Screen, Session, StepResult } from '../engine/types.js';
import type { FlowRegistry } from '../flows/flow-registry.js';
import { encryptText, maskPhone, pseudonymOfCaller } from '../privacy/phone.js';
import type { Secrets } from '../privacy/secrets.js';
import { callStartFacts, recordCallEnd, recordTurn, ReferenceTakenError, type CallStartFacts, type CallStartKey, type OutboxRow, type ReportRow, type StepRow, type TurnRecord } from '../store/call-log-store.js';
import type { TurnSpool } from '../store/turn-spool.js';
import type { Db } from '../store/database.js';
import { hasOpenCallback, insertCallback, type NewCallback } from '../store/callback-store.js';
import { RateLimitedError, SessionBusyError, type ResumeRecord, type ResumeUpdate, type SessionStore, type StoredCall } from '../store/session-store.js';
import type { Logger } from '../logger.js';
import { settle, type Lookup } from './lookups.js';
import { mintReference } from './reference.js';
import { PRIVATE_INPUT } from '../privacy/private-input.js';
import { applyTextForm, withTextForm, type TextForm } from '../i18n/text-form.js';

/** One answer of a turn: what was typed, or a recording's URL. */
type Answer = string | { recording: string };

/** Inputs a first request may carry in its dial string; more are ignored (the call starts at the home screen). */
export const MAX_DIAL_INPUTS = 8;

/** What the caller typed this turn, as the channel reads it against the stored position. */
export type TurnInputs =
  /** a new call; inputs typed in the dial string (`*384*123*1#`) follow */
  | { kind: 'new'; inputs: string[] }
  | { kind: 'step'; input: string }
  /** the caller answered with a recording (the voice line's free text): its URL */
  | { kind: 'recording'; url: string }
  /** the gateway repeated a request already answered */
  | { kind: 'replay' }
  /** the request does not follow from the stored position */
  | { kind: 'mismatch' };

export interface CallTurn {
  channel: string;
  gatewaySessionId: string;
  /** E.164, already normalized by the channel */
  phone: string;
  serviceCode: string;
  networkCode: string | null;
  /** the gateway's position after this turn, stored for the next one */
  marker: string;
  /** the address the request came from, for the per-address limit */
  address?: string;
  /** this request opens a call (AT: empty text; Hubtel: Initiation): when the process is overloaded, these are turned away first */
  opening?: boolean;
  /** the form this gateway shows text in (default: as written) */
  textForm?: TextForm;
  /**
   * the languages this channel can serve now (the voice line: those with a
   * voice); a remembered language outside them is asked again. Default: all.
   */
  languages?: readonly Lang[];
  /** the reply carries the screen as data (`view`): the voice line speaks it */
  wantsView?: boolean;
  /** the position to store after this turn, from its reply (default `marker`): the voice line keeps the key that repeats the screen */
  markAfter?: (reply: CallReply) => string;
  /** reads this turn's input from the position stored after the previous turn */
  resolve(previousMarker: string | undefined): TurnInputs;
}

export interface CallReply {
  text: string;
  end: boolean;
  /** on a screen that waits: whether the caller answers with a number from it (`choice`) or free text (an input node) */
  expects?: 'choice' | 'text';
  /** the same screen as data, for a channel that does not show text (the voice line speaks it) */
  view?: ScreenView;
}

export interface CallRuntimeDeps {
  flows: FlowRegistry;
  sessions: SessionStore;
  db: Db;
  secrets: Secrets;
  logger: Logger;
  defaultLanguage: Lang;
  /** keeps turns when the database is down; written later by its drainer */
  spool?: TurnSpool;
  /** writes a turn's records once committed, with the ids of the SMS it queued (default: its own transaction; context.ts batches) */
  writeTurn?: (turn: TurnRecord) => Promise<string[]>;
  /** answers the engine's lookups (polling stations); without it a lookup ends the call with the apology */
  lookup?: Lookup;
  /** what a new call needs from the database (default: its own query; context.ts batches) */
  callStartFacts?: (key: CallStartKey) => Promise<CallStartFacts>;
  /** mints report references (tests make it collide) */
  mintReference?: () => string;
  /** the caller gets an apology after this long, whatever is still running (default 5 s) */
  deadlineMs?: number;
  /**
   * Load shedding: turns this process serves at once. Above half of it a
   * call's first request gets the apology at once (the caller dials again
   * later); above all of it any turn does (a call in progress can be
   * continued within the resume window). Answering fast beats answering
   * everyone late: a gateway gives up after a few seconds, and the caller
   * then sees nothing. 0: no limit (the default here; the web process takes
   * MAX_TURNS_IN_FLIGHT). The count, not the turns' speed: in the bench's
   * surge the time is lost before a turn starts (connections waiting), and
   * a slow turn (a database that hangs) is no reason to turn callers away.
   */
  maxInFlight?: number;
  /** told of each turn turned away by the shedding above */
  onShed?: (kind: 'opening' | 'continuing') => void;
  /** queues SMS once their rows are committed; the outbox relay catches up if this fails */
  enqueueSms?: (ids: readonly string[]) => Promise<void>;
  /**
   * writes a turn that asks for a call-back, with its requests, in one
   * transaction (default: recordTurn and insertCallback in a transaction on `db`);
   * returns the ids of the SMS the turn queued
   */
  writeTurnWithCallbacks?: (turn: TurnRecord, callbacks: NewCallback[]) => Promise<string[]>;
  /** the console's simulator: its call-back requests are marked, and only its own ones count as waiting */
  simulated?: boolean;
  now?: () => number;
}

/**
 * What a gateway reports when a call is over: its own status, and what it
 * measured (duration, steps, cost, the error it saw), already sanitized.
 */
export interface CallEnd {
  channel: string;
  gatewaySessionId: string;
  status: string;
  durationMs: number | null;
  hops: number | null;
  cost: string | null;
  error: string | null;
}

export interface CallRuntime {
  /** Never throws: a failure is answered with a localized apology. */
  handle(turn: CallTurn): Promise<CallReply>;
  /**
   * Closes the call the gateway says is over, with its outcome (a call the
   * engine did not finish is abandoned). Idempotent; false for a session
   * never recorded. Throws when the database is away: a channel decides
   * whether its gateway should retry.
   */
  end(report: CallEnd): Promise<boolean>;
  /** the localized END a caller gets when something failed, in the gateway's text form */
  apology(lang?: Lang, form?: TextForm): CallReply;
}

export function createCallRuntime(deps: CallRuntimeDeps): CallRuntime {
  const now = deps.now ?? Date.now;
  const mintRef = deps.mintReference ?? mintReference;
  const log = deps.logger.child({ subsystem: 'ussd' });
  const writeTurn = deps.writeTurn ?? ((turn: TurnRecord) => recordTurn(deps.db, turn));
  const startFacts = deps.callStartFacts ?? (async (key: CallStartKey) => (await callStartFacts(deps.db, [key]))[0]!);
  const simulated = deps.simulated === true;
  const writeWithCallbacks =
    deps.writeTurnWithCallbacks ??
    ((turn: TurnRecord, callbacks: NewCallback[]) =>
      deps.db.transaction().execute(async (trx) => {
        // The turn first: the request points at its call. A reference taken rolls both back.
        const ids = await recordTurn(trx, turn);
        for (const c of callbacks) await insertCallback(trx, c);
        return ids;
      }));
  /**
   * The lookups of this caller's turn: whether a call-back request from this
   * number is open is answered here (it needs the pseudonym); the rest goes
   * to the data lookups.
   */
  const lookupFor =
    (phoneHash: string): Lookup =>
    async (request) => {
      if (request.source !== 'callback_open') return deps.lookup ? deps.lookup(request) : { kind: 'failed' };
      return (await hasOpenCallback(deps.db, phoneHash, simulated)) ? { kind: 'found', values: {} } : { kind: 'not_found' };
    };

  const say = (lang: Lang, key: (flows: CompiledFlows) => string, end = true): CallReply => {
    const flows = deps.flows.live();
    const text = flows.texts(lang, key(flows));
    return { text, end, view: { flowHash: flows.hash, node: '', kind: 'end', lang, notice: [], body: { key: key(flows), text }, options: [], nav: false, end } };
  };
  const apology = (lang: Lang = deps.defaultLanguage) => say(lang, (f) => f.common.unavailable);
  const sessionOver = (lang: Lang = deps.defaultLanguage) => say(lang, (f) => f.common.sessionOver);

  /** Runs the turn's engine steps on a session, or from the start of a new call, answering the engine's lookups. */
  async function compute(
    flows: CompiledFlows,
    from: { stored?: StoredCall; startLang?: Lang; languageKnown?: boolean; resume?: ResumePoint },
    inputs: readonly Answer[],
    ref: string,
    callId: string,
    at: number,
    lookup: Lookup,
  ) {
    const steps: { input: string | null; result: StepResult }[] = [];
    const advance = async (session: Session, input: Answer) => {
      const typedAt = flows.nodes.get(session.node);
      const stepped = typeof input === 'string' ? step(flows, session, input, at) : answerRecording(flows, session, input.recording, at);
      const result = await settle(flows, stepped, lookup, at);
      // What is typed on a private input (a NINA number), or once the caller chose to
      // leave no number, is never recorded.
      const hidden = (typedAt?.kind === 'input' && typedAt.private) || isPrivateCall(flows, result.session);
      steps.push({ input: hidden ? PRIVATE_INPUT : typeof input === 'string' ? input : input.recording, result });
      return result;
    };
    let result: StepResult;
    if (from.stored) {
      // A fresh reference replaces the minted one only while nothing was filed under it.
      await advance({ ...from.stored.session, ref }, inputs[0]!);
    } else {
      result = await settle(flows, start(flows, { id: callId, ref, lang: from.startLang!, languageKnown: from.languageKnown!, ...(from.resume ? { resume: from.resume } : {}) }, at), lookup, at);
      steps.push({ input: null, result });
      for (const input of inputs) {
        if (result.session.ended) break;
        result = await advance(result.session, input);
      }
    }
    return steps;
  }

  /**
   * One turn, with the call's lock held and its session loaded. Returns the
   * reply, and the session to save when the turn moved the call on.
   * `known.lang`: the caller's language as soon as it is known, for an apology.
   */
  async function handleLocked(
    turn: CallTurn,
    phoneHash: string,
    began: number,
    known: { lang: Lang },
    stored: StoredCall | undefined,
    resumable: ResumeRecord | undefined,
  ): Promise<{ reply: CallReply; save?: StoredCall }> {
    if (stored) known.lang = stored.session.lang;
    if (stored && stored.phoneHash !== phoneHash) {
      log.warn({ channel: turn.channel, session: turn.gatewaySessionId }, 'session id reused by another number');
      return { reply: sessionOver(stored.session.lang) };
    }
    const inputs = turn.resolve(stored?.marker);
    if (stored && (inputs.kind === 'replay' || stored.session.ended)) return { reply: stored.lastReply };
    if (inputs.kind === 'mismatch' || inputs.kind === 'replay') {
      log.info({ channel: turn.channel, session: turn.gatewaySessionId, kind: inputs.kind }, 'request does not follow the session');
      return { reply: sessionOver(stored?.session.lang) };
    }

    const at = now();
    let flows: CompiledFlows;
    let from: Parameters<typeof compute>[1];
    let callId: string;
    let typed: Answer[];
    if (inputs.kind === 'new') {
      flows = deps.flows.live();
      // With the database down the call still goes on: language unknown, session never seen.
      const facts = await startFacts({ phoneHash, channel: turn.channel, gatewaySessionId: turn.gatewaySessionId }).catch((err: unknown) => {
        log.warn({ err: (err as Error).message }, 'database unavailable at call start');
        return { remembered: undefined, alreadySeen: false };
      });
      // A remembered language the live content no longer has is no language: the caller chooses again.
      const isKnown = facts.remembered !== undefined && flows.languages.includes(facts.remembered) && (!turn.languages || turn.languages.includes(facts.remembered));
      const lang: Lang = isKnown ? facts.remembered! : deps.defaultLanguage;
      known.lang = lang;
      if (facts.alreadySeen) {
        // The call was recorded but its session is gone (expired, or Redis lost it):
        // replaying its text split on `*` could take the wrong path, so it ends here.
        log.info({ channel: turn.channel, session: turn.gatewaySessionId }, 'session lost: the call must dial again');
        return { reply: sessionOver(lang) };
      }
      from = { startLang: lang, languageKnown: isKnown };
      callId = randomUUID();
      // A phone dials a handful of inputs after the code (`*384*123*1*2#`); a
      // longer string is not a caller's, and would write a step row per input.
      typed = inputs.inputs.length <= MAX_DIAL_INPUTS ? inputs.inputs : [];
      if (typed.length < inputs.inputs.length) log.info({ channel: turn.channel, session: turn.gatewaySessionId, inputs: inputs.inputs.length }, 'dial string too long: its inputs are ignored');
      // A dropped call of this caller, on a version still kept: offer to continue it
      // (not when the caller dialled straight into a menu: they chose where to go).
      const pinned = resumable && typed.length === 0 ? deps.flows.get(resumable.flowHash) : undefined;
      if (resumable && pinned) {
        flows = pinned;
        from.resume = resumable.point;
      }
    } else {
      const pinned = deps.flows.get(stored!.session.flowHash) ?? (await deps.flows.resolve(stored!.session.flowHash));
      if (!pinned) {
        log.warn({ session: turn.gatewaySessionId }, 'flow version of the session is gone');
        return { reply: apology(stored!.session.lang) };
      }
      flows = pinned;
      from = { stored: stored! };
      callId = stored!.callId;
      typed = [inputs.kind === 'recording' ? { recording: inputs.url } : inputs.input];
    }

    // The gateway's text form, before the engine lays the screens out (a folded screen holds 182 characters).
    flows = withTextForm(flows, turn.textForm);
    let ref = stored?.session.ref ?? mintRef();
    const lookup = lookupFor(phoneHash);
    for (let attempt = 1; ; attempt++) {
      const steps = await compute(flows, from, typed, ref, callId, at, lookup);
      const last = steps[steps.length - 1]!.result;
      const session = last.session;
      let reply: CallReply = {
        text: last.screen.text,
        end: last.screen.end,
        ...(last.screen.end ? {} : { expects: expectedAnswer(flows, session) }),
        ...(turn.wantsView ? { view: screenView(flows, session) } : {}),
      };
      const firstSeq = stored?.seq ?? 0;
      // Time to compute the answer (session load and engine); the writes below come after.
      const latencyMs = performance.now() - began;
      const stepRows: StepRow[] = steps.map((s, i) => ({
        seq: firstSeq + i + 1,
        node: s.result.session.node,
        input: s.input,
        // A report without a number: what the caller saw (their answers, the reference) is not kept with the call.
        ...(isPrivateCall(flows, s.result.session) ? privateScreenColumns(s.result.screen) : screenColumns(s.result.screen)),
        latencyMs,
        at: new Date(at),
      }));
      const effects = steps.flatMap((s) => s.result.effects);
      const { reports, sms, language, callbacks: requested } = effectRecords(effects, turn.phone, phoneHash, deps.secrets);
      const callbacks = requested.map((c) => ({ ...c, callId, simulated }));
      const record: TurnRecord = {
        call: {
          id: callId,
          channel: turn.channel,
          gatewaySessionId: turn.gatewaySessionId,
          phoneHash,
          phoneMasked: maskPhone(turn.phone),
          serviceCode: turn.serviceCode,
          networkCode: turn.networkCode,
          language: session.lang,
          flowHash: flows.hash,
          startedAt: new Date(stored?.session.startedAt ?? at),
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
      };
      let smsIds: string[] = [];
      try {
        // A call-back request is written with its turn, in one transaction (a rare turn: it skips the group commit).
        smsIds = callbacks.length ? await writeWithCallbacks(record, callbacks) : await writeTurn(record);
      } catch (err) {
        if (err instanceof ReferenceTakenError && attempt < 3) {
          log.warn({ call: callId }, 'report reference already taken: minting another');
          ref = mintRef();
          continue;
        }
        if (err instanceof ReferenceTakenError || !deps.spool) throw err;
        // The database is away: the caller goes on, and the turn waits in Redis.
        log.warn({ err: (err as Error).message, call: callId }, 'database unavailable: turn spooled');
        // The spool keeps turns, not call-back requests: the caller is not told it was recorded,
        // but gets the apology (ask again later); the number is never logged.
        if (callbacks.length) {
          log.error({ call: callId }, 'call-back request not recorded: database unavailable; the caller was told to try again');
          reply = apology(session.lang);
        }
        await deps.spool.push(record);
      }

      const save: StoredCall = {
        v: 1,
        callId,
        channel: turn.channel,
        gatewaySessionId: turn.gatewaySessionId,
        phoneHash,
        serviceCode: turn.serviceCode,
        networkCode: turn.networkCode,
        session,
        marker: turn.markAfter ? turn.markAfter(reply) : turn.marker,
        lastReply: reply,
        seq: firstSeq + steps.length,
      };
      // A report without a number is not tied to the call, not even in the logs.
      for (const r of reports) log.info(r.callLinked ? { call: callId, ref: r.ref } : { ref: r.ref }, 'fraud report filed');
      if (callbacks.length) log.info({ call: callId }, 'call-back requested');
      if (smsIds.length && deps.enqueueSms) {
        // Not awaited: the caller's reply never waits on the queue.
        deps.enqueueSms(smsIds).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'SMS left for the outbox relay'));
      }
      return { reply, save };
    }
  }

  /**
   * Answers one turn, always: within the deadline, and with an apology in the
   * caller's language when anything fails.
   */
  async function handle(turn: CallTurn): Promise<CallReply> {
    const reply = await answer(turn);
    // Once more on the finished screen, for what comes from data (polling-centre names).
    return turn.textForm && turn.textForm !== 'as_written' ? { ...reply, text: applyTextForm(reply.text, turn.textForm) } : reply;
  }

  const maxInFlight = deps.maxInFlight ?? 0;
  let inFlight = 0;
  const shed = { opening: 0, continuing: 0, loggedAt: -Infinity };
  /** Whether this turn is turned away; logged at most every 10 s, with the counts since. */
  function overloaded(turn: CallTurn): boolean {
    if (maxInFlight <= 0 || inFlight < (turn.opening ? maxInFlight / 2 : maxInFlight)) return false;
    const kind = turn.opening ? 'opening' : 'continuing';
    shed[kind] += 1;
    deps.onShed?.(kind);
    const at = performance.now();
    if (at - shed.loggedAt >= 10_000) {
      log.warn({ opening: shed.opening, continuing: shed.continuing, inFlight, maxInFlight }, 'overloaded: turns answered with the apology');
      shed.opening = shed.continuing = 0;
      shed.loggedAt = at;
    }
    return true;
  }

  async function answer(turn: CallTurn): Promise<CallReply> {
    if (overloaded(turn)) return apology();
    inFlight += 1;
    try {
      return await answerAdmitted(turn);
    } finally {
      inFlight -= 1;
    }
  }

  async function answerAdmitted(turn: CallTurn): Promise<CallReply> {
    const began = performance.now();
    const known = { lang: deps.defaultLanguage };
    // Two steps of one call never interleave; a concurrent replay waits, then gets the stored reply.
    const work = (async () => {
      const phoneHash = pseudonymOfCaller(deps.secrets.phoneHashKey, turn.phone);
      const lock = await deps.sessions.lockAndLoad(turn.channel, turn.gatewaySessionId, phoneHash, turn.address);
      let released = false;
      try {
        const out = await handleLocked(turn, phoneHash, began, known, lock.stored, lock.resumable);
        if (out.save) {
          released = true;
          const resume = resumeUpdate(out.save, deps.flows.get(out.save.session.flowHash) ?? deps.flows.live());
          if (!(await deps.sessions.saveAndUnlock(lock, out.save, resume))) log.warn({ session: turn.gatewaySessionId }, 'session lock expired before saving');
        }
        return out.reply;
      } finally {
        if (!released) await deps.sessions.unlock(lock);
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), deps.deadlineMs ?? 5000);
    });
    try {
      const outcome = await Promise.race([work, deadline]);
      if (outcome !== 'deadline') return outcome;
      log.error({ channel: turn.channel, session: turn.gatewaySessionId }, 'USSD step missed its deadline');
      work.catch((err: unknown) => log.error({ err }, 'USSD step failed after its deadline'));
      return apology(known.lang);
    } catch (err) {
      if (err instanceof RateLimitedError) {
        log.warn({ channel: turn.channel, session: turn.gatewaySessionId }, 'rate limited');
        return say(known.lang, (f) => f.common.rateLimited);
      }
      if (err instanceof SessionBusyError) log.warn({ session: turn.gatewaySessionId }, err.message);
      else log.error({ err, channel: turn.channel, session: turn.gatewaySessionId }, 'USSD step failed');
      return apology(known.lang);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    handle,
    end: (report) => recordCallEnd(deps.db, report),
    apology: (lang, form = 'as_written') => {
      const reply = apology(lang);
      return { ...reply, text: applyTextForm(reply.text, form) };
    },
  };
}

/**
 * What a dropped call would come back to: kept while the caller is somewhere
 * worth returning to, cleared once the call ends properly or is back home,
 * left alone while the caller is being offered an earlier call.
 */
function resumeUpdate(saved: StoredCall, flows: CompiledFlows): ResumeUpdate {
  const s = saved.session;
  if (s.resume) return { keep: true };
  if (s.ended || s.node === flows.home || s.node === flows.languageNode) return { clear: true };
  return { set: { point: { node: s.node, page: s.page, trail: s.trail, answers: s.answers, lang: s.lang, ref: s.ref }, flowHash: s.flowHash, callId: saved.callId } };
}

/** What the caller's next answer is: free text on an input node, otherwise a number from the screen (a resume offer included). */
function expectedAnswer(flows: CompiledFlows, session: Session): 'choice' | 'text' {
  return !session.resume && flows.nodes.get(session.node)?.kind === 'input' ? 'text' : 'choice';
}

function screenColumns(screen: Screen): Pick<StepRow, 'screen' | 'screenLength' | 'encoding' | 'ended'> {
  return { screen: screen.text, screenLength: screen.length, encoding: screen.encoding, ended: screen.end };
}

/** What a private step keeps of its screen: that there was one, and whether it ended the call. */
function privateScreenColumns(screen: Screen): Pick<StepRow, 'screen' | 'screenLength' | 'encoding' | 'ended'> {
  return { screen: PRIVATE_INPUT, screenLength: 0, encoding: screen.encoding, ended: screen.end };
}

/** Turns the engine's effects into the rows they ask for. */
function effectRecords(effects: readonly Effect[], phone: string, phoneHash: string, secrets: Secrets) {
  const reports: ReportRow[] = [];
  const sms: OutboxRow[] = [];
  const callbacks: Omit<NewCallback, 'callId'>[] = [];
  let language: Lang | undefined;
  let phoneEnc: string | undefined;
  const sealed = () => (phoneEnc ??= encryptText(secrets.dataEncryptionKey, phone));
  for (const effect of effects) {
    switch (effect.type) {
      case 'set_language':
        language = effect.lang;
        break;
      case 'save_report':
        // As the caller chose: the encrypted number (for the SMS), only the pseudonym, or nothing at all.
        reports.push({
          ref: effect.ref,
          phoneHash: effect.contact === 'no_number' ? null : phoneHash,
          phoneEnc: effect.contact === 'sms' ? sealed() : null,
          language: effect.lang,
          fields: effect.fields,
          ...(effect.recorded ? { recorded: [...effect.recorded] } : {}),
          contact: effect.contact,
          callLinked: effect.contact !== 'no_number',
          filing: randomUUID(),
        });
        break;
      case 'request_callback':
        // The number, encrypted, for the adviser who calls back; the topic is a choice's value.
        callbacks.push({ phoneHash, phoneEnc: sealed(), language: effect.lang, topic: effect.topic });
        break;
      case 'send_sms':
        // Never for a report filed without the number for it (the engine already drops these).
        if (effects.some((e) => e.type === 'save_report' && e.ref === effect.ref && e.contact !== 'sms')) break;
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
  return { reports, sms, language, callbacks };
}
