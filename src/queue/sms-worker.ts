/**
 * The SMS worker: a BullMQ worker running the processor, and the outbox
 * relay that queues messages the web process could not (Redis down, a crash
 * between commit and enqueue) and settles messages left mid-send by a dead
 * worker.
 */
import { Worker, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import { failStaleSending, forgetOldNumbers, pendingSmsIds, queuedSmsIdsSince } from '../store/sms-store.js';
import { createSmsProcessor, type SmsProcessorDeps } from './sms-processor.js';
import { SMS_QUEUE, smsJobId, type SmsJobData, type SmsQueue } from './sms-queue.js';

export interface SmsWorkerOptions extends SmsProcessorDeps {
  connection: ConnectionOptions;
  prefix?: string;
  queue: SmsQueue;
  concurrency?: number;
  /** how often the relay looks for pending messages (default 5 s) */
  relayEveryMs?: number;
  /** a message pending longer than this is queued by the relay (default 3 s) */
  pendingAfterMs?: number;
  /** a message in `sending` longer than this is marked failed (default 2 min) */
  staleSendingMs?: number;
  /** a message `queued`/`retrying` this long without news lost its job: queued again (default 15 min) */
  lostJobAfterMs?: number;
  /** after Redis comes back (a restart, a failover), messages queued this long before are checked for their job (default 60 s) */
  lostJobWindowMs?: number;
  /** encrypted numbers older than this are deleted (default 30 days) */
  retentionDays?: number;
}

export interface SmsWorker {
  readonly worker: Worker<SmsJobData>;
  /** one relay pass, for tests and shutdown */
  relay(): Promise<number>;
  /** looks up the jobs of messages queued from shortly before `since` on; queues the missing ones again; resolves how many */
  requeueLostJobs(since: number): Promise<number>;
  close(): Promise<void>;
}

export function startSmsWorker(options: SmsWorkerOptions): SmsWorker {
  const log = options.logger.child({ subsystem: 'sms.worker' });
  const worker = new Worker<SmsJobData>(SMS_QUEUE, createSmsProcessor(options), {
    connection: options.connection,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    concurrency: options.concurrency ?? 8,
    // A send that outlives the lock would be taken for stalled and run again (and skipped): keep it long.
    lockDuration: 60_000,
  });
  worker.on('error', (err) => log.warn({ err: err.message }, 'worker error'));
  worker.on('failed', (job, err) => {
    if (job) log.info({ message: job.data.messageId, attempt: job.attemptsMade, reason: err.message }, 'SMS job failed');
  });

  // A Redis that comes back may not have every job it took: a restart without the last writes on disk, or a
  // replica promoted before it had them. The messages queued just before are looked up, and a missing job is queued again.
  let reconnectedAt: number | undefined;
  if (options.connection instanceof Redis) {
    let seenReady = options.connection.status === 'ready';
    options.connection.on('ready', () => {
      if (seenReady) reconnectedAt = Date.now();
      seenReady = true;
    });
  }
  const requeueLostJobs = async (db: Db, since: number): Promise<number> => {
    const candidates = await queuedSmsIdsSince(db, new Date(since - (options.lostJobWindowMs ?? 60_000)));
    const missing: string[] = [];
    for (const id of candidates) if (!(await options.queue.queue.getJob(smsJobId(id)))) missing.push(id);
    if (missing.length) {
      await options.queue.enqueue(db, missing);
      log.warn({ count: missing.length, checked: candidates.length }, 'SMS jobs missing after Redis came back: queued again');
    }
    return missing.length;
  };

  let lastRetention = 0;
  const relay = async (db: Db = options.db): Promise<number> => {
    if (reconnectedAt !== undefined) {
      const since = reconnectedAt;
      await requeueLostJobs(db, since);
      if (reconnectedAt === since) reconnectedAt = undefined;
    }
    await failStaleSending(db, options.staleSendingMs ?? 120_000);
    if (Date.now() - lastRetention > 10 * 60_000) {
      lastRetention = Date.now();
      const forgotten = await forgetOldNumbers(db, options.retentionDays ?? 30);
      if (forgotten) log.info({ forgotten }, 'deleted encrypted numbers past their retention');
    }
    const ids = await pendingSmsIds(db, options.pendingAfterMs ?? 3000, options.lostJobAfterMs ?? 15 * 60_000);
    if (ids.length) {
      await options.queue.enqueue(db, ids);
      log.info({ count: ids.length }, 'relayed pending SMS to the queue');
    }
    return ids.length;
  };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    relay()
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'SMS relay pass failed; will retry'))
      .finally(() => {
        running = false;
      });
  }, options.relayEveryMs ?? 5000);
  timer.unref();

  return {
    worker,
    relay: () => relay(),
    requeueLostJobs: (since) => requeueLostJobs(options.db, since),
    async close() {
      clearInterval(timer);
      await worker.close();
    },
  };
}
