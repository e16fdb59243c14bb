/**
 * The two ways into the engine: start a session, and step it with the caller's
 * newest input. Pure: the same flows, session, input and time give the same
 * result; I/O is returned as effects for the shell to run.
 */
import { offersNavigation, renderPages, toScreen } from './render.js';
import { paginate, paginateWithNotice } from './paginate.js';
import type {
  CompiledFlows,
  Effect,
  EngineEvent,
  FlowNode,
  Lang,
  LookupAnswer,
  LookupNode,
  Notice,
  Outcome,
  PickNode,
  Session,
  StartOptions,
  StepResult,
} from './types.js';

/** Navigation codes, the same on every screen. */
export const NAV = Object.freeze({ back: '0', home: '00', more: '98', language: '99' });

/** Bounds the back stack so that a caller looping through menus cannot grow the session. */
const MAX_TRAIL = 32;

class Step {
  readonly effects: Effect[] = [];
  readonly events: EngineEvent[] = [];
  constructor(
    readonly flows: CompiledFlows,
    public session: Session,
  ) {
    // A notice is for the screen that showed it: whatever comes next drops it.
    if (session.notice !== undefined) {
      const { notice: _shown, ...rest } = session;
      this.session = rest;
    }
  }

  get node(): FlowNode | undefined {
    return this.flows.nodes.get(this.session.node);
  }

  update(patch: Partial<Session>): void {
    // Object.assign rather than a spread: as fast whether or not the session carries a notice (a spread was not).
    this.session = Object.assign({}, this.session, patch);
  }

  /** Moves to `target`; `forward` keeps the current node on the back stack. */
  goTo(target: string, how: 'forward' | 'back' | 'home', trail?: readonly string[]): StepResult {
    let nextTrail: readonly string[];
    if (trail) nextTrail = trail;
    else if (how === 'home' || target === this.flows.home) nextTrail = [];
    else nextTrail = [...this.session.trail, this.session.node].slice(-MAX_TRAIL);
    const { picked: _stale, ...rest } = this.session;
    this.session = { ...rest, node: target, page: 0, invalid: 0, trail: nextTrail };
    const node = this.node;
    if (!node) return this.fail();
    this.events.push({ type: 'entered', node: node.id });
    // Never shown and never on the back stack: straight on by the answer (the validator forbids a branch to a branch).
    if (node.kind === 'branch') return this.goTo(node.cases[this.session.answers[node.on] ?? ''] ?? node.otherwise, how, nextTrail);
    if (how === 'forward') this.runEffects(node);
    if (node.kind === 'end') return this.end('completed', node.id);
    return this.show();
  }

  /** Hands the step to the shell: it looks the data up and calls answerLookup. */
  ask(node: PickNode | LookupNode): StepResult {
    const params: Record<string, string> = {};
    for (const p of node.params) params[p] = this.session.answers[p] ?? '';
    return { ...this.result(toScreen('', false)), lookup: { node: node.id, source: node.source, params, lang: this.session.lang } };
  }

  runEffects(node: FlowNode): void {
    const { ref, lang, answers } = this.session;
    // A report filed without the number for an SMS never has one sent for it.
    const noSms = node.effects.some((spec) => spec.type === 'save_report' && spec.contact !== 'sms');
    for (const spec of node.effects) {
      if (spec.type === 'save_report') {
        const fields: Record<string, string> = {};
        for (const f of spec.fields) fields[f] = answers[f] ?? '';
        const recorded = spec.fields.filter((f) => this.session.recorded?.includes(f));
        this.effects.push({ type: 'save_report', ref, lang, fields, contact: spec.contact, ...(recorded.length ? { recorded } : {}) });
      } else if (spec.type === 'request_callback') {
        // The choice value only (voter, report, other): never anything the caller typed.
        this.effects.push({ type: 'request_callback', ref, lang, topic: spec.topic ? (answers[spec.topic] ?? null) : null });
      } else if (!noSms) {
        // The reference and what lookups found: the outbox never copies what the caller typed.
        const vars: Record<string, string> = { ref };
        for (const v of spec.vars) vars[v] = answers[v] ?? '';
        this.effects.push({ type: 'send_sms', ref, lang, template: spec.template, vars });
      }
    }
  }

