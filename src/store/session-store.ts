/**
 * USSD sessions live in Redis, renewed on every step, so that any web process
 * can serve the next step of a call. The record also keeps the gateway's last
 * position marker and the last reply, to answer a replayed request without
 * running anything twice. A per-session lock (SET NX PX with a token, released
 * by compare-and-delete) keeps two steps of one call from interleaving.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ResumePoint, Session } from '../engine/types.js';

export interface StoredCall {
  v: 1;
  callId: string;
  channel: string;
  gatewaySessionId: string;
  phoneHash: string;
  serviceCode: string;
  networkCode: string | null;
  session: Session;
  /** the gateway's position after the last step (AT: the cumulative text) */
  marker: string;
  lastReply: { text: string; end: boolean };
  /** steps recorded so far */
  seq: number;
}

/** Another step of the same call held the lock for longer than we could wait. */
export class SessionBusyError extends Error {
  override name = 'SessionBusyError';
}

/** The number or the address sent more requests this minute than allowed. */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
}

/** Where a caller's last call stood when it was last saved, kept for a while after a drop. */
export interface ResumeRecord {
  point: ResumePoint;
  flowHash: string;
  callId: string;
}

/** A held lock on one call, with the session as it was when the lock was taken. */
export interface SessionLock {
  readonly channel: string;
  readonly gatewaySessionId: string;
  readonly token: string;
  readonly phoneHash: string;
  readonly stored?: StoredCall;
  /** the caller's dropped call, when this one has no session yet */
  readonly resumable?: ResumeRecord;
}

/** What to do with the caller's resume record when saving. */
export type ResumeUpdate = { keep: true } | { set: ResumeRecord } | { clear: true };

/**
 * Two Redis round trips per step: one script takes the call's lock and
 * loads its session, one saves the session and releases the lock.
 */
export interface SessionStore {
  /**
   * Counts the request against the per-number and per-address limits, takes
   * the call's lock (waiting up to `waitMs`) and loads its session and the
   * caller's resume record. Throws RateLimitedError or SessionBusyError.
   */
  lockAndLoad(channel: string, gatewaySessionId: string, phoneHash: string, address?: string): Promise<SessionLock>;
  /** Saves the session (and the caller's resume record) and releases the lock; false when another step holds the lock, or saved the call further on. */
  saveAndUnlock(lock: SessionLock, call: StoredCall, resume: ResumeUpdate): Promise<boolean>;
  /** Releases the lock without saving. */
  unlock(lock: SessionLock): Promise<void>;
}

// Rate limits first (only on a request's first try, ARGV[5] = '1'): per phone
// (KEYS[4], limit ARGV[3]) and per address (KEYS[5], limit ARGV[4]) per minute,
// 0 meaning no limit. Then SET NX PX, which returns false (nil) when the lock is taken.
const LOCK_AND_LOAD = `
if ARGV[5] == '1' then
  for i = 4, 5 do
    local limit = tonumber(ARGV[i - 1])
    if limit > 0 then
      local n = redis.call('incr', KEYS[i])
      if n == 1 then redis.call('expire', KEYS[i], 60) end
      if n > limit then return {2, '', ''} end
    end
  end
end
if redis.call('set', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local session = redis.call('get', KEYS[1])
  if session then return {1, session, ''} end
  local resume = redis.call('get', KEYS[3])
  if resume then return {1, '', resume} end
  return {1, '', ''}
end
return {0, '', ''}`;

// ARGV[4]: '-' keeps the resume record, '' deletes it, anything else replaces it.
// The lock is ours (ARGV[1]), or nobody's: expired, or lost with a Redis primary that failed over before
// its replica had it. Then the save is still right unless the session stored is as far on (ARGV[6], its seq).
const SAVE_AND_UNLOCK = `
local holder = redis.call('get', KEYS[2])
if holder ~= ARGV[1] then
  if holder then return 0 end
  local current = redis.call('get', KEYS[1])
  if current and cjson.decode(current).seq >= tonumber(ARGV[6]) then return 0 end
end
redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3])
if ARGV[4] == '' then redis.call('del', KEYS[3])
elseif ARGV[4] ~= '-' then redis.call('set', KEYS[3], ARGV[4], 'EX', ARGV[5]) end
if holder then redis.call('del', KEYS[2]) end
return 1`;

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface SessionStoreOptions {
  prefix: string;
  ttlSeconds: number;
  /** how long a lock lives if its holder dies (default 5 s) */
  lockMs?: number;
  /** how long a step waits for the lock (default 2 s) */
  waitMs?: number;
  /** how long a dropped call can be continued (default 600 s; 0: never) */
  resumeWindowSeconds?: number;
  /** requests per minute per number and per address; 0: no limit */
  perPhoneLimit?: number;
  perAddressLimit?: number;
  /** after a save, waits for the replicas to have it (store/redis-connection.ts: replicaAcknowledgement) */
  confirm?: () => Promise<boolean>;
}

