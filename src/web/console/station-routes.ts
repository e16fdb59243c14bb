/**
 * The console's polling stations (admins only): the list in service, the
 * upload of a CSV file, and its import's progress. The upload is the raw
 * request body (the page's script sends the file with fetch, the CSRF token
 * in `x-csrf-token`): the role and the token are checked before a byte is
 * read, the body is streamed into PostgreSQL (capped), and the worker role
 * imports it off the request path (src/queue/station-import-processor.ts).
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AppContext } from '../../context.js';
import { countVoters, stationSummary } from '../../stations/station-store.js';
import { createImport, failImport, getImport, listImports, markQueued, storeUpload, UploadAbandonedError, UploadTooLargeError, type StationImportRow } from '../../stations/import-store.js';
import { doneMessage, failedMessage, kindLabel, problemLine, statusLabel, type ImportWords } from '../../stations/import-text.js';
import type { ImportSummary } from '../../stations/station-import.js';
import type { StationImportProgress } from '../../queue/station-import-queue.js';
import { requireRole, verifyCsrf, type ConsoleLocals } from './console-auth.js';
import { language, locale, t } from './console-i18n.js';
import { fmt, page } from './page.js';


/** A whole country's voters file is tens of MB; past this, the upload is refused. */
export const MAX_UPLOAD_MB = 100;
const MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024;
/** Uploads one process receives at once (each holds a chunk in memory and a database connection now and then). */
const MAX_UPLOADS_AT_ONCE = 2;
/** Recent imports on the page. */
const RECENT_IMPORTS = 10;

/** Form bodies are what the page sends without its script: the file is not in them. */
const FORM_TYPES = new Set(['multipart/form-data', 'application/x-www-form-urlencoded']);

export interface ImportView {
  id: string;
  status: StationImportRow['status'];
  statusLabel: string;
  finished: boolean;
  kindLabel: string;
  rows: number;
  rowsLabel: string;
  message: string;
  problems: string[];
  /** each problem: where (row, column), in the reader's language, and what, as the checks say it */
  problemParts: { at: string; reason: string }[];
  who: string;
  createdAt: string;
  updatedAt: string;
}

/** An import as the page and its script show it: words, never stored codes. */
export function importView(row: StationImportRow, progress?: StationImportProgress): ImportView {
  const kind = row.kind ?? progress?.kind;
  const rows = row.status === 'running' ? Math.max(row.rows_done, progress?.rows ?? 0) : row.rows_done;
  const message = (() => {
    switch (row.status) {
      case 'receiving':
        return t('Réception du fichier…');
      case 'queued':
        return row.attempts > 0 ? t('En attente d’un nouvel essai.') : t('En attente du traitement.');
      case 'running':
        return rows ? t('En cours : {{rows}} lignes lues.', { rows: rows.toLocaleString(locale()) }) : t('En cours.');
      case 'done':
        return doneMessage(row.summary as unknown as ImportSummary, row.replace, importWords());
      default:
        return failedMessage(row.failure, { problemCount: row.problem_count, listed: row.problems?.length ?? 0, attempts: row.attempts, maxUploadMb: MAX_UPLOAD_MB }, importWords());
    }
  })();
  return {
    id: row.id,
    status: row.status,
    statusLabel: statusLabel(row.status, importWords()),
    finished: row.status === 'done' || row.status === 'failed',
    kindLabel: kind ? kindLabel(kind, importWords()) : '—',
    rows,
    rowsLabel: rows || row.status === 'done' ? rows.toLocaleString(locale()) : '—',
    message: `${message}${row.replace && row.status !== 'done' && row.status !== 'failed' ? ` ${t('Remplace toute la liste.')}` : ''}`,
    problems: (row.problems ?? []).map((p) => problemLine(p, importWords())),
    // For the page: where, in the reader's language; what is wrong, as the file's checks say it (in French).
    problemParts: (row.problems ?? []).map((p) => ({ at: problemLine({ ...p, reason: '' }, importWords()), reason: p.reason })),
    who: row.user_name ?? '—',
    createdAt: fmt(row.created_at),
    updatedAt: fmt(row.updated_at),
  };
}