  show(): StepResult {
    const node = this.node!;
    if (node.kind === 'lookup') return this.ask(node);
    if (node.kind === 'pick' && this.session.picked?.node !== node.id) return this.ask(node);
    const pages = renderPages(this.flows, node, this.session);
    const page = Math.min(this.session.page, pages.length - 1);
    if (page !== this.session.page) this.update({ page });
    return this.result(toScreen(pages[page]!, node.kind === 'end'));
  }

  end(outcome: Outcome, nodeId: string, text?: string): StepResult {
    this.update({ ended: true, outcome });
    this.events.push({ type: 'ended', node: nodeId, outcome });
    if (text !== undefined) return this.result(toScreen(text, true));
    const node = this.node!;
    return this.result(toScreen(renderPages(this.flows, node, this.session)[0]!, true));
  }

  fail(): StepResult {
    const text = this.flows.texts(this.session.lang, this.flows.common.unavailable);
    return this.end('error', this.session.node, text);
  }

  /**
   * Stays on the page the caller is on and says why (`notice`), every page
   * laid out as before; ends the call after too many invalid inputs in a row.
   */
  invalid(notice: Notice = 'invalid'): StepResult {
    const node = this.node!;
    this.events.push({ type: 'invalid', node: node.id });
    const invalid = this.session.invalid + 1;
    if (invalid >= this.flows.maxInvalid) {
      this.update({ invalid });
      return this.end('too_many_invalid', node.id, this.flows.texts(this.session.lang, this.flows.common.tooManyInvalid));
    }
    this.update({ invalid, notice });
    return this.show();
  }

  /** The continue-or-start-again screen for a dropped call. */
  offerResume(): StepResult {
    const { lang } = this.session;
    const t = (key: string) => this.flows.texts(lang, key);
    const c = this.flows.common;
    const parts = { body: t(c.resumePrompt), items: [`1. ${t(c.resumeContinue)}`, `2. ${t(c.resumeRestart)}`], footer: '', more: t(c.more) };
    // Only 1 and 2 answer here: show the page with the options (the last one).
    const pages = this.session.notice ? paginateWithNotice(parts, this.flows.limits, Infinity, [t(c.invalid)]) : paginate(parts, this.flows.limits);
    return this.result(toScreen(pages[pages.length - 1]!, false));
  }

  /** Answers the offer: 1 puts the caller back where the call dropped, 2 starts again. */
  answerResume(input: string, restartAt: string): StepResult {
    const point = this.session.resume!;
    if (input === '1') {
      const { resume: _offer, ...rest } = this.session;
      this.session = { ...rest, node: point.node, page: point.page, trail: point.trail, answers: point.answers, lang: point.lang, ref: point.ref, invalid: 0 };
      this.events.push({ type: 'entered', node: point.node });
      return this.show();
    }
    if (input === '2') {
      const { resume: _offer, ...rest } = this.session;
      this.session = rest;
      return this.goTo(restartAt, 'forward', []);
    }
    this.events.push({ type: 'invalid', node: this.session.node });
    const invalid = this.session.invalid + 1;
    if (invalid >= this.flows.maxInvalid) {
      this.update({ invalid });
      return this.end('too_many_invalid', this.session.node, this.flows.texts(this.session.lang, this.flows.common.tooManyInvalid));
    }
    this.update({ invalid, notice: 'invalid' });
    return this.offerResume();
  }

  result(screen: StepResult['screen']): StepResult {
    return { session: this.session, screen, effects: this.effects, events: this.events };
  }
}

/** Parses a 1-based option number, or returns 0. */
function optionNumber(input: string, count: number): number {
  if (!/^[1-9][0-9]?$/.test(input)) return 0;
  const n = Number(input);
  return n <= count ? n : 0;
}

/** Normalizes what the caller typed: NFC, trimmed, inner runs of space folded. */
export function normalizeInput(raw: string): string {
  return raw.normalize('NFC').replace(/\s+/g, ' ').trim();
}

