/**
 * USSD sessions live in Redis, renewed on every step, so that any web process
 * can serve the next step of a call. The record also keeps the gateway's last
 * position marker and the last reply, to answer a replayed request without
 * running anything twice. A per-session lock (SET NX PX with a token, released
 * by compare-and-delete) keeps two steps of one call from interleaving.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Session } from '../engine/types.js';

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

/** A held lock on one call, with the session as it was when the lock was taken. */
export interface SessionLock {
  readonly channel: string;
  readonly gatewaySessionId: string;
  readonly token: string;
  readonly stored?: StoredCall;
}

/**
 * Two Redis round trips per step: one script takes the call's lock and
 * loads its session, one saves the session and releases the lock.
 */
export interface SessionStore {
  /** Takes the call's lock (waiting up to `waitMs`) and loads its session; throws SessionBusyError. */
  lockAndLoad(channel: string, gatewaySessionId: string): Promise<SessionLock>;
  /** Saves the session and releases the lock, if still held; false when the lock was lost. */
  saveAndUnlock(lock: SessionLock, call: StoredCall): Promise<boolean>;
  /** Releases the lock without saving. */
  unlock(lock: SessionLock): Promise<void>;
}

// SET NX PX returns false (nil) when the lock is taken.
const LOCK_AND_LOAD = `
if redis.call('set', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local session = redis.call('get', KEYS[1])
  if session then return {1, session} end
  return {1, ''}
end
return {0, ''}`;

const SAVE_AND_UNLOCK = `
if redis.call('get', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3])
redis.call('del', KEYS[2])
return 1`;

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface SessionStoreOptions {
  prefix: string;
  ttlSeconds: number;
  /** how long a lock lives if its holder dies (default 5 s) */
  lockMs?: number;
  /** how long a step waits for the lock (default 2 s) */
  waitMs?: number;
}

type ScriptedRedis = Redis & {
  kalataLockAndLoad(session: string, lock: string, token: string, lockMs: number): Promise<[number, string]>;
  kalataSaveAndUnlock(session: string, lock: string, token: string, json: string, ttl: number): Promise<number>;
  kalataRelease(lock: string, token: string): Promise<number>;
};

export function createSessionStore(redis: Redis, options: SessionStoreOptions): SessionStore {
  const key = (channel: string, id: string) => `${options.prefix}ussd:${channel}:${id}`;
  const lockMs = options.lockMs ?? 5000;
  const waitMs = options.waitMs ?? 2000;
  // ioredis sends these by EVALSHA, falling back to EVAL once per connection.
  redis.defineCommand('kalataLockAndLoad', { numberOfKeys: 2, lua: LOCK_AND_LOAD });
  redis.defineCommand('kalataSaveAndUnlock', { numberOfKeys: 2, lua: SAVE_AND_UNLOCK });
  redis.defineCommand('kalataRelease', { numberOfKeys: 1, lua: RELEASE });
  const r = redis as ScriptedRedis;
  return {
    async lockAndLoad(channel, id) {
      const sessionKey = key(channel, id);
      const token = randomBytes(12).toString('base64url');
      const giveUpAt = Date.now() + waitMs;
      for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
        const [got, raw] = await r.kalataLockAndLoad(sessionKey, `${sessionKey}:lock`, token, lockMs);
        if (got === 1) return { channel, gatewaySessionId: id, token, ...(raw ? { stored: JSON.parse(raw) as StoredCall } : {}) };
        if (Date.now() >= giveUpAt) throw new SessionBusyError('another step of this call is still running');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    },
    async saveAndUnlock(lock, call) {
      const sessionKey = key(lock.channel, lock.gatewaySessionId);
      return (await r.kalataSaveAndUnlock(sessionKey, `${sessionKey}:lock`, lock.token, JSON.stringify(call), options.ttlSeconds)) === 1;
    },
    async unlock(lock) {
      await r.kalataRelease(`${key(lock.channel, lock.gatewaySessionId)}:lock`, lock.token).catch(() => undefined);
    },
  };
}