export function createStationRoutes(ctx: AppContext): Router {
  const router = express.Router();
  const { db } = ctx;
  const admin = requireRole('admin');
  const user = (res: Response) => (res.locals as ConsoleLocals).session!.user;
  let uploading = 0;

  const viewOf = async (row: StationImportRow) => importView(row, row.status === 'running' ? await ctx.stationImports.progress(row.id) : undefined);

  router.get('/stations', admin, async (_req, res) => {
    const imports = await Promise.all((await listImports(db, RECENT_IMPORTS)).map(viewOf));
    page(res, 'stations', t('Bureaux de vote'), 'stations', {
      summary: await stationSummary(db),
      voters: await countVoters(db),
      imports,
      latest: imports[0] ?? null,
      maxUploadMb: MAX_UPLOAD_MB,
    });
  });

  router.get('/stations/imports/:id', admin, async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const row = /^\d{1,18}$/.test(id) ? await getImport(db, id) : undefined;
    if (!row) return void res.status(404).json({ error: t('Import introuvable.') });
    res.json(await viewOf(row));
  });

  // A form posted without the page's script (no file in it, and no token the server could read before the body): the browser shows this text.
  const noForms = (req: Request, res: Response, next: NextFunction) => {
    const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (FORM_TYPES.has(type)) return void res.status(415).type('text/plain').send(t('Le fichier n’a pas été envoyé : la page Bureaux de vote a besoin de JavaScript pour l’envoyer.'));
    next();
  };

  // The role and the CSRF token are checked before the body is read: only admins get to send megabytes.
  router.post('/stations/import', admin, noForms, verifyCsrf, async (req: Request, res: Response) => {
    const refuse = (status: number, error: string) => void res.status(status).set('Connection', 'close').json({ error });
    const encoding = (req.get('content-encoding') ?? 'identity').toLowerCase();
    if (encoding !== 'identity') return refuse(415, t('Envoyez le fichier sans compression.'));
    const declared = Number(req.get('content-length') ?? 0);
    const tooLarge = t('Fichier trop gros : {{mb}} Mo au plus.', { mb: MAX_UPLOAD_MB });
    if (declared > MAX_UPLOAD_BYTES) return refuse(413, tooLarge);
    if (uploading >= MAX_UPLOADS_AT_ONCE) return refuse(429, t('Un autre envoi est en cours : réessayez dans un moment.'));
    uploading += 1;
    try {
      const id = await createImport(db, user(res), req.query.replace === '1');
      let bytes: number;
      try {
        bytes = await storeUpload(db, id, req, MAX_UPLOAD_BYTES);
      } catch (err) {
        await failImport(db, id, err instanceof UploadTooLargeError ? 'too_large' : 'interrupted').catch(() => undefined);
        if (err instanceof UploadTooLargeError) {
          // Not worth reading the rest: the connection closes once the answer is out.
          res.once('finish', () => req.socket.destroy());
          return refuse(413, tooLarge);
        }
        if (err instanceof UploadAbandonedError) return refuse(409, t('L’envoi a été interrompu trop longtemps : renvoyez le fichier.'));
        if (req.destroyed || req.readableAborted) return; // the browser went away: nobody to answer
        throw err;
      }
      await markQueued(db, id, bytes);
      // Redis away: the import stays queued, and the worker's relay queues it.
      await ctx.stationImports.enqueue(id).catch((err: unknown) => ctx.logger.warn({ subsystem: 'stations.queue', import: id, err: (err as Error).message }, 'import not queued yet: the relay will'));
      res.status(202).json(importView((await getImport(db, id))!));
    } finally {
      uploading -= 1;
    }
  });

  return router;
}

/** An import's words in the reader's language (French: 0 and 1 take the singular; English: only 1). */
const importWords = (): ImportWords => ({
  t,
  one: (n) => (language() === 'en' ? n === 1 : Math.abs(n) < 2),
  number: (n) => n.toLocaleString(locale()),
});
