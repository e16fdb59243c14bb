/**
 * Runs one console import: a plain function of the job. It streams the
 * stored file out of PostgreSQL into the importer, in the import's own
 * transaction; the outcome, the audit row and the deletion of the file
 * commit with the data. A file with bad rows is failed with its problems and
 * not retried (UnrecoverableError); a technical failure (database away) is
 * retried with backoff, and failed after the last attempt; an import that
 * waits for another one is put back, without spending an attempt.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import { audit, type User } from '../store/user-store.js';
import { claimImport, failImport, finishImport, readChunks, requeueImport } from '../stations/import-store.js';
import { count, describeSummary } from '../stations/import-text.js';
import { importStationsCsv, ImportBusyError, ImportError, type FileKind } from '../stations/station-import.js';
import type { StationImportJobData, StationImportProgress } from './station-import-queue.js';

export interface StationImportProcessorDeps {
  db: Db;
  /** PHONE_HASH_KEY: NINA numbers become its keyed HMAC */
  ninaKey: string;
  logger: Logger;
  /** how long an import waits when another one holds the lock (default 5 s) */
  busyRetryMs?: number;
  /** least time between two progress reports (default 1 s) */
  progressEveryMs?: number;
}

export type StationImportResult = 'done' | 'skipped';

/** A reason fit for the log: the CSV parser's messages quote values (maybe a NINA), its codes do not. */
function loggable(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e.code === 'string' && /^(CSV_|INVALID_)/.test(e.code)) return e.code;
  return String(e.message ?? err);
}

export function createStationImportProcessor(deps: StationImportProcessorDeps) {
  const log = deps.logger.child({ subsystem: 'stations.import' });
  return async function processStationImport(job: Job<StationImportJobData>, token?: string): Promise<StationImportResult> {
    const id = String(job.data.importId);
    const claimed = await claimImport(deps.db, id);
    if (!claimed) return 'skipped'; // ended already
    const who: User | undefined = claimed.user_id ? { id: claimed.user_id, name: claimed.user_name ?? '', role: 'admin' } : undefined;
    let reported = 0;
    const onProgress = (progress: StationImportProgress) => {
      const now = Date.now();
      if (now - reported < (deps.progressEveryMs ?? 1000)) return;
      reported = now;
      job.updateProgress(progress).catch(() => undefined); // Redis away: the page shows no count for a while
    };
    const started = performance.now();
    try {
      const summary = await importStationsCsv(deps.db, (trx) => readChunks(trx, id), {
        replace: claimed.replace,
        key: deps.ninaKey,
        onProgress,
        beforeCommit: async (trx, done) => {
          await finishImport(trx, id, done);
          const { what, gone } = describeSummary(done, claimed.replace);
          await audit(trx, who, 'import_stations', done.kind, `${what}${gone ? `, ${gone}` : ''}`);
        },
      });
      log.info({ import: id, kind: summary.kind, rows: summary.rows, ms: Math.round(performance.now() - started) }, 'import done');
      return 'done';
    } catch (err) {
      if (err instanceof ImportError) {
        await failImport(deps.db, id, 'rejected', { problems: err.problems, total: err.total, kind: err.kind, rows: err.rows });
        const kind: FileKind | 'unknown' = err.kind ?? 'unknown';
        await audit(deps.db, who, 'import_stations', kind, `refusé : ${count(err.total, 'problème', 'problèmes')}, rien n’a été importé`);
        log.info({ import: id, kind, problems: err.total }, 'import refused: the file has problems');
        throw new UnrecoverableError(err.message);
      }
      if (err instanceof ImportBusyError) {
        await requeueImport(deps.db, id, true);
        log.info({ import: id }, 'another import is running: this one waits');
        if (token) {
          await job.moveToDelayed(Date.now() + (deps.busyRetryMs ?? 5000), token);
          throw new DelayedError();
        }
        throw err;
      }
      const attempt = job.attemptsMade + 1;
      const last = attempt >= (job.opts.attempts ?? 1);
      log.warn({ import: id, attempt, err: loggable(err) }, last ? 'import failed after its last attempt' : 'import failed: will be retried');
      if (last) {
        await failImport(deps.db, id, 'technical');
        throw new UnrecoverableError(loggable(err));
      }
      await requeueImport(deps.db, id).catch(() => undefined);
      throw new Error(loggable(err));
    }
  };
}
