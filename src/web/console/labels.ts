/**
 * Words the console shows for the codes it stores: an operator reads
 * « Numéro affiché » (or "Number shown"), never `reveal_number`.
 *
 * The tables keep the French, each label marked with `word()`; the functions
 * below answer in the reader's language (`t()`), so every page and export
 * that calls them follows the account's choice.
 */
import type { CompiledFlows } from '../../engine/types.js';
import { language, t, word } from './console-i18n.js';

/** Every action the audit log records, as an admin reads it. */
export const AUDIT_ACTIONS: Readonly<Record<string, string>> = {
  login: word('Connexion'),
  login_failed: word('Connexion refusée (mot de passe)'),
  reveal_number: word('Numéro affiché'),
  view_report: word('Signalement consulté'),
  play_recording: word('Message vocal écouté'),
  upload_recording: word('Annonce vocale enregistrée'),
  remove_recording: word('Annonce vocale retirée'),
  view_call: word('Appel consulté'),
  report_status: word('Statut de signalement changé'),
  export_calls: word('Export des appels'),
  export_reports: word('Export des signalements'),
  publish_flows: word('Menus publiés'),
  reload_flows: word('Menus vérifiés'),
  import_stations: word('Import de bureaux de vote'),
  rotate_keys: word('Clés de chiffrement changées'),
  review_text: word('Texte relu (relecture)'),
  edit_text: word('Texte modifié (relecture)'),
  export_texts: word('Export des textes à relire'),
  import_texts: word('Import de relectures (CSV)'),
  setup_admin: word('Premier administrateur créé'),
  create_account: word('Compte créé'),
  disable_account: word('Compte désactivé'),
  enable_account: word('Compte réactivé'),
  change_role: word('Rôle changé'),
  reset_password: word('Mot de passe réinitialisé (lien créé)'),
  set_password: word('Mot de passe choisi (par lien)'),
  claim_report: word('Signalement pris en charge'),
  release_report: word('Signalement rendu'),
  take_over_report: word('Signalement repris par un administrateur'),
  report_priority: word('Priorité de signalement changée'),
  report_note: word('Note ajoutée à un signalement'),
  reveal_callback_number: word('Numéro d’une demande de rappel affiché'),
  export_analytics: word('Export des analyses (CSV)'),
  rollback_flows: word('Version des menus remise en ligne'),
};

/** A label of one of the tables above in the reader's language; the code itself when the table has none. */
const say = (labels: Readonly<Record<string, string>>, code: string): string => (Object.hasOwn(labels, code) ? t(labels[code]!) : code);

export const auditActionLabel = (action: string): string => say(AUDIT_ACTIONS, action);

/** A console role, as people read it. */
export const ROLE_LABELS: Readonly<Record<string, string>> = {
  operator: word('Opérateur'),
  admin: word('Administrateur'),
};
export const roleLabel = (role: string): string => say(ROLE_LABELS, role);

/** A report's status, as an operator reads it. */
export const REPORT_STATUS_LABELS: Readonly<Record<string, string>> = {
  new: word('Nouveau'),
  verifying: word('En vérification'),
  verified: word('Vérifié'),
  dismissed: word('Classé sans suite'),
  escalated: word('Transmis'),
};
export const reportStatusLabel = (status: string): string => say(REPORT_STATUS_LABELS, status);

/** A report's priority in triage (`urgent` first): by hand, or from its incident type (flows/triage.yaml). */
export const PRIORITY_LABELS: Readonly<Record<string, string>> = {
  urgent: word('Urgente'),
  normal: word('Normale'),
  low: word('Basse'),
};
export const priorityLabel = (priority: string | null | undefined): string => (priority ? say(PRIORITY_LABELS, priority) : t('Automatique (selon le type)'));

/** What a line of a report's history records (`report_events.kind`). */
export const REPORT_EVENT_LABELS: Readonly<Record<string, string>> = {
  status: word('Statut changé'),
  note: word('Note'),
  claim: word('Pris en charge'),
  release: word('Rendu'),
  takeover: word('Repris par un administrateur'),
  priority: word('Priorité changée'),
};
export const reportEventLabel = (kind: string): string => say(REPORT_EVENT_LABELS, kind);