type ScriptedRedis = Redis & {
  kalataLockAndLoad(session: string, lock: string, resume: string, phoneRate: string, addressRate: string, token: string, lockMs: number, phoneLimit: number, addressLimit: number, count: string): Promise<[number, string, string]>;
  kalataSaveAndUnlock(session: string, lock: string, resume: string, token: string, json: string, ttl: number, resumeJson: string, window: number, seq: number): Promise<number>;
  kalataRelease(lock: string, token: string): Promise<number>;
};

/** Lock tokens: unique across processes (random prefix) and cheap (a counter, not fresh randomness per step). */
const tokenPrefix = randomBytes(9).toString('base64url');
let tokenCount = 0;
const nextToken = () => `${tokenPrefix}${(tokenCount++).toString(36)}`;

export function createSessionStore(redis: Redis, options: SessionStoreOptions): SessionStore {
  const key = (channel: string, id: string) => `${options.prefix}ussd:${channel}:${id}`;
  const lockMs = options.lockMs ?? 5000;
  const waitMs = options.waitMs ?? 2000;
  // ioredis sends these by EVALSHA, falling back to EVAL once per connection.
  redis.defineCommand('kalataLockAndLoad', { numberOfKeys: 5, lua: LOCK_AND_LOAD });
  redis.defineCommand('kalataSaveAndUnlock', { numberOfKeys: 3, lua: SAVE_AND_UNLOCK });
  const resumeKey = (phoneHash: string) => `${options.prefix}ussd:resume:${phoneHash}`;
  const window = options.resumeWindowSeconds ?? 600;
  redis.defineCommand('kalataRelease', { numberOfKeys: 1, lua: RELEASE });
  const r = redis as ScriptedRedis;
  return {
    async lockAndLoad(channel, id, phoneHash, address = '') {
      const sessionKey = key(channel, id);
      const token = nextToken();
      const giveUpAt = Date.now() + waitMs;
      const phoneRate = `${options.prefix}rate:phone:${phoneHash}`;
      const addressRate = `${options.prefix}rate:ip:${address}`;
      for (let delay = 5, first = true; ; delay = Math.min(delay * 2, 50), first = false) {
        const [got, raw, resume] = await r.kalataLockAndLoad(
          sessionKey,
          `${sessionKey}:lock`,
          resumeKey(phoneHash),
          phoneRate,
          addressRate,
          token,
          lockMs,
          options.perPhoneLimit ?? 0,
          address ? (options.perAddressLimit ?? 0) : 0,
          first ? '1' : '0',
        );
        if (got === 2) throw new RateLimitedError('too many requests this minute');
        if (got === 1) {
          return {
            channel,
            gatewaySessionId: id,
            token,
            phoneHash,
            ...(raw ? { stored: JSON.parse(raw) as StoredCall } : {}),
            ...(resume && window > 0 ? { resumable: JSON.parse(resume) as ResumeRecord } : {}),
          };
        }
        if (Date.now() >= giveUpAt) throw new SessionBusyError('another step of this call is still running');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    },
    async saveAndUnlock(lock, call, resume) {
      const sessionKey = key(lock.channel, lock.gatewaySessionId);
      const resumeJson = 'keep' in resume || window <= 0 ? '-' : 'clear' in resume ? '' : JSON.stringify(resume.set);
      const saved = await r.kalataSaveAndUnlock(sessionKey, `${sessionKey}:lock`, resumeKey(lock.phoneHash), lock.token, JSON.stringify(call), options.ttlSeconds, resumeJson, Math.max(window, 1), call.seq);
      // Not confirmed (no replica, or Redis gone right after the save): the caller is answered all the same.
      if (saved === 1) await options.confirm?.().catch(() => false);
      return saved === 1;
    },
    async unlock(lock) {
      await r.kalataRelease(`${key(lock.channel, lock.gatewaySessionId)}:lock`, lock.token).catch(() => undefined);
    },
  };
}
