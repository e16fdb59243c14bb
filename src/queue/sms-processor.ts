/**
 * Sends one SMS: a plain function of the job, idempotent. It claims the
 * message in PostgreSQL before calling the gateway, so a job that runs twice
 * (BullMQ is at-least-once) sends once. Retryable failures throw (BullMQ
 * retries with backoff); permanent ones throw UnrecoverableError.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import type { Lang } from '../engine/types.js';
import type { FlowRegistry } from '../flows/flow-registry.js';
import type { Logger } from '../logger.js';
import { decryptText, maskPhone } from '../privacy/phone.js';
import type { Secrets } from '../privacy/secrets.js';
import { renderSms } from '../sms/sms-text.js';
import type { SmsTransport } from '../sms/transport.js';
import type { Db } from '../store/database.js';
import { claimSms, finishSms, isOptedOut, SENDABLE, type SmsStatus } from '../store/sms-store.js';
import type { SmsJobData } from './sms-queue.js';

export interface SmsProcessorDeps {
  db: Db;
  flows: FlowRegistry;
  secrets: Secrets;
  transport: SmsTransport;
  logger: Logger;
  /** kinds of message sent even to a number that opted out (the STOP/START acknowledgements) */
  exemptFromOptOut?: ReadonlySet<string>;
  observe?: (outcome: string, seconds: number) => void;
}

export type SmsResult = 'sent' | 'dry_run' | 'opted_out' | 'skipped';

export function createSmsProcessor(deps: SmsProcessorDeps) {
  const log = deps.logger.child({ subsystem: 'sms.worker' });
  const exempt = deps.exemptFromOptOut ?? new Set(['optout_ack']);
  return async function processSms(job: Job<SmsJobData>): Promise<SmsResult> {
    const id = String(job.data.messageId);
    const row = await deps.db.selectFrom('sms_outbox').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || !SENDABLE.includes(row.status as SmsStatus)) return 'skipped'; // done already, or another run holds it

    // Everything that can fail without the gateway is done before the message is claimed,
    // so that a claimed message always means "the gateway may have been called".
    let phone: string;
    let rendered: ReturnType<typeof renderSms>;
    try {
      const flows = deps.flows.live();
      // Written in the caller's language, or the source language if the live content no longer has it.
      const lang: Lang = flows.languages.includes(row.language) ? row.language : flows.languages[0]!;
      rendered = renderSms(flows, lang, row.template, row.vars);
      phone = decryptText(deps.secrets.dataEncryptionKey, row.phone_enc ?? '');
    } catch (err) {
      const reason = `cannot be prepared: ${(err as Error).message}`;
      await finishSms(deps.db, id, { status: 'failed', reason });
      log.error({ message: id, reason }, 'SMS failed before sending');
      throw new UnrecoverableError(reason);
    }
    if (!exempt.has(row.kind) && (await isOptedOut(deps.db, row.phone_hash))) {
      await finishSms(deps.db, id, { status: 'opted_out', reason: 'the number sent STOP' });
      return 'opted_out';
    }
    const message = await claimSms(deps.db, id);
    if (!message) return 'skipped'; // another run claimed it in between

    const started = performance.now();
    const outcome = await deps.transport.send(phone, rendered.text);
    deps.observe?.(outcome.kind, (performance.now() - started) / 1000);
    const common = { text: rendered.text, segments: rendered.segments, encoding: rendered.encoding, transport: deps.transport.name };
    const who = { message: id, to: maskPhone(phone), ref: message.ref };
    if (outcome.kind === 'accepted') {
      const dryRun = deps.transport.name === 'dry-run';
      await finishSms(deps.db, id, {
        ...common,
        status: dryRun ? 'dry_run' : 'sent',
        reason: null,
        gatewayMessageId: outcome.messageId,
        gatewayStatus: outcome.status,
        gatewayStatusCode: outcome.statusCode,
        cost: outcome.cost,
      });
      if (dryRun) log.info({ ...who, segments: rendered.segments }, `dry-run SMS (not sent): ${rendered.text}`);
      else log.info({ ...who, status: outcome.status }, 'SMS sent');
      return dryRun ? 'dry_run' : 'sent';
    }
    if (outcome.kind === 'permanent') {
      await finishSms(deps.db, id, { ...common, status: 'failed', reason: outcome.reason, gatewayStatusCode: outcome.statusCode ?? null });
      log.warn({ ...who, reason: outcome.reason }, 'SMS failed for good');
      throw new UnrecoverableError(outcome.reason);
    }
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    await finishSms(deps.db, id, {
      ...common,
      status: last ? 'failed' : 'retrying',
      reason: last ? `gave up after ${job.attemptsMade + 1} attempts: ${outcome.reason}` : outcome.reason,
      gatewayStatusCode: outcome.statusCode ?? null,
    });
    log.warn({ ...who, reason: outcome.reason, attempt: job.attemptsMade + 1 }, last ? 'SMS failed after its last attempt' : 'SMS will be retried');
    throw last ? new UnrecoverableError(outcome.reason) : new Error(outcome.reason);
  };
}