/**
 * What a history line changed, in words: `new -> verifying` as « Nouveau →
 * En vérification », a priority `normal -> urgent` as « Normale → Urgente »,
 * the holder an admin took a report from, the end of a claim at a final status.
 */
export function reportEventDetail(event: { kind: string; from_status: string | null; to_status: string | null; detail: string | null }): string {
  if (event.kind === 'status') return `${event.from_status ? `${reportStatusLabel(event.from_status)} → ` : ''}${event.to_status ? reportStatusLabel(event.to_status) : ''}`;
  if (event.kind === 'priority' && event.detail) {
    const [from, to] = event.detail.split(' -> ') as [string, string | undefined];
    const named = (p: string | undefined) => (p === 'auto' || !p ? t('automatique') : priorityLabel(p));
    return `${named(from)} → ${named(to)}`;
  }
  if (event.kind === 'takeover') return event.detail ? t('à {{name}}', { name: event.detail }) : '';
  if (event.kind === 'release' && event.detail === 'final') return t('fin de la prise en charge : statut final');
  if (event.kind === 'release' && event.detail?.startsWith('by:')) return t('par {{name}}', { name: event.detail.slice(3) });
  return '';
}

/** What a report keeps of the caller's number, as the caller chose it on the phone. */
export const REPORT_CONTACT_LABELS: Readonly<Record<string, { short: string; long: string }>> = {
  sms: { short: word('SMS discret'), long: word('SMS discret : le numéro est gardé chiffré, pour le SMS et un rappel') },
  no_sms: { short: word('Pas de SMS'), long: word('Pas de SMS : seul le pseudonyme du numéro est gardé (STATUT depuis ce téléphone)') },
  no_number: { short: word('Sans numéro'), long: word('Sans numéro : ni numéro, ni pseudonyme, ni lien avec l’appel (STATUT depuis n’importe quel téléphone)') },
};
export const reportContactLabel = (contact: string, form: 'short' | 'long' = 'short'): string => {
  const label = REPORT_CONTACT_LABELS[contact]?.[form];
  return label === undefined ? contact : t(label);
};

/** A caller's answer to a choice (an incident type, a region), in the French the caller saw. */
export function answerLabel(flows: CompiledFlows, field: string, value: string | null | undefined): string {
  if (!value) return '';
  const key = flows.choiceLabels.get(field)?.get(value);
  return key ? flows.texts('fr', key) : value;
}

/** The values a choice gives, in the flows' order, with their French labels (for a filter). */
export function answerChoices(flows: CompiledFlows, field: string): { value: string; label: string }[] {
  return [...(flows.choiceLabels.get(field)?.keys() ?? [])].map((value) => ({ value, label: answerLabel(flows, field, value) }));
}

/** How a call ended (`calls.outcome`); `open` is the filter's code for a call still going (null). */
export const CALL_OUTCOME_LABELS: Readonly<Record<string, string>> = {
  completed: word('Terminé'),
  too_many_invalid: word('Arrêté : trop d’erreurs de saisie'),
  abandoned: word('Abandonné'),
  error: word('Erreur technique'),
  open: word('En cours'),
};
export const callOutcomeLabel = (outcome: string | null | undefined): string => say(CALL_OUTCOME_LABELS, outcome ?? 'open');

/** A caller's language. */
export const LANGUAGE_LABELS: Readonly<Record<string, string>> = { fr: word('français'), bm: word('bambara') };
export const languageLabel = (lang: string | null | undefined): string => (lang ? say(LANGUAGE_LABELS, lang) : '');

/** Where an outgoing SMS is (`sms_outbox.status`). */
export const SMS_STATUS_LABELS: Readonly<Record<string, string>> = {
  pending: word('En attente'),
  queued: word('En file'),
  sending: word('Envoi en cours'),
  retrying: word('Nouvel essai prévu'),
  sent: word('Envoyé'),
  failed: word('Échec'),
  opted_out: word('Non envoyé : STOP demandé'),
  dry_run: word('Non envoyé (mode essai)'),
};
export const smsStatusLabel = (status: string): string => say(SMS_STATUS_LABELS, status);

