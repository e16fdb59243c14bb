/**
 * Redis hung or gone: callers get the apology at once (never a hang), the
 * readiness check says so, and service comes back by itself.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { startLocalRedis, type LocalRedis } from '../../src/store/local-redis.js';
import { startHarness, type Harness } from '../support/harness.js';

let redis: LocalRedis;
let h: Harness;
let pid: number;
const dir = mkdtempSync(join(tmpdir(), 'kalata-redis-outage-'));

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t };
}

beforeAll(async () => {
  redis = await startLocalRedis({ dir: join(dir, 'r1'), persist: false });
  const probe = new Redis(redis.url);
  pid = Number(/process_id:(\d+)/.exec(await probe.info('server'))![1]);
  probe.disconnect();
  h = await startHarness('redis outage', { redisUrl: redis.url });
});

afterAll(async () => {
  try {
    process.kill(pid, 'SIGCONT');
  } catch {
    // already gone
  }
  await h.close();
  await redis.stop();
});

describe('Redis outages', () => {
  const call = (sessionId: string, text = '') => h.at({ sessionId, phoneNumber: '+22376000061', serviceCode: '*384*123#', text });

  it('answers the apology within a second while Redis hangs, and /readyz says down', async () => {
    expect((await call('ATUid_hung_0')).body).toMatch(/^CON /);
    process.kill(pid, 'SIGSTOP');
    try {
      const { value, ms } = await timed(() => call('ATUid_hung_1'));
      expect(value).toEqual({ status: 200, body: 'END Service indisponible. Rappelez dans quelques minutes. Merci.' });
      expect(ms).toBeLessThan(1500);
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

  it('answers the apology at once while Redis is down, and serves again when it is back, without a restart', async () => {
    const port = redis.port;
    await redis.stop();
    const { value, ms } = await timed(() => call('ATUid_down_1'));
    expect(value.body).toBe('END Service indisponible. Rappelez dans quelques minutes. Merci.');
    expect(ms).toBeLessThan(1500);
    redis = await startLocalRedis({ dir: join(dir, 'r2'), port, persist: false });
    let body = '';
    for (let i = 0; i < 60 && !body.startsWith('CON'); i++) {
      body = (await call(`ATUid_down_2_${i}`)).body;
      if (!body.startsWith('CON')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).toMatch(/^CON /);
    expect((await fetch(`${h.base}/readyz`)).status).toBe(200);
  });
});
