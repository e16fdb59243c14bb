/**
 * The station-import worker: a BullMQ worker running one import at a time,
 * and a relay that queues imports the web process could not (Redis down when
 * the upload ended, a job lost with Redis's data), fails uploads cut off by
 * a dead web process, and deletes any file an ended import left behind.
 * The relay runs at start, then every `relayEveryMs`.
 */
import { Worker, type ConnectionOptions } from 'bullmq';
import { staleQueuedImports, sweepImports } from '../stations/import-store.js';
import { createStationImportProcessor, type StationImportProcessorDeps } from './station-import-processor.js';
import { STATION_IMPORT_QUEUE, type StationImportJobData, type StationImportQueue } from './station-import-queue.js';

export interface StationImportWorkerOptions extends StationImportProcessorDeps {
  connection: ConnectionOptions;
  prefix?: string;
  queue: StationImportQueue;
  /** how often the relay runs (default 5 s) */
  relayEveryMs?: number;
  /** an import queued longer than this without being taken is queued again (default 10 s) */
  pendingAfterMs?: number;
  /** an upload still `receiving` after this long was cut off (default 1 hour) */
  receivingTimeoutMs?: number;
}

export interface StationImportWorker {
  readonly worker: Worker<StationImportJobData>;
  /** one relay pass, for tests: resolves the number of imports queued */
  relay(): Promise<number>;
  /** Stops taking imports, and waits for the one running. */
  close(): Promise<void>;
}

export function startStationImportWorker(options: StationImportWorkerOptions): StationImportWorker {
  const log = options.logger.child({ subsystem: 'stations.import' });
  const worker = new Worker<StationImportJobData>(STATION_IMPORT_QUEUE, createStationImportProcessor(options), {
    connection: options.connection,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    // One at a time: imports take the same lock anyway, and each holds a database connection.
    concurrency: 1,
    lockDuration: 60_000,
  });
  worker.on('error', (err) => log.warn({ err: err.message }, 'worker error'));

  const relay = async (): Promise<number> => {
    const cut = await sweepImports(options.db, options.receivingTimeoutMs ?? 3600_000);
    if (cut) log.warn({ count: cut }, 'uploads cut off before their end: failed');
    const ids = await staleQueuedImports(options.db, options.pendingAfterMs ?? 10_000);
    for (const id of ids) await options.queue.requeue(id);
    return ids.length;
  };
  let running = false;
  const pass = () => {
    if (running) return;
    running = true;
    relay()
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'import relay pass failed; will retry'))
      .finally(() => {
        running = false;
      });
  };
  pass();
  const timer = setInterval(pass, options.relayEveryMs ?? 5000);
  timer.unref();

  return {
    worker,
    relay,
    async close() {
      clearInterval(timer);
      await worker.close();
    },
  };
}
