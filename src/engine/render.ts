/**
 * Turns a node into the pages a caller sees, in the session's language.
 */
import { measure } from '../i18n/gsm.js';
import { paginate, paginateWithNotice, type ScreenParts } from './paginate.js';
import type { CompiledFlows, FlowNode, Lang, NodeKind, Notice, Screen, Session, TextKey } from './types.js';

/** Variables a screen may interpolate: the reference and every answer, in words. */
export function screenVars(flows: CompiledFlows, session: Pick<Session, 'lang' | 'ref' | 'answers' | 'recorded'>): Record<string, string> {
  const vars: Record<string, string> = { ref: session.ref };
  for (const [field, value] of Object.entries(session.answers)) {
    const label = flows.choiceLabels.get(field)?.get(value) ?? (session.recorded?.includes(field) ? flows.common.recorded : undefined);
    vars[field] = label ? flows.texts(session.lang, label) : value;
  }
  return vars;
}

/** The option lines of a node, numbered as the caller types them. */
export function optionLines(flows: CompiledFlows, node: FlowNode, session: RenderState): string[] {
  const { lang } = session;
  const t = (key: string) => flows.texts(lang, key);
  switch (node.kind) {
    case 'pick':
      // Labels are data (place and centre names), shown as the shell gave them.
      return session.picked?.node === node.id ? session.picked.items.map((item, i) => `${i + 1}. ${item.label}`) : [];
    case 'menu':
      return node.options.map((o, i) => `${i + 1}. ${t(o.label)}`);
    case 'choice':
      return node.items.map((item, i) => `${i + 1}. ${t(item.label)}`);
    case 'confirm':
      return [`1. ${t(node.yesLabel)}`, `2. ${t(node.noLabel)}`];
    case 'info':
      return node.next ? [`1. ${t(node.continueLabel)}`] : [];
    case 'input':
    case 'end':
    case 'lookup':
    case 'branch':
      return [];
  }
}

/** Whether back/home are offered: not on the home screen, nor on the first screen of a call. */
export function offersNavigation(node: FlowNode, session: Pick<Session, 'trail'>): boolean {
  return node.nav && node.kind !== 'end' && session.trail.length > 0;
}

/**
 * What a notice may say, in order of preference: an input's own error, or
 * the invalid-choice notice; for 98 on a last page, that there is no next
 * page (when the flows have that text), else the invalid-choice notice.
 */
export function noticeTexts(flows: CompiledFlows, node: FlowNode, lang: Lang, notice: Notice): string[] {
  return noticeKeys(flows, node, notice).map((key) => flows.texts(lang, key));
}

export type RenderState = Pick<Session, 'lang' | 'ref' | 'answers' | 'trail' | 'invalid' | 'picked' | 'recorded'> & Partial<Pick<Session, 'page' | 'notice'>>;

/** What paginate lays out for a node. */
function screenParts(flows: CompiledFlows, node: FlowNode, session: RenderState): ScreenParts {
  const { lang } = session;
  const body = flows.texts(lang, node.text, screenVars(flows, session));
  const footer = offersNavigation(node, session) ? flows.texts(lang, flows.common.backHome) : '';
  const more = node.kind === 'end' ? '' : flows.texts(lang, flows.common.more);
  return { body, items: optionLines(flows, node, session), footer, more };
}

/**
 * Every page of a node for this session. The layout never depends on a
 * notice: after an invalid input the caller stays on the page they were on,
 * with the notice laid over it, and every other page stays as it was. An end
 * node always yields exactly one page: the session closes on it.
 */
export function renderPages(flows: CompiledFlows, node: FlowNode, session: RenderState): string[] {
  const parts = screenParts(flows, node, session);
  if (node.kind === 'end') return [paginate(parts, flows.limits)[0]!];
  if (!session.notice) return paginate(parts, flows.limits);
  return paginateWithNotice(parts, flows.limits, session.page ?? 0, noticeTexts(flows, node, session.lang, session.notice));
}

export function toScreen(text: string, end: boolean): Screen {
  const m = measure(text);
  return { text, end, encoding: m.encoding, length: m.length };
}

/**
 * A piece of what a screen says: a text of the flows (its key, and the
 * variables it was filled with, so that a channel can speak the text's fixed
 * words and the values apart), or data shown as it came (a polling-centre
 * name, from a lookup).
 */
export type ScreenPart =
  | {
      readonly key: TextKey;
      readonly text: string;
      /** the values its placeholders were filled with */
      readonly vars?: Readonly<Record<string, string>>;
      /** of those, the values that are texts of the flows themselves (a choice's label), by their key */
      readonly varKeys?: Readonly<Record<string, TextKey>>;
    }
  | { readonly key: null; readonly text: string };

export interface ScreenOption {
  /** what the caller presses */
  readonly number: string;
  readonly label: ScreenPart;
  /** a language option: its label is in that language, whatever the call's */
  readonly lang?: Lang;
}

/**
 * A screen as data, before any layout: what the node says, its numbered
 * options, whether back and home are offered, and the notice over it. The
 * USSD channel lays the same node out as pages (renderPages); the voice line
 * speaks this view, one part after another, with a recording per text.
 */
