/**
 * Hubtel says when a session is over (`Release`: the caller ended it;
 * `Timeout`: the gateway stopped waiting). The call record is closed with
 * that outcome, as Africa's Talking's end-of-session event closes it, and
 * the session is marked over in Redis for as long as a session lives, so
 * that anything Hubtel sends on it afterwards is answered with a release
 * instead of carrying the call on.
 */
import type { Redis } from 'ioredis';
import type { CallRuntime } from '../../runtime/call-runtime.js';
import { CHANNEL } from './ussd-request.js';

export interface HubtelSessionEnds {
  /** Marks the session over and closes its call; false when no call was recorded under it. */
  close(gatewaySessionId: string, status: 'Release' | 'Timeout'): Promise<boolean>;
  /** Whether the gateway already said this session is over. */
  isOver(gatewaySessionId: string): Promise<boolean>;
}

export interface HubtelSessionEndsOptions {
  /** closes the call record (the runtime's `end`) */
  runtime: Pick<CallRuntime, 'end'>;
  redis: Redis;
  /** the deployment's Redis key prefix */
  prefix: string;
  /** how long the mark is kept: a session's own lifetime (SESSION_TTL_SECONDS) */
  ttlSeconds: number;
}

/**
 * @example
 * const ends = createHubtelSessionEnds({ runtime: ctx.calls, redis, prefix: 'kalata:', ttlSeconds: 300 });
 * await ends.close('8d440a43a98b4614b9df22b79c8190b8', 'Release');
 */
export function createHubtelSessionEnds(options: HubtelSessionEndsOptions): HubtelSessionEnds {
  const key = (id: string) => `${options.prefix}hubtel:over:${id}`;
  return {
    async close(gatewaySessionId, status) {
      // Both are tried, whichever fails: the mark stops the call, the record reports it.
      const [marked, recorded] = await Promise.allSettled([
        options.redis.set(key(gatewaySessionId), status, 'EX', Math.max(1, options.ttlSeconds)),
        options.runtime.end({ channel: CHANNEL, gatewaySessionId, status, durationMs: null, hops: null, cost: null, error: null }),
      ]);
      if (marked.status === 'rejected') throw marked.reason;
      if (recorded.status === 'rejected') throw recorded.reason;
      return recorded.value;
    },
    async isOver(gatewaySessionId) {
      return (await options.redis.exists(key(gatewaySessionId))) === 1;
    },
  };
}
