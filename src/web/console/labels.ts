/**
 * Words the console shows for the codes it stores: an operator reads French,
 * never `reveal_number`.
 */

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
};

export const auditActionLabel = (action: string): string => AUDIT_ACTIONS[action] ?? action;
