/**
 * When PostgreSQL is down, callers still finish their menus (sessions live in
 * Redis), and what their turns must record waits in a Redis stream, sealed
 * with AES-GCM (it holds what callers typed). A drainer writes it to
 * PostgreSQL once it answers again. Every write is idempotent (natural keys),
 * so draining twice, or from several processes, records each thing once.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { decryptText, encryptText } from '../privacy/phone.js';
import { recordTurn, type TurnRecord } from './call-log-store.js';
import type { Db } from './database.js';

export interface TurnSpool {
  /** Keeps a turn for later; throws if Redis cannot take it either. */
  push(turn: TurnRecord): Promise<void>;
  /** Writes what waits to PostgreSQL; returns how many turns were written and the SMS they queued. */
  drain(): Promise<{ written: number; smsIds: string[] }>;
  /** Turns waiting. */
  size(): Promise<number>;
}

/** JSON turns Dates into strings: put them back. */
function revive(turn: TurnRecord): TurnRecord {
  const c = turn.call;
  return {
    ...turn,
    call: { ...c, startedAt: new Date(c.startedAt), updatedAt: new Date(c.updatedAt), endedAt: c.endedAt ? new Date(c.endedAt) : null },
    steps: turn.steps.map((s) => ({ ...s, at: new Date(s.at) })),
  };
}

export function createTurnSpool(deps: {
  redis: Redis;
  db: Db;
  prefix: string;
  key: string;
  logger: Logger;
  /** after a push, waits for the replicas to have it (store/redis-connection.ts: replicaAcknowledgement) */
  confirm?: () => Promise<boolean>;
}): TurnSpool {
  const stream = `${deps.prefix}spool:turns`;
  const log = deps.logger.child({ subsystem: 'spool' });
  return {
    async push(turn) {
      await deps.redis.xadd(stream, '*', 'turn', encryptText(deps.key, JSON.stringify(turn)));
      await deps.confirm?.().catch(() => false);
    },
    async drain() {
      let written = 0;
      const smsIds: string[] = [];
      for (;;) {
        const entries = await deps.redis.xrange(stream, '-', '+', 'COUNT', 100);
        if (!entries.length) break;
        for (const [id, fields] of entries) {
          const sealed = fields[fields.indexOf('turn') + 1];
          let turn: TurnRecord | undefined;
          try {
            turn = revive(JSON.parse(decryptText(deps.key, sealed ?? '')) as TurnRecord);
          } catch (err) {
            // Unreadable (another key?): kept aside, never silently dropped.
            log.error({ entry: id, err: (err as Error).message }, 'spooled turn cannot be read; moved aside');
            await deps.redis.xadd(`${stream}:unreadable`, '*', 'turn', sealed ?? '');
            await deps.redis.xdel(stream, id);
            continue;
          }
          smsIds.push(...(await recordTurn(deps.db, turn)));
          await deps.redis.xdel(stream, id);
          written += 1;
        }
      }
      if (written) log.info({ written }, 'spooled turns written to the database');
      return { written, smsIds };
    },
    size: () => deps.redis.xlen(stream),
  };
}
