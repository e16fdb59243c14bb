/**
 * Redis through Sentinel (issue 19), on real servers of this machine: a
 * primary, a replica and three Sentinels (src/local-servers/local-redis-group.ts).
 * The hotline is given only REDIS_SENTINELS and REDIS_SENTINEL_NAME, and makes
 * every connection itself (sessions, the spool, BullMQ's queue and worker).
 *
 * - A saved session is on the replica before the caller is answered (WAIT),
 *   and a replica that stops answering costs one bounded wait, then none.
 * - The primary is SIGKILLed while callers file reports: the Sentinels
 *   promote the replica, and the hotline follows by itself. Every request is
 *   answered CON/END, the apologies last a few seconds, every reference is one
 *   report, and every report's SMS is sent once.
 * - A session save whose lock was lost (expired, or gone with a primary that
 *   failed over) still lands unless another step saved the call further on.
 * - A job lost with a Redis that came back is queued again, once.
 * - A Redis Cluster is refused at start, with a plain line.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/config.js';
import { createContext } from '../../src/context.js';
import { createLogger } from '../../src/logger.js';
import { startLocalRedis } from '../../src/local-servers/local-redis.js';
import { startLocalRedisGroup, type LocalRedisGroup } from '../../src/local-servers/local-redis-group.js';
import { smsJobId } from '../../src/queue/sms-queue.js';
import { createDatabase } from '../../src/store/database.js';
import { createSessionStore, type StoredCall } from '../../src/store/session-store.js';
import { freshDatabase, freshRedisPrefix } from '../support/databases.js';
import { startHarness, type Harness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'kalata-sentinel-'));
const REF = /KA-[0-9A-Z]{7}/;
/** A French caller filing a vote-buying report with a discreet SMS (as the outage drill's callers). */
const REPORT_INPUTS = ['1', '2', '1', '1', '1', '5', 'Marché de Kati', 'Des billets distribués', '1'];
const APOLOGY = 'END Service indisponible. Rappelez dans quelques minutes. Merci.';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let group: LocalRedisGroup;
let h: Harness;

beforeAll(async () => {
  group = await startLocalRedisGroup({ dir: join(dir, 'group'), downAfterMs: 1000 });
  h = await startHarness('redis sentinel', {
    ownRedis: true,
    env: { REDIS_SENTINELS: group.sentinelList, REDIS_SENTINEL_NAME: group.name, RATE_LIMIT_PER_PHONE: '0', RATE_LIMIT_PER_IP: '0' },
    context: { worker: true, smsRelayEveryMs: 200, smsPendingAfterMs: 500, smsBackoffMs: 200 },
  });
}, 60_000);

afterAll(async () => {
  for (const node of group?.nodes ?? []) {
    try {
      process.kill(node.pid, 'SIGCONT');
    } catch {
      // gone
    }
  }
  await h?.close();
  await group?.stop();
});

const step = (sessionId: string, phoneNumber: string, text: string) => h.at({ sessionId, phoneNumber, serviceCode: '*384*123#', text });