/** What the gateway says of the delivery (Africa's Talking's words, SMPP receipts mapped to them). */
export const DELIVERY_STATUS_LABELS: Readonly<Record<string, string>> = {
  Success: word('Remis au téléphone'),
  Failed: word('Non remis'),
  Rejected: word('Refusé par le réseau'),
  Expired: word('Expiré sans être remis'),
  Sent: word('Parti vers le réseau'),
  Submitted: word('Transmis au réseau'),
  Buffered: word('En attente sur le réseau'),
};
export const deliveryStatusLabel = (status: string | null | undefined): string => (status ? say(DELIVERY_STATUS_LABELS, status) : '');

/** Why an SMS was sent (`sms_outbox.kind`). */
export const SMS_KIND_LABELS: Readonly<Record<string, string>> = {
  followup: word('Confirmation de signalement'),
  status_update: word('Suivi de signalement'),
  reply: word('Réponse à un SMS reçu'),
  optout_ack: word('Confirmation STOP / reprise'),
};
export const smsKindLabel = (kind: string): string => say(SMS_KIND_LABELS, kind);

/** Keywords an inbound SMS is recognised by (`sms_inbound.keyword`), named by a word people text for it (flows/keywords.yaml). */
export const SMS_KEYWORD_LABELS: Readonly<Record<string, string>> = {
  help: word('AIDE'),
  status: word('STATUT'),
  stop: word('STOP'),
  start: word('REPRISE'),
  station: word('BUREAU'),
};
export const smsKeywordLabel = (keyword: string | null | undefined): string => (keyword ? say(SMS_KEYWORD_LABELS, keyword) : '');

/** Technical details an SMS event may carry, as an operator reads them. */
const SMS_EVENT_DETAILS: Readonly<Record<string, string>> = {
  'interrupted during the gateway call': word('interrompu pendant l’appel à la passerelle'),
  DryRun: word('mode essai : rien n’est parti'),
};

/** One line of an SMS's history: `delivery:Success`, `smpp_part_delivery:Failed`, or an outbox status. */
export function smsEventLabel(status: string): string {
  const [head, tail] = status.split(':', 2) as [string, string | undefined];
  if (head === 'delivery' && tail) return t('Accusé de remise : {{status}}', { status: deliveryStatusLabel(tail) });
  if (head === 'smpp_part_delivery' && tail) return t('Accusé d’une partie : {{status}}', { status: deliveryStatusLabel(tail) });
  if (head === 'smpp_part') return t('Partie d’un SMS long envoyée');
  return smsStatusLabel(status);
}
export const smsEventDetail = (detail: string | null | undefined): string => (detail ? say(detail in SMS_KIND_LABELS ? SMS_KIND_LABELS : SMS_EVENT_DETAILS, detail) : '');

/**
 * An SMS template key (`report:sms.report_ack`) as the French message it
 * sends, with the message's values when they are known; the key only if the
 * flows no longer have it.
 */
export function smsTemplateText(flows: CompiledFlows, template: string, vars?: Record<string, string> | null): string {
  const text = flows.texts('fr', template, vars ?? {});
  return text && text !== template ? text : t('Message retiré des menus');
}

/** A title longer than this (an information screen's first line is a paragraph) is cut at a word. */
const TITLE_LENGTH = 48;
function shorten(line: string, max: number): string {
  if (line.length <= max) return line;
  const cut = line.slice(0, max + 1).replace(/\s+\S*$/, '');
  return `${(cut || line.slice(0, max)).replace(/[\s,.;:]+$/, '')}…`;
}

/** Each screen's title per version of the flows; null for a screen the flows no longer have. */
const titles = new WeakMap<CompiledFlows, Map<string, string | null>>();
/**
 * A screen's title, as a caller reads it: the first line of its French text
 * (`vote.menu` → « Comment voter »); « Écran retiré des menus », in the
 * reader's language, if the live flows no longer have the screen. Computed
 * once per version of the flows.
 */
