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

export interface SessionStore {
  get(channel: string, gatewaySessionId: string): Promise<StoredCall | undefined>;
  save(call: StoredCall): Promise<void>;
  /** Runs `fn` while holding the call's lock; throws SessionBusyError after `waitMs`. */
  withLock<T>(channel: string, gatewaySessionId: string, fn: () => Promise<T>): Promise<T>;
}

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface SessionStoreOptions {
  prefix: string;
  ttlSeconds: number;
  /** how long a lock lives if its holder dies (default 5 s) */
  lockMs?: number;
  /** how long a step waits for the lock (default 2 s) */
  waitMs?: number;
}

export function createSessionStore(redis: Redis, options: SessionStoreOptions): SessionStore {
  const key = (channel: string, id: string) => `${options.prefix}ussd:${channel}:${id}`;
  const lockMs = options.lockMs ?? 5000;
  const waitMs = options.waitMs ?? 2000;
  return {
    async get(channel, id) {
      const raw = await redis.get(key(channel, id));
      return raw ? (JSON.parse(raw) as StoredCall) : undefined;
    },
    async save(call) {
      await redis.set(key(call.channel, call.gatewaySessionId), JSON.stringify(call), 'EX', options.ttlSeconds);
    },
    async withLock(channel, id, fn) {
      const lockKey = `${key(channel, id)}:lock`;
      const token = randomBytes(12).toString('base64url');
      const giveUpAt = Date.now() + waitMs;
      for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
        if ((await redis.set(lockKey, token, 'PX', lockMs, 'NX')) === 'OK') break;
        if (Date.now() >= giveUpAt) throw new SessionBusyError('another step of this call is still running');
        await new Promise((r) => setTimeout(r, delay));
      }
      try {
        return await fn();
      } finally {
        await redis.eval(RELEASE, 1, lockKey, token).catch(() => undefined);
      }
    },
  };
}