function isValidInput(node: Extract<FlowNode, { kind: 'input' }>, value: string): boolean {
  const length = [...value].length;
  const v = node.validate;
  if (length < v.min || length > v.max) return false;
  if (v.digits && !/^[0-9]+$/.test(value)) return false;
  if (v.pattern && !v.pattern.test(value)) return false;
  return true;
}

/**
 * Starts a call: the language menu, or the home menu for a caller whose
 * language is known, or the start of `options.flow`.
 *
 * @example
 * const first = start(flows, { id, ref: 'KA-7Q4M2XH', lang: 'fr', languageKnown: false }, Date.now());
 * first.screen.text; // "Choisissez votre langue ..."
 */
export function start(flows: CompiledFlows, options: StartOptions, now: number): StepResult {
  const target = options.flow
    ? flows.starts.get(options.flow) ?? flows.languageNode
    : options.languageKnown
      ? flows.home
      : flows.languageNode;
  const session: Session = {
    v: 1,
    id: options.id,
    flowHash: flows.hash,
    lang: options.lang,
    node: target,
    page: 0,
    trail: [],
    answers: {},
    invalid: 0,
    ref: options.ref,
    ended: false,
    startedAt: now,
    updatedAt: now,
  };
  const s = new Step(flows, session);
  if (options.resume && flows.nodes.has(options.resume.node)) {
    // A dropped call: ask first, in the language the caller was using.
    s.update({ resume: options.resume, lang: options.resume.lang });
    return s.offerResume();
  }
  return s.goTo(target, 'forward', []);
}

/**
 * Advances a session by the caller's newest input.
 *
 * @example
 * const next = step(flows, first.session, '1', Date.now());
 */
export function step(flows: CompiledFlows, session: Session, rawInput: string, now: number): StepResult {
  const s = new Step(flows, { ...session, updatedAt: now });
  const node = s.node;
  if (session.ended) return s.result(toScreen(closingText(flows, session), true));
  if (!node) return s.fail();
  const input = normalizeInput(rawInput);
  if (session.resume) return s.answerResume(input, session.node);
  const navigable = offersNavigation(node, session);

  if (input === NAV.more) {
    const pages = renderPages(flows, node, s.session);
    // Paging is a valid input: the count of invalid ones in a row starts again.
    if (session.page < pages.length - 1) {
      s.update({ page: session.page + 1, invalid: 0 });
      s.events.push({ type: 'paged', node: node.id, page: session.page + 1 });
      return s.show();
    }
    // On the last page: say there is none after it (on an input, 98 is an answer).
    if (node.kind !== 'input') return s.invalid('no_more');
  }
  if (input === NAV.back && (session.page > 0 || navigable)) {
    if (session.page > 0) {
      s.update({ page: session.page - 1, invalid: 0 });
      return s.show();
    }
    const previous = session.trail[session.trail.length - 1]!;
    return s.goTo(previous, 'back', session.trail.slice(0, -1));
  }
  if (input === NAV.home && navigable) return s.goTo(flows.home, 'home');
  if (input === NAV.language && node.id !== flows.languageNode && node.kind !== 'input') {
    return s.goTo(flows.languageNode, 'forward');
  }

  switch (node.kind) {
    case 'menu': {
      const n = optionNumber(input, node.options.length);
      if (!n) return s.invalid();
      const option = node.options[n - 1]!;
      if (option.language) setLanguage(s, option.language);
      return s.goTo(option.next, 'forward');
    }
    case 'choice': {
      const n = optionNumber(input, node.items.length);
      if (!n) return s.invalid();
      s.update({ answers: { ...session.answers, [node.save]: node.items[n - 1]!.value } });
      return s.goTo(node.next, 'forward');
    }
    case 'confirm': {
      if (input === '1') return s.goTo(node.yes, 'forward');
      if (input === '2') return s.goTo(node.no, 'forward');
      return s.invalid();
    }
    case 'info': {
      if (node.next && input === '1') return s.goTo(node.next, 'forward');
      return s.invalid();
    }
    case 'input': {
      if (!isValidInput(node, input)) return s.invalid();
      s.update({ answers: { ...session.answers, [node.save]: input } });
      // Typed over an earlier recording: the answer is text again.
      if (session.recorded?.includes(node.save)) s.update({ recorded: session.recorded.filter((f) => f !== node.save) });
      return s.goTo(node.next, 'forward');
    }
    case 'pick': {
      const items = session.picked?.node === node.id ? session.picked.items : [];
      const n = optionNumber(input, items.length);
      if (!n) return s.invalid();
      s.update({ answers: { ...session.answers, [node.save]: items[n - 1]!.value } });
      return s.goTo(node.next, 'forward');
    }
    case 'lookup':
      // Only reached if the shell stepped instead of answering the lookup.
      return s.show();
    case 'branch':
      // Never stood on: goTo passes through.
      return s.fail();
    case 'end':
      return s.end('completed', node.id);
  }
}

