/**
 * The words console pages show for what the live flows define: screen titles
 * (a screen's first line as a caller reads it), SMS texts, and the labels of
 * the choices a caller made (a report's type and region).
 */
import type { CompiledFlows } from '../../engine/types.js';
import { renderPages } from '../../engine/render.js';
import { answerChoices, answerLabel, REPORT_STATUS_LABELS, reportContactLabel, reportStatusLabel, screenTitle, smsTemplateText } from './labels.js';

/** The first page of a screen in French, as a caller with no answers yet sees it (for its title). */
function frenchScreen(flows: CompiledFlows, nodeId: string): string | undefined {
  const node = flows.nodes.get(nodeId);
  if (!node) return undefined;
  // A reference in a title would look like a real one: it reads as « KA-… ».
  return renderPages(flows, node, { lang: 'fr', ref: 'KA-…', answers: {}, trail: node.id === flows.home ? [] : [flows.home], invalid: 0 })[0];
}

export function flowWords(flows: CompiledFlows) {
  const screen = (nodeId: string | null | undefined) => screenTitle(flows, nodeId, (id) => frenchScreen(flows, id));
  return {
    screen,
    smsText: (template: string, vars?: Record<string, string> | null) => smsTemplateText(flows, template, vars),
    answer: (field: string, value: string | null | undefined) => answerLabel(flows, field, value),
    /** Every screen, flow by flow, for the "screen reached" filter: the group is named by its first screen. */
    screenGroups: () =>
      [...flows.starts.entries()].map(([flow, start]) => ({
        label: screen(start),
        screens: [...flows.nodes.values()].filter((n) => n.flow === flow).map((n) => ({ value: n.id, label: screen(n.id) })),
      })),
  };
}

/** The words report pages show for stored codes: incident types and regions as callers saw them, statuses, the contact choice. */
export function reportWords(flows: CompiledFlows) {
  return {
    ...flowWords(flows),
    incidents: answerChoices(flows, 'incident'),
    regions: answerChoices(flows, 'region'),
    statuses: REPORT_STATUS_LABELS,
    statusLabel: reportStatusLabel,
    contactLabel: reportContactLabel,
  };
}
