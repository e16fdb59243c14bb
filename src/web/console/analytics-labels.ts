/**
 * A label for every screen the analytics page counts, unique across the live
 * flows, in the words a caller read: never a node id. Several screens share a
 * first line (every failed lookup reads « Service indisponible… », both
 * "sent by SMS" endings read alike): those get what tells them apart, the
 * menu choice that leads there, the screen before, or their flow's title.
 * The screens' words are the callers' (French); the words around them
 * (« après », « choix », a lookup's name) are in the reader's language.
 */
import type { CompiledFlows, FlowNode } from '../../engine/types.js';
import { outgoing } from '../../flows/flow-validator.js';
import type { ConsoleLanguage } from '../../store/user-store.js';
import { language, t, word } from './console-i18n.js';
import { flowWords } from './flow-words.js';

/** Steps a caller never sees: named by what they do, then by where they come from. */
const INVISIBLE: Readonly<Partial<Record<FlowNode['kind'], string>>> = {
  lookup: word('Recherche dans les données'),
  branch: word('Aiguillage'),
};
const RETIRED = word('Écran retiré des menus');
const CHOICE_LENGTH = 40;

const shorten = (text: string, max: number) => {
  const line = text.split('\n').find((l) => l.trim())?.trim() ?? '';
  return line.length <= max ? line : `${line.slice(0, max).replace(/\s+\S*$/, '').replace(/[\s,.;:]+$/, '')}…`;
};

const cache = new WeakMap<CompiledFlows, Partial<Record<ConsoleLanguage, ScreenLabels>>>();

export interface ScreenLabels {
  /** the unique label of a screen; a screen the live flows no longer have reads « Écran retiré des menus » */
  label(nodeId: string): string;
  /** a flow's title: its first screen's */
  flowTitle(flow: string): string;
}

/**
 * @example
 *   const labels = screenLabels(flows);
 *   labels.label('stations.nina_lookup'); // « Recherche dans les données — après « Tapez votre numéro NINA: » »
 */
export function screenLabels(flows: CompiledFlows): ScreenLabels {
  const lang = language();
  const cached = cache.get(flows)?.[lang];
  if (cached) return cached;
  const words = flowWords(flows);
  const flowTitle = (flow: string) => words.screen(flows.starts.get(flow));
  // Who leads to each screen, in the flows' order: the first parent is the way most callers come.
  const parents = new Map<string, { from: FlowNode; choice?: string }[]>();
  for (const node of flows.nodes.values()) {
    const choices = new Map(node.kind === 'menu' ? node.options.map((o) => [o.next, shorten(flows.texts('fr', o.label), CHOICE_LENGTH)]) : []);
    for (const next of outgoing(node)) {
      const list = parents.get(next) ?? [];
      const choice = choices.get(next);
      list.push(choice ? { from: node, choice } : { from: node });
      parents.set(next, list);
    }
  }
  const visible = (n: FlowNode) => !INVISIBLE[n.kind];
  const base = (n: FlowNode) => {
    const name = INVISIBLE[n.kind];
    return name ? t(name) : words.screen(n.id);
  };
  /** The nearest screen a caller saw before this one, `depth` screens up the first-parent chain. */
  const before = (n: FlowNode, depth: number): string | undefined => {
    let at: FlowNode | undefined = n;
    const seen = new Set<string>();
    for (let d = 0; d < depth; ) {
      seen.add(at.id);
      at = parents.get(at.id)?.find((p) => !seen.has(p.from.id))?.from;
      if (!at) return undefined;
      if (visible(at)) d++;
    }
    return at ? words.screen(at.id) : undefined;
  };
  /** What may tell a screen apart from others with its title, most telling first. */
  const hints = (n: FlowNode, acrossFlows: boolean): (string | undefined)[] => {
    const choice = parents.get(n.id)?.[0]?.choice;
    const flow = t('parcours « {{flow}} »', { flow: flowTitle(n.flow) });
    const after = [1, 2, 3, 4].map((d) => {
      const title = before(n, d);
      return title ? t('après « {{screen}} »', { screen: title }) : undefined;
    });
    return [...(acrossFlows ? [flow] : []), choice ? t('choix « {{choice}} »', { choice }) : undefined, ...after, acrossFlows ? undefined : flow];
  };

  const groups = new Map<string, FlowNode[]>();
  for (const n of flows.nodes.values()) {
    const title = base(n);
    groups.set(title, [...(groups.get(title) ?? []), n]);
  }
  const labels = new Map<string, string>();
  for (const [title, nodes] of groups) {
    // A screen alone with its title keeps it, unless the caller never sees it (« Aiguillage » alone says nothing).
    if (nodes.length === 1 && visible(nodes[0]!)) {
      labels.set(nodes[0]!.id, title);
      continue;
    }
    const acrossFlows = new Set(nodes.map((n) => n.flow)).size > 1;
    const candidates = nodes.map((n) => hints(n, acrossFlows));
    const tries = Math.max(...candidates.map((c) => c.length));
    // The first set of hints that tells them all apart, preferring words to the « … » of a screen with values.
    let chosen: string[] | undefined;
    let blanks = Infinity;
    for (let k = 0; k < tries; k++) {
      const attempt = candidates.map((c) => c[k]);
      if (!attempt.every((a) => a) || new Set(attempt).size !== attempt.length) continue;
      const count = attempt.join('').split('…').length;
      if (count < blanks) [chosen, blanks] = [attempt.map((a) => `${title} — ${a}`), count];
    }
    // Nothing tells them apart: each keeps its first hint (or none) and a number.
    chosen ??= nodes.map((_, i) => `${title}${candidates[i]!.find((a) => a) ? ` — ${candidates[i]!.find((a) => a)}` : ''} (${i + 1})`);
    nodes.forEach((n, i) => labels.set(n.id, chosen[i]!));
  }
  // The same label may still come out twice (a hint equal to another screen's title): number the later ones.
  const used = new Map<string, number>();
  for (const [id, label] of labels) {
    const times = (used.get(label) ?? 0) + 1;
    used.set(label, times);
    if (times > 1) labels.set(id, `${label} (${times})`);
  }
  const retiredLabel = t(RETIRED);
  const retired = new Map<string, string>();
  const result: ScreenLabels = {
    label: (nodeId) => {
      const known = labels.get(nodeId);
      if (known) return known;
      let name = retired.get(nodeId);
      if (!name) retired.set(nodeId, (name = retired.size ? `${retiredLabel} (${retired.size + 1})` : retiredLabel));
      return name;
    },
    flowTitle,
  };
  cache.set(flows, { ...cache.get(flows), [lang]: result });
  return result;
}
