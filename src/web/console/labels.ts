/**
 * Words the console shows for the codes it stores: an operator reads French,
 * never `reveal_number`.
 */
import type { CompiledFlows } from '../../engine/types.js';

/** Every action the audit log records, as an admin reads it. */
export const AUDIT_ACTIONS: Readonly<Record<string, string>> = {
  login: 'Connexion',
  login_failed: 'Connexion refusée (mot de passe)',
  reveal_number: 'Numéro affiché',
  view_report: 'Signalement consulté',
  view_call: 'Appel consulté',
  report_status: 'Statut de signalement changé',
  export_calls: 'Export des appels',
  export_reports: 'Export des signalements',
  publish_flows: 'Menus publiés',
  reload_flows: 'Menus vérifiés',
  import_stations: 'Import de bureaux de vote',
  rotate_keys: 'Clés de chiffrement changées',
  review_text: 'Texte bambara relu',
  edit_text: 'Texte bambara modifié',
  export_texts: 'Export des textes à relire',
  import_texts: 'Import de relectures (CSV)',
  setup_admin: 'Premier administrateur créé',
  create_account: 'Compte créé',
  disable_account: 'Compte désactivé',
  enable_account: 'Compte réactivé',
  change_role: 'Rôle changé',
  reset_password: 'Mot de passe réinitialisé (lien créé)',
  set_password: 'Mot de passe choisi (par lien)',
};

export const auditActionLabel = (action: string): string => AUDIT_ACTIONS[action] ?? action;

/** A console role, as people read it. */
export const ROLE_LABELS: Readonly<Record<string, string>> = {
  operator: 'Opérateur',
  admin: 'Administrateur',
};
export const roleLabel = (role: string): string => ROLE_LABELS[role] ?? role;

/** A report's status, as an operator reads it. */
export const REPORT_STATUS_LABELS: Readonly<Record<string, string>> = {
  new: 'Nouveau',
  verifying: 'En vérification',
  verified: 'Vérifié',
  dismissed: 'Classé sans suite',
  escalated: 'Transmis',
};
export const reportStatusLabel = (status: string): string => REPORT_STATUS_LABELS[status] ?? status;

/** What a report keeps of the caller's number, as the caller chose it on the phone. */
export const REPORT_CONTACT_LABELS: Readonly<Record<string, { short: string; long: string }>> = {
  sms: { short: 'SMS discret', long: 'SMS discret : le numéro est gardé chiffré, pour le SMS et un rappel' },
  no_sms: { short: 'Pas de SMS', long: 'Pas de SMS : seul le pseudonyme du numéro est gardé (STATUT depuis ce téléphone)' },
  no_number: { short: 'Sans numéro', long: 'Sans numéro : ni numéro, ni pseudonyme, ni lien avec l’appel (STATUT depuis n’importe quel téléphone)' },
};
export const reportContactLabel = (contact: string, form: 'short' | 'long' = 'short'): string => REPORT_CONTACT_LABELS[contact]?.[form] ?? contact;

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
