/**
 * A missed call to the hotline ("bip"): the caller pays nothing, and is
 * called back with the same menus. What is decided here, for any voice
 * gateway: not a number that sent STOP (the same opt-out as SMS), not twice
 * for repeats of one ring (gateways log one rejected call several times),
 * and at most a few an hour per number. The number is sealed in the job and
 * never logged.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { encryptText, pseudonymizePhone } from '../privacy/phone.js';
import type { Secrets } from '../privacy/secrets.js';
import type { VoiceCallbackJob } from '../queue/voice-callback-queue.js';
import type { Db } from '../store/database.js';
import { isOptedOut } from '../store/sms-store.js';

export type MissedCallOutcome = 'queued' | 'repeat' | 'limited' | 'opted_out' | 'failed';

export interface MissedCallDeps {
  db: Db;
  redis: Redis;
  prefix: string;
  secrets: Secrets;
  logger: Logger;
  enqueue: (job: VoiceCallbackJob) => Promise<void>;
  /** call-backs per number and hour (VOICE_CALLBACKS_PER_HOUR) */
  perHour: number;
  /** rings of one number within this are one missed call (default 2 min) */
  repeatMs?: number;
}

export function createMissedCalls(deps: MissedCallDeps) {
  const log = deps.logger.child({ subsystem: 'voice.missed' });
  const repeatMs = deps.repeatMs ?? 120_000;
  /** Decides and queues the call-back of `phone` (E.164) from `hotline`. Never throws. */
  return async function missedCall(phone: string, hotline: string): Promise<MissedCallOutcome> {
    const hash = pseudonymizePhone(deps.secrets.phoneHashKey, phone);
    try {
      if (await isOptedOut(deps.db, hash)) {
        log.info('missed call from a number that opted out: not called back');
        return 'opted_out';
      }
      const first = await deps.redis.set(`${deps.prefix}voice:missed:${hash}`, '1', 'PX', repeatMs, 'NX');
      if (first !== 'OK') return 'repeat';
      const hourKey = `${deps.prefix}voice:callbacks:${hash}:${Math.floor(Date.now() / 3_600_000)}`;
      const count = await deps.redis.multi().incr(hourKey).expire(hourKey, 3600).exec();
      if (Number(count?.[0]?.[1] ?? 0) > deps.perHour) {
        log.info('missed call over the hourly call-back limit: not called back');
        return 'limited';
      }
      await deps.enqueue({ phoneEnc: encryptText(deps.secrets.dataEncryptionKey, phone), from: hotline, requestId: `cb-${randomUUID()}` });
      return 'queued';
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'missed call not called back: queue or database unavailable');
      return 'failed';
    }
  };
}
export type MissedCalls = ReturnType<typeof createMissedCalls>;
