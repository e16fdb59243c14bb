/**
 * An import as operators read it in the console (in their language) and as
 * the audit log keeps it (in French): its status, its outcome, its problems.
 * No stored code is shown as it is.
 *
 * The words come through an {@link ImportWords}: French as written here by
 * default; the console passes its own translator (src/web/console/console-i18n.ts),
 * whose catalogue test reads the texts given to `w.t` here too. What the checks of a
 * file say about a line (`valeur manquante`) is the parser's, in French.
 */
import type { FileKind, ImportProblem } from './import-problems.js';
import type { ImportFailure, ImportStatus } from './import-store.js';
import type { ImportSummary } from './station-import.js';

export interface ImportWords {
  /** a French text in the reader's language, `{{name}}` filled */
  t(text: string, values?: Record<string, unknown>): string;
  /** whether `n` takes the singular (French: 0 and 1; English: 1) */
  one(n: number): boolean;
  /** a number as the reader writes it (`12 000`, `12,000`) */
  number(n: number): string;
}

const frenchNumber = new Intl.NumberFormat('fr');

/** The audit log's words, and the console's in French. */
export const FRENCH: ImportWords = {
  t: (text, values = {}) => text.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole)),
  one: (n) => Math.abs(n) < 2,
  number: (n) => frenchNumber.format(n),
};

export function statusLabel(status: ImportStatus, w: ImportWords = FRENCH): string {
  const labels: Record<ImportStatus, string> = {
    receiving: w.t('en réception'),
    queued: w.t('en attente'),
    running: w.t('en cours'),
    done: w.t('terminé'),
    failed: w.t('échoué'),
  };
  return labels[status] ?? status;
}

export function kindLabel(kind: FileKind, w: ImportWords = FRENCH): string {
  return kind === 'stations' ? w.t('bureaux de vote') : w.t('électeurs');
}

/** `1 centre`, `0 centre`, `12 000 centres` (French: 0 and 1 take the singular). */
export function count(n: number, singular: string, plural: string, w: ImportWords = FRENCH): string {
  return `${w.number(n)} ${w.one(n) ? singular : plural}`;
}

/** What was imported, and what `replace` removed: `4 centres, 7 bureaux`, `1 centre supprimé (et 2 électeurs rattachés)`. */
export function describeSummary(summary: ImportSummary, replace: boolean, w: ImportWords = FRENCH): { what: string; gone: string | undefined } {
  if (summary.kind === 'stations') {
    const removedVoters = count(summary.votersRemoved ?? 0, w.t('électeur rattaché'), w.t('électeurs rattachés'), w);
    return {
      what: `${count(summary.centres ?? 0, w.t('centre'), w.t('centres'), w)}, ${count(summary.stations ?? 0, w.t('bureau'), w.t('bureaux'), w)}`,
      gone: replace ? w.t('{{removed}} (et {{voters}})', { removed: count(summary.removed, w.t('centre supprimé'), w.t('centres supprimés'), w), voters: removedVoters }) : undefined,
    };
  }
  return {
    what: count(summary.voters ?? 0, w.t('électeur'), w.t('électeurs'), w),
    gone: replace ? count(summary.removed, w.t('électeur supprimé'), w.t('électeurs supprimés'), w) : undefined,
  };
}

/** The line under a done import: `Importé : 4 centres, 7 bureaux (7 lignes).` */
export function doneMessage(summary: ImportSummary, replace: boolean, w: ImportWords = FRENCH): string {
  const { what, gone } = describeSummary(summary, replace, w);
  const rows = count(summary.rows, w.t('ligne'), w.t('lignes'), w);
  const changed =
    summary.kind === 'voters'
      ? summary.changed
        ? w.t(' ; {{changed}}', { changed: count(summary.changed, w.t('ajouté ou déplacé'), w.t('ajoutés ou déplacés'), w) })
        : w.t(' ; aucun changement')
      : '';
  return w.t('Importé : {{what}} ({{rows}}){{changed}}{{gone}}.', { what, rows, changed, gone: gone ? w.t(' ; {{gone}}', { gone }) : '' });
}

export function failedMessage(failure: ImportFailure | null, details: { problemCount: number; listed: number; attempts: number; maxUploadMb: number }, w: ImportWords = FRENCH): string {
  switch (failure) {
    case 'rejected': {
      const problems = count(details.problemCount, w.t('problème'), w.t('problèmes'), w);
      return details.problemCount > details.listed
        ? w.t('Refusé : {{problems}} (les {{listed}} premiers ci-dessous), rien n’a été importé.', { problems, listed: w.number(details.listed) })
        : w.t('Refusé : {{problems}}, rien n’a été importé.', { problems });
    }
    case 'too_large':
      return w.t('Refusé : fichier trop gros ({{mb}} Mo au plus), rien n’a été importé.', { mb: details.maxUploadMb });
    case 'interrupted':
      return w.t('Envoi interrompu : rien n’a été importé. Envoyez le fichier à nouveau.');
    default:
      return details.attempts > 1
        ? w.t('Échec technique après {{attempts}} essais : rien n’a été importé. Réessayez ; si cela se répète, consultez le journal du serveur.', { attempts: details.attempts })
        : w.t('Échec technique : rien n’a été importé. Réessayez ; si cela se répète, consultez le journal du serveur.');
  }
}

/** `ligne 2, centre : valeur manquante`; a problem of the whole list has no line. */
export function problemLine(p: ImportProblem, w: ImportWords = FRENCH): string {
  if (p.row <= 0) return p.column ? w.t('{{column}} : {{reason}}', { column: p.column, reason: p.reason }) : p.reason;
  return p.column ? w.t('ligne {{row}}, {{column}} : {{reason}}', { row: p.row, column: p.column, reason: p.reason }) : w.t('ligne {{row}} : {{reason}}', { row: p.row, reason: p.reason });
}

export const formatCount = (n: number, w: ImportWords = FRENCH): string => w.number(n);