describe('Redis through Sentinel', () => {
  it('reaches the primary through the Sentinels; a saved session is on the replica before the caller is answered', async () => {
    const primary = await group.primaryPort();
    expect(primary).toBe(group.nodes[0]!.port);
    expect((await step('ATUid_sentinel_1', '+22376100001', '')).body).toMatch(/^CON /);
    const replica = new Redis(group.nodes[1]!.port, { lazyConnect: true });
    await replica.connect();
    try {
      const keys = await replica.keys(`${h.ctx.redisPrefix}ussd:africastalking:ATUid_sentinel_1`);
      expect(keys).toHaveLength(1);
      expect(JSON.parse((await replica.get(keys[0]!))!)).toMatchObject({ seq: 1, gatewaySessionId: 'ATUid_sentinel_1' });
    } finally {
      replica.disconnect();
    }
  });

  it('waits at most 100 ms for a replica that stops answering, says so once, and then answers without waiting', async () => {
    const replica = group.nodes[1]!;
    process.kill(replica.pid, 'SIGSTOP');
    try {
      const began = performance.now();
      expect((await step('ATUid_sentinel_2', '+22376100002', '')).body).toMatch(/^CON /);
      const waited = performance.now() - began;
      expect(waited).toBeGreaterThanOrEqual(90);
      expect((await step('ATUid_sentinel_2', '+22376100002', '1')).body).toMatch(/^CON /);
      expect(h.logs.filter((l) => l.includes('not confirmed by a replica'))).toHaveLength(1);
    } finally {
      process.kill(replica.pid, 'SIGCONT');
    }
  });

  it('follows a failover: every request answered, a few seconds of apologies, every reference one report and one SMS', async () => {
    const old = await group.primaryPort();
    const replies: { at: number; body: string; status: number }[] = [];
    const refs: string[] = [];
    let killedAt = 0;
    const caller = async (i: number) => {
      const id = `ATUid_failover_${i}`;
      const phone = `+2237620${String(i).padStart(4, '0')}`;
      const typed: string[] = [];
      for (let k = 0; k <= REPORT_INPUTS.length; k++) {
        if (k > 0) typed.push(REPORT_INPUTS[k - 1]!);
        const res = await step(id, phone, typed.join('*'));
        replies.push({ at: performance.now(), ...res });
        if (!res.body.startsWith('CON ')) {
          const ref = REF.exec(res.body)?.[0];
          if (ref && res.body.startsWith('END Merci')) refs.push(ref);
          return;
        }
        await sleep(30);
      }
    };
    // Callers start 150 ms apart for about 9 s; the primary dies 2 s in.
    const callers = Array.from({ length: 60 }, (_, i) => sleep(i * 150).then(() => caller(i)));
    const kill = sleep(2000).then(() => {
      killedAt = performance.now();
      process.kill(group.nodes[0]!.pid, 'SIGKILL');
    });
    await Promise.all([...callers, kill]);
    const promoted = await group.waitForNewPrimary(old);
    expect(promoted).toBe(group.nodes[1]!.port);

    // Every request answered with CON or END.
    expect(replies.filter((r) => r.status !== 200 || !/^(CON|END) /.test(r.body))).toEqual([]);
    const apologies = replies.filter((r) => r.body === APOLOGY);
    const apologySeconds = apologies.length ? (apologies[apologies.length - 1]!.at - killedAt) / 1000 : 0;
    console.log(`Sentinel failover: ${replies.length} requests, ${apologies.length} apologies, the last ${apologySeconds.toFixed(1)} s after the kill; ${refs.length} references`);
    expect(apologySeconds).toBeLessThan(8);
    // Callers who started after the switch filed their reports.
    expect(refs.length).toBeGreaterThanOrEqual(20);
    // A caller always ends on a reference, the apology, or the polite end of a call whose session was lost.
    // Every reference a caller was given is one report, and its SMS is sent once.
    const settled = await waitFor(
      'every report and its SMS',
      async () => {
        const reports = await h.ctx.db.selectFrom('reports').select('ref').where('ref', 'in', refs).execute();
        const sms = await h.ctx.db.selectFrom('sms_outbox').select(['ref', 'status', 'id']).where('ref', 'in', refs).execute();
        return { reports, sms };
      },
      (s) => s.reports.length === refs.length && s.sms.length === refs.length && s.sms.every((m) => m.status === 'dry_run'),
      20_000,
    );
    expect(new Set(settled.reports.map((r) => r.ref)).size).toBe(refs.length);
    const sends = await h.ctx.db
      .selectFrom('sms_events')
      .select(({ fn }) => ['message_id', fn.countAll<string>().as('n')])
      .where('message_id', 'in', settled.sms.map((m) => m.id))
      .where('status', '=', 'dry_run')
      .groupBy('message_id')
      .execute();
    expect(sends.map((s) => Number(s.n))).toEqual(refs.map(() => 1));
    // No call recorded twice for one gateway session.
    const calls = await h.ctx.db.selectFrom('calls').select(({ fn }) => ['gateway_session_id', fn.countAll<string>().as('n')]).where('gateway_session_id', 'like', 'ATUid_failover_%').groupBy('gateway_session_id').execute();
    expect(calls.filter((c) => Number(c.n) > 1)).toEqual([]);
  }, 90_000);

  it('queues again, once, an SMS whose job a Redis that came back does not have', async () => {
    const worker = h.ctx.smsWorker!;
    await worker.worker.pause();
    try {
      const typed: string[] = [];
      let body = (await step('ATUid_lost_job', '+22376300001', '')).body;
      for (const input of REPORT_INPUTS) {
        typed.push(input);
        body = (await step('ATUid_lost_job', '+22376300001', typed.join('*'))).body;
      }
      const ref = REF.exec(body)![0];
      const message = await waitFor('the message queued', () => h.ctx.db.selectFrom('sms_outbox').select(['id', 'status']).where('ref', '=', ref).executeTakeFirst(), (m) => m?.status === 'queued', 10_000);
      // As a replica promoted before it had the job: the job is gone, the message says queued.
      expect(await h.ctx.sms.queue.remove(smsJobId(message!.id))).toBe(1);
      expect(await worker.requeueLostJobs(Date.now())).toBe(1);
      expect(await worker.requeueLostJobs(Date.now())).toBe(0);
      await worker.worker.resume();
      await waitFor('the SMS sent', () => h.ctx.db.selectFrom('sms_outbox').select('status').where('id', '=', message!.id).executeTakeFirst(), (m) => m?.status === 'dry_run', 10_000);
    } finally {
      await worker.worker.resume();
    }
  }, 30_000);
});

