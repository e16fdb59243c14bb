/**
 * USSD sessions live in Redis, renewed on every step, so that any web process
 * can serve the next step of a call. The record also keeps the gateway's last
 * position marker and the last reply, to answer a replayed request without
 * running anything twice.
 */
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

export interface SessionStore {
  get(channel: string, gatewaySessionId: string): Promise<StoredCall | undefined>;
  save(call: StoredCall): Promise<void>;
}

export function createSessionStore(redis: Redis, options: { prefix: string; ttlSeconds: number }): SessionStore {
  const key = (channel: string, id: string) => `${options.prefix}ussd:${channel}:${id}`;
  return {
    async get(channel, id) {
      const raw = await redis.get(key(channel, id));
      return raw ? (JSON.parse(raw) as StoredCall) : undefined;
    },
    async save(call) {
      await redis.set(key(call.channel, call.gatewaySessionId), JSON.stringify(call), 'EX', options.ttlSeconds);
    },
  };
}
