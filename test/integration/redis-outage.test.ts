/**
 * Redis hung or gone: callers get the apology at once (never a hang), the
 * readiness check says so, and service comes back by itself.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { startLocalRedis, type LocalRedis } from '../../src/local-servers/local-redis.js';
import { startTcpProxy, type TcpProxy } from '../../src/local-servers/local-tcp-proxy.js';
import { startHarness, type Harness } from '../support/harness.js';

let redis: LocalRedis;
/** the hotline reaches Redis through it: a Redis restarted on another port is reached again, no fixed port to race for */
let proxy: TcpProxy;
let h: Harness;
let pid: number;
const dir = mkdtempSync(join(tmpdir(), 'kalata-redis-outage-'));

beforeAll(async () => {
  redis = await startLocalRedis({ dir: join(dir, 'r1'), persist: false });
  const probe = new Redis(redis.url);
  pid = Number(/process_id:(\d+)/.exec(await probe.info('server'))![1]);
  probe.disconnect();
  proxy = await startTcpProxy(redis.port);
  h = await startHarness('redis outage', { redisUrl: `redis://127.0.0.1:${proxy.port}` });
});

/** The apology came from failing fast, not from the runtime's deadline (no wall-clock limit on a shared machine). */
const missedDeadline = (session: string) => h.logs.filter((line) => line.includes('missed its deadline') && line.includes(session));

afterAll(async () => {
  try {
    process.kill(pid, 'SIGCONT');
  } catch {
    // already gone
  }
  await h.close();
  await proxy.close();
  await redis.stop();
});

describe('Redis outages', () => {
  const call = (sessionId: string, text = '') => h.at({ sessionId, phoneNumber: '+22376000061', serviceCode: '*384*123#', text });

  it('answers the apology at once while Redis hangs (failing fast, not by the deadline), and /readyz says down', async () => {
    expect((await call('ATUid_hung_0')).body).toMatch(/^CON /);
    process.kill(pid, 'SIGSTOP');
    try {
      const value = await call('ATUid_hung_1');
      expect(value).toEqual({ status: 200, body: 'END Service indisponible. Rappelez dans quelques minutes. Merci.' });
      expect(missedDeadline('ATUid_hung_1')).toEqual([]);
      const ready = await fetch(`${h.base}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ checks: { redis: 'down', database: 'ok' } });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    let body = '';
    for (let i = 0; i < 50 && !body.startsWith('CON'); i++) {
      body = (await call(`ATUid_hung_2_${i}`)).body;
      if (!body.startsWith('CON')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).toMatch(/^CON /);
  });

  it('answers the apology at once while Redis is down, and serves again when it is back (on another port), without a restart', async () => {
    await redis.stop();
    proxy.cut();
    const value = await call('ATUid_down_1');
    expect(value.body).toBe('END Service indisponible. Rappelez dans quelques minutes. Merci.');
    expect(missedDeadline('ATUid_down_1')).toEqual([]);
    // Back on whatever port is free: the proxy reaches it.
    redis = await startLocalRedis({ dir: join(dir, 'r2'), persist: false });
    proxy.restore(redis.port);
    let body = '';
    for (let i = 0; i < 60 && !body.startsWith('CON'); i++) {
      body = (await call(`ATUid_down_2_${i}`)).body;
      if (!body.startsWith('CON')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).toMatch(/^CON /);
    expect((await fetch(`${h.base}/readyz`)).status).toBe(200);
  });
});
