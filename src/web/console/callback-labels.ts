/**
 * The words for what a call-back request stores (`callbacks.status`,
 * `outcome`, `topic`), in the reader's language, so that no code reaches an
 * operator's page. The topic is shown as the caller saw it, from the flow's
 * own texts.
 */
import type { CompiledFlows } from '../../engine/types.js';
import { t, word } from './console-i18n.js';
import { answerLabel } from './labels.js';

/** The field the call-back flow saves its topic in (flows/callback.yaml). */
export const CALLBACK_TOPIC_FIELD = 'callback_topic';

export const CALLBACK_STATUS_LABELS: Readonly<Record<string, string>> = {
  waiting: word('En attente'),
  claimed: word('Pris en charge'),
  done: word('Terminé'),
};
export const callbackStatusLabel = (status: string): string => t(CALLBACK_STATUS_LABELS[status] ?? word('Inconnu'));

export const CALLBACK_OUTCOME_LABELS: Readonly<Record<string, string>> = {
  reached: word('Joint : appelant rappelé'),
  no_answer: word('Pas de réponse'),
  wrong_number: word('Mauvais numéro'),
  refused: word('L’appelant ne voulait plus être rappelé'),
  expired: word('Expiré : numéro effacé avant le rappel'),
};
export const callbackOutcomeLabel = (outcome: string | null | undefined): string => (outcome ? t(CALLBACK_OUTCOME_LABELS[outcome] ?? word('Inconnu')) : '');

/** Topics as a fallback when the flow no longer has the choice (an older version): the caller's French, like the flow's labels. */
const TOPIC_FALLBACK: Readonly<Record<string, string>> = { voter: 'Voter, inscription', report: 'Un signalement', other: 'Autre chose' };

/** What the caller said the call-back is about, in the French the caller saw; a dash when the flow did not ask. */
export function callbackTopicLabel(flows: CompiledFlows, topic: string | null | undefined): string {
  if (!topic) return '—';
  const label = answerLabel(flows, CALLBACK_TOPIC_FIELD, topic);
  return label !== topic ? label : (TOPIC_FALLBACK[topic] ?? 'Autre chose');
}

/** How long a request has waited, in words: `12 min`, `2 h 05`, `3 j` (`12 min`, `2 h 05 min`, `3 days`). */
export function waitedLabel(since: Date | string, now = new Date()): string {
  const minutes = Math.max(0, Math.floor((now.getTime() - new Date(since).getTime()) / 60_000));
  if (minutes < 60) return t('{{minutes}} min', { minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return t('{{hours}} h {{minutes}}', { hours, minutes: String(minutes % 60).padStart(2, '0') });
  return t('{{days}} j', { days: Math.floor(hours / 24) });
}

/** `+223 76 60 00 01`: a Malian number as one reads it aloud (others as given). */
export function spacedPhone(e164: string): string {
  const m = /^\+223(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(e164);
  return m ? `+223 ${m.slice(1).join(' ')}` : e164;
}