export function screenTitle(flows: CompiledFlows, nodeId: string | null | undefined, render: (nodeId: string) => string | undefined): string {
  if (!nodeId) return '';
  let map = titles.get(flows);
  if (!map) titles.set(flows, (map = new Map()));
  let title = map.get(nodeId);
  if (title === undefined) {
    const text = flows.nodes.has(nodeId) ? render(nodeId) : undefined;
    // Rendered without a caller's answers: a {{value}} still in the text reads as « … ».
    const line = text?.split('\n').find((l) => l.trim())?.trim().replace(/\{\{[^}]*\}\}/g, '…');
    title = line ? shorten(line, TITLE_LENGTH) : null;
    map.set(nodeId, title);
  }
  return title ?? t('Écran retiré des menus');
}

/** A screen's kind in the flows, for the Menus page. */
export const NODE_KIND_LABELS: Readonly<Record<string, string>> = {
  menu: word('Menu'),
  info: word('Information'),
  input: word('Saisie libre'),
  choice: word('Choix'),
  confirm: word('Confirmation'),
  end: word('Fin d’appel'),
  pick: word('Liste à choisir'),
  lookup: word('Recherche'),
  branch: word('Aiguillage'),
};
export const nodeKindLabel = (kind: string): string => say(NODE_KIND_LABELS, kind);

/** The way an SMS left (`sms_outbox.transport`). */
export const SMS_TRANSPORT_LABELS: Readonly<Record<string, string>> = {
  'dry-run': word('mode essai (rien n’est envoyé)'),
  africastalking: 'Africa’s Talking',
  smpp: word('SMPP (opérateur)'),
};
export const smsTransportLabel = (transport: string | null | undefined): string => (transport ? say(SMS_TRANSPORT_LABELS, transport) : '');

/**
 * The flow checker's problems as the Menus page shows them, in the reader's
 * language. The checker and the CLI (`npm run flows`) write English: an
 * English reader gets the checker's own message, a French reader its French
 * here; a message no pattern here knows is shown as the checker wrote it.
 */