export interface ScreenView {
  /** the flows it was made from (their hash): their texts and recordings say it */
  readonly flowHash: string;
  readonly node: string;
  /** the node's kind; `resume` for the continue-or-restart offer */
  readonly kind: NodeKind | 'resume';
  readonly lang: Lang;
  /** said first: why the caller is still here (an invalid answer) */
  readonly notice: readonly ScreenPart[];
  readonly body: ScreenPart | null;
  readonly options: readonly ScreenOption[];
  /** back (0) and home (00) are offered */
  readonly nav: boolean;
  /** the call ends on it */
  readonly end: boolean;
  /** on an input node: what the caller answers with */
  readonly input?: { readonly digits: boolean; readonly min: number; readonly max: number; readonly private: boolean };
}

const part = (flows: CompiledFlows, lang: Lang, key: TextKey, vars?: Record<string, string>, varKeys?: Record<string, TextKey>): ScreenPart => {
  const text = flows.texts(lang, key, vars);
  if (!vars || !/\{\{/.test(flows.texts(lang, key))) return { key, text };
  return { key, text, vars, ...(varKeys && Object.keys(varKeys).length ? { varKeys } : {}) };
};

/** The answers a screen shows as texts of the flows (a choice's label, "your recorded message"), by their keys. */
function screenVarKeys(flows: CompiledFlows, session: Pick<Session, 'answers' | 'recorded'>): Record<string, TextKey> {
  const keys: Record<string, TextKey> = {};
  for (const [field, value] of Object.entries(session.answers)) {
    const label = flows.choiceLabels.get(field)?.get(value) ?? (session.recorded?.includes(field) ? flows.common.recorded : undefined);
    if (label) keys[field] = label;
  }
  return keys;
}

/** The options of a node as data, numbered as the caller presses them (the same as optionLines). */
function optionsOf(flows: CompiledFlows, node: FlowNode, session: RenderState): ScreenOption[] {
  const { lang } = session;
  const opt = (i: number, key: TextKey, optionLang?: Lang): ScreenOption => ({
    number: String(i + 1),
    label: part(flows, optionLang ?? lang, key),
    ...(optionLang ? { lang: optionLang } : {}),
  });
  switch (node.kind) {
    case 'pick':
      return session.picked?.node === node.id ? session.picked.items.map((item, i) => ({ number: String(i + 1), label: { key: null, text: item.label } })) : [];
    case 'menu':
      return node.options.map((o, i) => opt(i, o.label, o.language));
    case 'choice':
      return node.items.map((item, i) => opt(i, item.label));
    case 'confirm':
      return [opt(0, node.yesLabel), opt(1, node.noLabel)];
    case 'info':
      return node.next ? [opt(0, node.continueLabel)] : [];
    default:
      return [];
  }
}

/**
 * What the session's screen says, as data: the node the caller is on, or the
 * closing words of an ended call, or the offer to continue a dropped call.
 * The same state gives the same view as the screen renderPages lays out.
 */
export function screenView(flows: CompiledFlows, session: Session): ScreenView {
  const { lang } = session;
  const node = flows.nodes.get(session.node);
  const c = flows.common;
  const closing = (key: TextKey): ScreenView => ({ flowHash: flows.hash, node: session.node, kind: 'end', lang, notice: [], body: part(flows, lang, key), options: [], nav: false, end: true });
  if (session.ended) {
    if (session.outcome === 'too_many_invalid') return closing(c.tooManyInvalid);
    if (session.outcome === 'error' || !node || node.kind !== 'end') return closing(c.unavailable);
  }
  if (!node) return closing(c.unavailable);
  const notice = session.notice ? noticeKeys(flows, node, session.notice).map((key) => part(flows, lang, key)) : [];
  if (session.resume) {
    return {
      flowHash: flows.hash,
      node: node.id,
      kind: 'resume',
      lang,
      notice,
      body: part(flows, lang, c.resumePrompt),
      options: [
        { number: '1', label: part(flows, lang, c.resumeContinue) },
        { number: '2', label: part(flows, lang, c.resumeRestart) },
      ],
      nav: false,
      end: false,
    };
  }
  return {
    flowHash: flows.hash,
    node: node.id,
    kind: node.kind,
    lang,
    notice,
    body: part(flows, lang, node.text, screenVars(flows, session), screenVarKeys(flows, session)),
    options: optionsOf(flows, node, session),
    nav: offersNavigation(node, session),
    end: node.kind === 'end' || session.ended,
    ...(node.kind === 'input' ? { input: { digits: node.validate.digits, min: node.validate.min, max: node.validate.max, private: node.private } } : {}),
  };
}

/** The keys noticeTexts says, in its order. */
function noticeKeys(flows: CompiledFlows, node: FlowNode, notice: Notice): TextKey[] {
  const invalid = node.kind === 'input' ? node.error : flows.common.invalid;
  if (notice === 'invalid' || !flows.common.noMore) return [invalid];
  return [flows.common.noMore, invalid];
}
