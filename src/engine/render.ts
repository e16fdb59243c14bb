/**
 * Turns a node into the pages a caller sees, in the session's language.
 */
import { measure } from '../i18n/gsm.js';
import { paginate } from './paginate.js';
import type { CompiledFlows, FlowNode, Lang, Screen, Session } from './types.js';

/** Variables a screen may interpolate: the reference and every answer, in words. */
export function screenVars(flows: CompiledFlows, session: Pick<Session, 'lang' | 'ref' | 'answers'>): Record<string, string> {
  const vars: Record<string, string> = { ref: session.ref };
  for (const [field, value] of Object.entries(session.answers)) {
    const label = flows.choiceLabels.get(field)?.get(value);
    vars[field] = label ? flows.texts(session.lang, label) : value;
  }
  return vars;
}

function optionLines(flows: CompiledFlows, node: FlowNode, session: RenderState): string[] {
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
      return [];
  }
}

/** Whether back/home are offered: not on the home screen, nor on the first screen of a call. */
export function offersNavigation(node: FlowNode, session: Pick<Session, 'trail'>): boolean {
  return node.nav && node.kind !== 'end' && session.trail.length > 0;
}

/** The error shown above a node after an invalid input. */
function invalidNotice(flows: CompiledFlows, node: FlowNode, lang: Lang): string {
  return flows.texts(lang, node.kind === 'input' ? node.error : flows.common.invalid);
}

export type RenderState = Pick<Session, 'lang' | 'ref' | 'answers' | 'trail' | 'invalid' | 'picked'>;

/**
 * Every page of a node for this session. After an invalid input the error
 * stands above the body, and the pages are laid out with it until the caller
 * moves on, so paging never skips a word. An end node always yields exactly
 * one page: the session closes on it.
 */
export function renderPages(flows: CompiledFlows, node: FlowNode, session: RenderState): string[] {
  const { lang } = session;
  const notice = session.invalid > 0 ? invalidNotice(flows, node, lang) : undefined;
  const body = flows.texts(lang, node.text, screenVars(flows, session));
  const fullBody = notice ? `${notice}\n${body}` : body;
  const footer = offersNavigation(node, session) ? flows.texts(lang, flows.common.backHome) : '';
  const more = flows.texts(lang, flows.common.more);
  const pages = paginate({ body: fullBody, items: optionLines(flows, node, session), footer, more: node.kind === 'end' ? '' : more }, flows.limits);
  return node.kind === 'end' ? [pages[0]!] : pages;
}

export function toScreen(text: string, end: boolean): Screen {
  const m = measure(text);
  return { text, end, encoding: m.encoding, length: m.length };
}
