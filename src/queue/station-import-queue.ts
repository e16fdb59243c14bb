/**
 * The station-import queue (BullMQ). A job carries only the import's id: the
 * file itself travels through PostgreSQL (station_import_chunks), so the web
 * and the worker may be different machines. One job per import, while it exists.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Logger } from '../logger.js';

export const STATION_IMPORT_QUEUE = 'station-import';

export interface StationImportJobData {
  importId: string;
}

/** Progress as the worker reports it (BullMQ job progress, in Redis). */
export interface StationImportProgress {
  rows: number;
  kind?: 'stations' | 'voters';
}

export interface StationImportQueueOptions {
  connection: ConnectionOptions;
  /** Redis key prefix (default `bull`) */
  prefix?: string;
  /** runs before an import that keeps failing for technical reasons is marked failed (default 5) */
  attempts?: number;
  /** first retry delay in ms, doubled each time (default 10 s) */
  backoffMs?: number;
}

export function stationImportJobOptions(options: Pick<StationImportQueueOptions, 'attempts' | 'backoffMs'>): JobsOptions {
  return {
    attempts: options.attempts ?? 5,
    backoff: { type: 'exponential', delay: options.backoffMs ?? 10_000 },
    removeOnComplete: { age: 24 * 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** `import-<id>`: BullMQ job ids must not contain `:` nor be all digits. */
export const stationImportJobId = (importId: string) => `import-${importId}`;

export interface StationImportQueue {
  readonly queue: Queue<StationImportJobData>;
  /** Queues an import. Throws when Redis is unreachable: the worker's relay queues it later. */
  enqueue(importId: string): Promise<void>;
  /** Queues again an import whose job ended without it (its outcome was not recorded). */
  requeue(importId: string): Promise<void>;
  /** What the worker last reported, if Redis answers. */
  progress(importId: string): Promise<StationImportProgress | undefined>;
  close(): Promise<void>;
}

export function createStationImportQueue(options: StationImportQueueOptions, logger: Logger): StationImportQueue {
  const queue = new Queue<StationImportJobData>(STATION_IMPORT_QUEUE, {
    connection: options.connection,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    defaultJobOptions: stationImportJobOptions(options),
  });
  queue.on('error', (err) => logger.warn({ subsystem: 'stations.queue', err: err.message }, 'queue error'));
  const enqueue = async (importId: string) => {
    await queue.add('import', { importId }, { jobId: stationImportJobId(importId) });
  };
  return {
    queue,
    enqueue,
    async requeue(importId) {
      const job = await queue.getJob(stationImportJobId(importId));
      if (job && ((await job.isCompleted()) || (await job.isFailed()))) await job.remove();
      await enqueue(importId);
    },
    async progress(importId) {
      try {
        const job = await queue.getJob(stationImportJobId(importId));
        const p = job?.progress;
        return p && typeof p === 'object' && typeof (p as StationImportProgress).rows === 'number' ? (p as StationImportProgress) : undefined;
      } catch {
        return undefined; // Redis away: the page shows the status without the count
      }
    },
    close: () => queue.close(),
  };
}