/**
 * Answers an input node with a recording (the voice line's free text: the
 * caller speaks a description): the answer is the recording's URL, kept as
 * given, and screens name it with `common.recorded`. Only a text input takes
 * one; anywhere else it is an invalid answer.
 */
export function answerRecording(flows: CompiledFlows, session: Session, url: string, now: number): StepResult {
  const s = new Step(flows, { ...session, updatedAt: now });
  const node = s.node;
  if (session.ended) return s.result(toScreen(closingText(flows, session), true));
  if (!node) return s.fail();
  if (session.resume || node.kind !== 'input' || node.validate.digits) return s.invalid();
  s.update({ answers: { ...session.answers, [node.save]: url }, recorded: [...new Set([...(session.recorded ?? []), node.save])] });
  return s.goTo(node.next, 'forward');
}

/**
 * Continues a step that asked for data (`result.lookup`) with the shell's
 * answer. A pick node shows the items (or goes to `empty`); a lookup node
 * saves what was found, forgets what it was told to, and goes to `found` or
 * `not_found`. Neither stays on the back stack: 0 from the next screen goes
 * to the screen before. A failed lookup ends the call with the apology.
 */
export function answerLookup(flows: CompiledFlows, session: Session, answer: LookupAnswer, now: number): StepResult {
  const s = new Step(flows, { ...session, updatedAt: now });
  const node = s.node;
  if (!node || (node.kind !== 'pick' && node.kind !== 'lookup')) return s.fail();
  s.events.push({ type: 'looked_up', node: node.id, source: node.source, outcome: answer.kind });
  if (node.kind === 'lookup' && node.forget.length) {
    // First, whatever the answer: a NINA number never outlives its lookup, not even a failed one.
    const answers = { ...session.answers };
    for (const key of node.forget) delete answers[key];
    s.update({ answers });
  }
  if (answer.kind === 'failed') return s.fail();
  if (node.kind === 'pick') {
    const items = answer.kind === 'items' ? answer.items.slice(0, MAX_PICKED) : [];
    if (!items.length) return s.goTo(node.empty, 'forward', session.trail);
    s.update({ picked: { node: node.id, items } });
    return s.show();
  }
  if (answer.kind === 'found') s.update({ answers: { ...s.session.answers, ...answer.values } });
  return s.goTo(answer.kind === 'found' ? node.found : node.notFound, 'forward', session.trail);
}

/**
 * Whether the call is private from here on: the caller chose an item that
 * keeps the rest of the call out of the records (report without a number).
 * The shell then records neither what is typed nor what is shown.
 */
export function isPrivateCall(flows: CompiledFlows, session: Session): boolean {
  if (!flows.privateAnswers) return false;
  for (const [field, values] of flows.privateAnswers) {
    const answer = session.answers[field];
    if (answer !== undefined && values.has(answer)) return true;
  }
  return false;
}

/** Items a pick shows at most: 98 and 99 are navigation codes. */
export const MAX_PICKED = 97;

/** What the caller last saw when the call ended, shown again to a late request. */
function closingText(flows: CompiledFlows, session: Session): string {
  const node = flows.nodes.get(session.node);
  if (session.outcome === 'too_many_invalid') return flows.texts(session.lang, flows.common.tooManyInvalid);
  if (session.outcome === 'error' || !node || node.kind !== 'end') return flows.texts(session.lang, flows.common.unavailable);
  return renderPages(flows, node, session)[0]!;
}

function setLanguage(s: Step, lang: Lang): void {
  s.update({ lang });
  s.effects.push({ type: 'set_language', lang });
}