describe('a session save whose lock is gone', () => {
  const redis = new Redis(process.env.TEST_REDIS_URL!);
  afterAll(() => redis.disconnect());
  const prefix = `${freshRedisPrefix('lost-lock')}:`;
  const store = createSessionStore(redis, { prefix, ttlSeconds: 60 });
  const call = (id: string, seq: number): StoredCall => ({
    v: 1,
    callId: `call-${id}`,
    channel: 'africastalking',
    gatewaySessionId: id,
    phoneHash: 'h',
    serviceCode: '*384*123#',
    networkCode: null,
    session: { node: `n${seq}` } as unknown as StoredCall['session'],
    marker: String(seq),
    lastReply: { text: 'CON x', end: false },
    seq,
  });
  const lockKey = (id: string) => `${prefix}ussd:africastalking:${id}:lock`;
  const read = async (id: string) => JSON.parse((await redis.get(`${prefix}ussd:africastalking:${id}`))!) as StoredCall;

  it('lands when nobody holds the lock and the stored call is behind it', async () => {
    const lock = await store.lockAndLoad('africastalking', 'lost-1', 'h');
    expect(await store.saveAndUnlock(lock, call('lost-1', 1), { keep: true })).toBe(true);
    const next = await store.lockAndLoad('africastalking', 'lost-1', 'h');
    await redis.del(lockKey('lost-1')); // gone with the old primary
    expect(await store.saveAndUnlock(next, call('lost-1', 2), { keep: true })).toBe(true);
    expect((await read('lost-1')).seq).toBe(2);
  });

  it('is refused when another step holds the lock, or saved the call as far on', async () => {
    const first = await store.lockAndLoad('africastalking', 'lost-2', 'h');
    await redis.del(lockKey('lost-2'));
    const other = await store.lockAndLoad('africastalking', 'lost-2', 'h');
    expect(await store.saveAndUnlock(first, call('lost-2', 1), { keep: true })).toBe(false);
    expect(await store.saveAndUnlock(other, call('lost-2', 1), { keep: true })).toBe(true);
    const late = await store.lockAndLoad('africastalking', 'lost-2', 'h');
    await redis.del(lockKey('lost-2'));
    expect(await store.saveAndUnlock(late, call('lost-2', 1), { keep: true })).toBe(false);
    expect((await read('lost-2')).seq).toBe(1);
    expect((await read('lost-2')).session).toEqual({ node: 'n1' });
  });
});

describe('a Redis Cluster', () => {
  it('is refused at start with a plain line', async () => {
    const node = await startLocalRedis({ dir: join(dir, 'cluster'), persist: false, extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'cluster', 'nodes.conf')] });
    const db = await createDatabase({ url: await freshDatabase('redis cluster') });
    try {
      const config = loadConfig({ DATA_DIR: join(dir, 'data'), REDIS_URL: node.url, LOG_LEVEL: 'silent' });
      await expect(createContext(config, { db, logger: createLogger('silent') })).rejects.toThrow(
        /^redis:\/\/127\.0\.0\.1:\d+ is a Redis Cluster: Kalata needs one Redis primary \(with Sentinel for failover: REDIS_SENTINELS\)/,
      );
    } finally {
      await db.destroy();
      await node.stop();
    }
  }, 30_000);
});