const sinceReview = (changed: string | undefined) => (changed ? ` (${changed} modifié(s) depuis la relecture)` : '');
const PROBLEM_MESSAGES: readonly [RegExp, (...m: string[]) => string][] = [
  [/^target "(.+)" does not exist$/, (target) => `la cible "${target}" n’existe pas`],
  [/^node "(.+)" cannot be reached from the entry flow$/, (n) => `l’écran "${n}" n’est accessible depuis aucun menu`],
  [/^dead end: node "(.+)" (has no way forward and no navigation|never leads to an end)$/, (n, why) => `impasse : l’écran "${n}" ${why.startsWith('has') ? 'n’a ni suite ni navigation' : 'ne mène jamais à une fin d’appel'}`],
  [/^text "(.+)" is missing in (.+)$/, (k, f) => `le texte "${k}" manque dans ${f}`],
  [/^text "(.+)" is empty in (.+)$/, (k, f) => `le texte "${k}" est vide dans ${f}`],
  [/^text "(.+)" \((\w+)\) uses unknown variable \{\{(.+)\}\}$/, (k, l, v) => `le texte "${k}" (${l}) utilise une variable inconnue {{${v}}}`],
  [/^YAML: (.+)$/, (e) => `YAML illisible : ${e}`],
  [/^variable (\S+) \((\w+)\) still holds its sample value (.+): set this deployment's own before going live$/, (v, l, s) => `la variable "${v}" (${l}) a encore sa valeur d’exemple ${s} : mettez celle de ce déploiement avant la mise en service`],
  [/^variable (\S+) has no (\w+) value$/, (v, l) => `la variable "${v}" n’a pas de valeur en ${l}`],
  [/^screen "(.+)" \((.+)\) takes (\d+) pages at its longest: the caller presses 98 (\d+) times to read it all$/, (n, l, p, k) => `l’écran "${n}" (${l}) fait jusqu’à ${p} pages : l’appelant tape 98 ${k} fois pour tout lire`],
  [/^SMS (\S+) \((.+)\) takes (\d+) segments in (\S+)$/, (k, l, n, e) => `le SMS "${k}" (${l}) fait ${n} segments en ${e}`],
  // The validator and the review ledger name the language as callers see it (flows/languages.yaml: « Bamanankan », « Qaa »).
  [/^(\d+) of (\d+) (.+) texts await a native speaker's review(?: \((\d+) changed since signed off\))?$/, (a, b, name, changed) => `${a} textes en ${name} sur ${b} attendent la relecture d’un locuteur${sinceReview(changed)}`],
  [/^(\d+) of (\d+) variables \((.+) values\) await a native speaker's review(?: \((\d+) changed since signed off\))?$/, (a, b, name, changed) => `${a} variables sur ${b} (valeurs en ${name}) attendent la relecture d’un locuteur${sinceReview(changed)}`],
  [/^(\d+) of (\d+) SMS keyword lists \((.+)\) await a native speaker's review(?: \((\d+) changed since signed off\))?$/, (a, b, name, changed) => `${a} listes de mots-clés SMS sur ${b} attendent la relecture d’un locuteur (en ${name})${sinceReview(changed)}`],
  [/^the options of "(.+)" \((.+)\) leave no room for its text on their page: the caller reads it on the page before, then presses 98 \(shorten the options or the text\)$/, (n, l) => `les choix de "${n}" (${l}) ne laissent pas de place à son texte sur leur page : l’appelant le lit à la page d’avant, puis tape 98 (raccourcissez les choix ou le texte)`],
  [/^a wrong key on page (\d+) of "(.+)" \((.+)\) shows the notice without (.+): the options fill the page \(shorten them\)$/, (p, n, l, o) => `une touche fausse à la page ${p} de "${n}" (${l}) affiche l’avertissement sans ${o} : les choix remplissent la page (raccourcissez-les)`],
  [/^screen of "(.+)" \((.+)\) has a line too long for one screen$/, (n, l) => `l’écran "${n}" (${l}) a une ligne trop longue pour un écran`],
  [/^unused texts: (.+)$/, (list) => `textes inutilisés : ${list}`],
  // The missing ones are listed by `npm run flows:check`; the page says how many.
  [/^(\d+) of (\d+) voice prompts recorded in (.+?) \(missing .*\)$/, (a, b, name) => `ligne vocale : ${a} messages enregistrés en ${name} sur ${b} (les autres : npm run flows:check)`],
  [/^triage: (urgent|low) "(.+)" is not an incident type of the flows \((.*)\)$/, (list, code, known) => `tri : le type "${code}" (${list === 'urgent' ? 'urgents' : 'peu urgents'}) n’est pas un type d’incident des menus (types : ${known})`],
  [/^triage: "(.+)" is listed twice \((\w+) and (\w+)\)$/, (code) => `tri : le type "${code}" est dans deux listes`],
];
const SPELLING_WORDS: readonly [RegExp, string][] = [
  [/\bstandard spelling\b/g, 'orthographe standard'],
  [/\bgsm7 spelling\b/g, 'orthographe GSM-7'],
  [/\(bm, standard\)/g, '(bm, orthographe standard)'],
  [/\(bm, gsm7\)/g, '(bm, orthographe GSM-7)'],
];
export function problemMessage(message: string): string {
  if (language() === 'en') return message;
  for (const [pattern, say] of PROBLEM_MESSAGES) {
    const m = pattern.exec(message);
    if (m) return SPELLING_WORDS.reduce((text, [from, to]) => text.replace(from, to), say(...m.slice(1)));
  }
  return message;
}

/**
 * A text cut where it names a code (a quoted node id or text key, `ns:key`,
 * `{{variable}}`), so that a page shows each code in a `<code>` element.
 */
export function codeSegments(text: string): { text: string; code: boolean }[] {
  const out: { text: string; code: boolean }[] = [];
  let last = 0;
  for (const m of text.matchAll(/"[^"\n]+"|\{\{[^}]+\}\}|\b[a-z_]+:[\w.:]+\b/g)) {
    if (m.index > last) out.push({ text: text.slice(last, m.index), code: false });
    out.push({ text: m[0].replace(/^"|"$/g, ''), code: true });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last), code: false });
  return out;
}

/**
 * What the processes write as a version's author and note (src/context.ts,
 * src/content/live-content.ts), in French in the database: shown in the
 * reader's language. An admin's own name and note show as typed.
 */
const PROCESS_WORDS = new Set([word('fichiers au démarrage'), word('import des fichiers flows/ et locales/'), word('fichiers modifiés pendant l’arrêt')]);
export const byProcess = (text: string | null): string => (text && PROCESS_WORDS.has(text) ? t(text) : (text ?? ''));
