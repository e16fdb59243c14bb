/**
 * The SMS queue (BullMQ). A job carries only the message id: BullMQ keeps job
 * data in clear in Redis, so numbers and texts stay in PostgreSQL. The job id
 * is derived from the message id, so a message queued twice is one job while
 * that job exists.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Logger } from '../logger.js';
import { markQueued } from '../store/sms-store.js';
import type { Db } from '../store/database.js';

export const SMS_QUEUE = 'sms';

export interface SmsJobData {
  messageId: string;
}

export interface SmsQueueOptions {
  connection: ConnectionOptions;
  /** Redis key prefix (default `bull`) */
  prefix?: string;
  /** attempts before a message is marked failed (default 6) */
  attempts?: number;
  /** first retry delay in ms, doubled each time (default 30 s) */
  backoffMs?: number;
}

export function smsJobOptions(options: Pick<SmsQueueOptions, 'attempts' | 'backoffMs'>): JobsOptions {
  return {
    attempts: options.attempts ?? 6,
    backoff: { type: 'exponential', delay: options.backoffMs ?? 30_000 },
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** `sms-<id>`: BullMQ job ids must not contain `:` nor be all digits. */
export const smsJobId = (messageId: string) => `sms-${messageId}`;

export interface SmsQueue {
  readonly queue: Queue<SmsJobData>;
  /** Queues messages and marks them queued. Throws when Redis is unreachable: the relay retries. */
  enqueue(db: Db, ids: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export function createSmsQueue(options: SmsQueueOptions, logger: Logger): SmsQueue {
  const queue = new Queue<SmsJobData>(SMS_QUEUE, {
    connection: options.connection,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    defaultJobOptions: smsJobOptions(options),
  });
  queue.on('error', (err) => logger.warn({ subsystem: 'sms.queue', err: err.message }, 'queue error'));
  return {
    queue,
    async enqueue(db, ids) {
      if (!ids.length) return;
      await queue.addBulk(ids.map((messageId) => ({ name: 'send', data: { messageId }, opts: { jobId: smsJobId(messageId) } })));
      await markQueued(db, ids);
    },
    close: () => queue.close(),
  };
}
