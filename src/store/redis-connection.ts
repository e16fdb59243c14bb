/**
 * Where Redis is, and how every connection to it is made: one URL (a single
 * server, or a managed endpoint that fails over behind one name), or a group
 * watched by Redis Sentinel. ioredis asks the Sentinels for the primary, and
 * follows a failover by itself: it is told of it (`failoverDetector`), and a
 * node that answers READONLY (a former primary, now a replica) is left for the
 * new one. BullMQ's connections are made the same way, so they follow too.
 *
 * A Redis Cluster is refused: a call's lock, session and resume record are
 * used together in one script, and the spool and the queues are single keys
 * that every process shares; Kalata needs one primary (with Sentinel for
 * failover), not keys spread over shards.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';

export interface SentinelAddress {
  readonly host: string;
  readonly port: number;
}

export type RedisTarget =
  | { readonly kind: 'url'; readonly url: string }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly SentinelAddress[];
      /** the group's name in the Sentinels' configuration (`sentinel monitor <name> …`) */
      readonly name: string;
      readonly username?: string;
      readonly password?: string;
      readonly sentinelPassword?: string;
      /** TLS to the Sentinels and to the nodes, as rediss:// does for one server */
      readonly tls: boolean;
    };

/** A former primary still running answers writes with READONLY: reconnect, to whichever node is the primary now. */
const reconnectOnReadOnly = (err: Error) => err.message.startsWith('READONLY');

/** ioredis options for the target, with a use's own (timeouts, queueing). */
export function redisOptions(target: RedisTarget, options: RedisOptions = {}): RedisOptions {
  // Reconnect at least every half second: a failover or a restart is followed within that, not after a long back-off.
  const retryStrategy = (times: number) => Math.min(times * 50, 500);
  if (target.kind === 'url') return { reconnectOnError: reconnectOnReadOnly, retryStrategy, ...options };
  return {
    sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: target.name,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
    ...(target.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
    // Told of a failover by the Sentinels (+switch-master), not only when the old primary's socket breaks.
    failoverDetector: true,
    // While no Sentinel answers, try again every half second at most: a call waits for Redis, not for a back-off.
    sentinelRetryStrategy: (times: number) => Math.min(times * 50, 500),
    reconnectOnError: reconnectOnReadOnly,
    retryStrategy,
    ...options,
  };
}

/** A new connection to the target's primary. */
export function connectRedis(target: RedisTarget, options: RedisOptions = {}): Redis {
  return target.kind === 'url' ? new Redis(target.url, redisOptions(target, options)) : new Redis(redisOptions(target, options));
}

/** The target as the start-up banner and errors show it: never a password. */
export function describeRedis(target: RedisTarget): string {
  if (target.kind === 'url') return target.url.replace(/\/\/[^@/]*@/, '//');
  return `Sentinel group "${target.name}" (${target.sentinels.map((s) => `${s.host}:${s.port}`).join(', ')})`;
}

export class RedisClusterRefused extends Error {
  override name = 'RedisClusterRefused';
}

/** Throws when the server is a Redis Cluster node (see the top of this file). */
export async function refuseRedisCluster(client: Redis, target: RedisTarget): Promise<void> {
  const info = await client.info('cluster');
  if (/^cluster_enabled:1\s*$/m.test(info)) {
    throw new RedisClusterRefused(
      `${describeRedis(target)} is a Redis Cluster: Kalata needs one Redis primary (with Sentinel for failover: REDIS_SENTINELS), because a call's keys are used together in one script`,
    );
  }
}

/**
 * WAIT after a write the caller is told about (a session saved, a turn
 * spooled): the reply goes out once `replicas` replicas have it, so that a
 * failover does not take back what the caller saw. Replication stays
 * asynchronous: this waits at most `timeoutMs`, and after a timeout (no
 * replica yet, or one that lags) it waits for none for `pauseMs`, so that a
 * primary left alone after a failover answers at full speed. `false` when the
 * write was not confirmed.
 */
export function replicaAcknowledgement(
  redis: Redis,
  options: { replicas: number; timeoutMs?: number; pauseMs?: number; logger?: Logger },
): () => Promise<boolean> {
  const { replicas } = options;
  const timeoutMs = options.timeoutMs ?? 100;
  const pauseMs = options.pauseMs ?? 5000;
  let pausedUntil = -Infinity;
  if (replicas <= 0) return async () => true;
  return async () => {
    if (performance.now() < pausedUntil) return false;
    const acknowledged = await redis.wait(replicas, timeoutMs);
    if (acknowledged >= replicas) return true;
    if (performance.now() >= pausedUntil) {
      options.logger?.warn({ replicas, acknowledged, pauseMs }, 'Redis writes not confirmed by a replica: not waiting for one for a while');
    }
    pausedUntil = performance.now() + pauseMs;
    return false;
  };
}
