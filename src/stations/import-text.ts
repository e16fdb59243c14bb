/**
 * An import as French-speaking operators read it in the console: its status,
 * its outcome, its problems. No stored code is shown as it is.
 */
import type { FileKind, ImportProblem } from './import-problems.js';
import type { ImportFailure, ImportStatus } from './import-store.js';
import type { ImportSummary } from './station-import.js';

export const STATUS_LABELS: Readonly<Record<ImportStatus, string>> = {
  receiving: 'en réception',
  queued: 'en attente',
  running: 'en cours',
  done: 'terminé',
  failed: 'échoué',
};

export const KIND_LABELS: Readonly<Record<FileKind, string>> = {
  stations: 'bureaux de vote',
  voters: 'électeurs',
};

const numberFormat = new Intl.NumberFormat('fr');

/** `1 centre`, `0 centre`, `12 000 centres` (French: 0 and 1 take the singular). */
export function count(n: number, singular: string, plural: string): string {
  return `${numberFormat.format(n)} ${Math.abs(n) < 2 ? singular : plural}`;
}

/** What was imported, and what `replace` removed: `4 centres, 7 bureaux`, `1 centre supprimé (et 2 électeurs rattachés)`. */
export function describeSummary(summary: ImportSummary, replace: boolean): { what: string; gone: string | undefined } {
  if (summary.kind === 'stations') {
    return {
      what: `${count(summary.centres ?? 0, 'centre', 'centres')}, ${count(summary.stations ?? 0, 'bureau', 'bureaux')}`,
      gone: replace ? `${count(summary.removed, 'centre supprimé', 'centres supprimés')} (et ${count(summary.votersRemoved ?? 0, 'électeur rattaché', 'électeurs rattachés')})` : undefined,
    };
  }
  return {
    what: count(summary.voters ?? 0, 'électeur', 'électeurs'),
    gone: replace ? count(summary.removed, 'électeur supprimé', 'électeurs supprimés') : undefined,
  };
}

/** The line under a done import: `Importé : 4 centres, 7 bureaux (7 lignes).` */
export function doneMessage(summary: ImportSummary, replace: boolean): string {
  const { what, gone } = describeSummary(summary, replace);
  const changed = summary.kind === 'voters' ? (summary.changed ? ` ; ${count(summary.changed, 'ajouté ou déplacé', 'ajoutés ou déplacés')}` : ' ; aucun changement') : '';
  return `Importé : ${what} (${count(summary.rows, 'ligne', 'lignes')})${changed}${gone ? ` ; ${gone}` : ''}.`;
}

export function failedMessage(failure: ImportFailure | null, details: { problemCount: number; listed: number; attempts: number; maxUploadMb: number }): string {
  switch (failure) {
    case 'rejected': {
      const more = details.problemCount > details.listed ? ` (les ${numberFormat.format(details.listed)} premiers ci-dessous)` : '';
      return `Refusé : ${count(details.problemCount, 'problème', 'problèmes')}${more}, rien n’a été importé.`;
    }
    case 'too_large':
      return `Refusé : fichier trop gros (${details.maxUploadMb} Mo au plus), rien n’a été importé.`;
    case 'interrupted':
      return 'Envoi interrompu : rien n’a été importé. Envoyez le fichier à nouveau.';
    default:
      return `Échec technique${details.attempts > 1 ? ` après ${details.attempts} essais` : ''} : rien n’a été importé. Réessayez ; si cela se répète, consultez le journal du serveur.`;
  }
}

/** `ligne 2, centre : valeur manquante`; a problem of the whole list has no line. */
export function problemLine(p: ImportProblem): string {
  const column = p.column ? `${p.column} : ` : '';
  return p.row > 0 ? `ligne ${p.row}${p.column ? `, ${p.column}` : ''} : ${p.reason}` : `${column}${p.reason}`;
}

export const formatCount = (n: number): string => numberFormat.format(n);
