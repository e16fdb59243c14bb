/**
 * Turns a node into the pages a caller sees, in the session's language.
 */
import { measure } from '../i18n/gsm.js';
import { paginate, paginateWithNotice, type ScreenParts } from './paginate.js';
import type { CompiledFlows, FlowNode, Lang, Notice, Screen, Session } from './types.js';

/** Variables a screen may interpolate: the reference and every answer, in words. */
export function screenVars(flows: CompiledFlows, session: Pick<Session, 'lang' | 'ref' | 'answers'>): Record<string, string> {
  const vars: Record<string, string> = { ref: session.ref };
  for (const [field, value] of Object.entries(session.answers)) {
    const label = flows.choiceLabels.get(field)?.get(value);
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
  const invalid = flows.texts(lang, node.kind === 'input' ? node.error : flows.common.invalid);
  if (notice === 'invalid' || !flows.common.noMore) return [invalid];
  return [flows.texts(lang, flows.common.noMore), invalid];
}

export type RenderState = Pick<Session, 'lang' | 'ref' | 'answers' | 'trail' | 'invalid' | 'picked'> & Partial<Pick<Session, 'page' | 'notice'>>;

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
