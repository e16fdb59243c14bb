/**
 * Call-backs of missed calls (the voice line's "bip"): a BullMQ queue whose
 * job holds the citizen's number sealed with DATA_ENCRYPTION_KEY (never the
 * number itself), the hotline number to call from, and our request id; and
 * the worker that places the call through the gateway (AT's voice API).
 * A call AT refuses for good (an invalid number) is dropped with a log line;
 * anything else is tried again, three times in all.
 */
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { OutboundCalls } from '../channels/africastalking/voice-calls.js';
import type { Logger } from '../logger.js';
import { decryptText } from '../privacy/phone.js';

export const VOICE_CALLBACK_QUEUE = 'voice-callback';

export interface VoiceCallbackJob {
  /** the citizen's number, sealed (AES-256-GCM) */
  phoneEnc: string;
  /** the hotline number the citizen called, which calls back */
  from: string;
  requestId: string;
}

export interface VoiceCallbackQueue {
  readonly queue: Queue<VoiceCallbackJob>;
  enqueue(job: VoiceCallbackJob): Promise<void>;
  close(): Promise<void>;
}

export function createVoiceCallbackQueue(options: { connection: ConnectionOptions; prefix?: string; attempts?: number; backoffMs?: number }, logger: Logger): VoiceCallbackQueue {
  const queue = new Queue<VoiceCallbackJob>(VOICE_CALLBACK_QUEUE, {
    connection: options.connection,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    defaultJobOptions: {
      attempts: options.attempts ?? 3,
      backoff: { type: 'exponential', delay: options.backoffMs ?? 30_000 },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 24 * 3600 },
    },
  });
  queue.on('error', (err) => logger.warn({ subsystem: 'voice.callback', err: err.message }, 'queue error'));
  return {
    queue,
    async enqueue(job) {
      // The request id is the job id: a repeat of the same request never dials twice.
      await queue.add('call-back', job, { jobId: job.requestId });
    },
    close: () => queue.close(),
  };
}

export function startVoiceCallbackWorker(options: { connection: ConnectionOptions; prefix?: string; calls: OutboundCalls; dataKey: string; logger: Logger }) {
  const log = options.logger.child({ subsystem: 'voice.callback' });
  const worker = new Worker<VoiceCallbackJob>(
    VOICE_CALLBACK_QUEUE,
    async (job: Job<VoiceCallbackJob>) => {
      const to = decryptText(options.dataKey, job.data.phoneEnc);
      const outcome = await options.calls.place({ from: job.data.from, to, requestId: job.data.requestId });
      if (outcome.kind === 'placed') {
        log.info({ request: job.data.requestId, session: outcome.sessionId }, 'missed call called back');
        return outcome.sessionId;
      }
      if (outcome.kind === 'permanent') {
        log.warn({ request: job.data.requestId, reason: outcome.reason }, 'call-back refused by the gateway: not retried');
        return null;
      }
      throw new Error(`call-back not placed: ${outcome.reason}`);
    },
    { connection: options.connection, ...(options.prefix ? { prefix: options.prefix } : {}), concurrency: 4 },
  );
  worker.on('failed', (job, err) => log.warn({ request: job?.data.requestId, attempt: job?.attemptsMade, err: err.message }, 'call-back attempt failed'));
  worker.on('error', (err) => log.warn({ err: err.message }, 'worker error'));
  return { worker, close: () => worker.close() };
}
