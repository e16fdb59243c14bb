/**
 * `/metrics` in production: the bearer METRICS_TOKEN, or a peer on this
 * machine by its socket address (never by X-Forwarded-For). The real app,
 * reached over loopback and, when this machine has one, over a non-loopback
 * address of its own, so that "not loopback" is tested for real.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createApp } from '../../src/web/app.js';
import { isLoopbackAddress } from '../../src/web/metrics-access.js';
import { startHarness, type Harness } from '../support/harness.js';
import { deployedContent } from '../support/content.js';

const TOKEN = randomBytes(24).toString('hex');
/** An address of this machine that is not loopback (the peer address a request to it shows), if it has one. */
const lan = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

describe('isLoopbackAddress (the socket peer, as Node reports it)', () => {
  it.each(['127.0.0.1', '127.10.20.30', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::FFFF:127.0.0.2'])('%s is loopback', (a) => {
    expect(isLoopbackAddress(a)).toBe(true);
  });
  it.each(['192.0.2.2', '::ffff:192.0.2.2', '10.0.0.1', '172.18.0.1', 'fd00::2', '::', '0.0.0.0', '128.0.0.1', '::ffff:7f00:1x', '', undefined])('%s is not', (a) => {
    expect(isLoopbackAddress(a)).toBe(false);
  });
});

async function listen(h: Harness, host: string): Promise<{ server: Server; base: (via: string) => string }> {
  const server = createApp(h.ctx).listen(0, host);
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, base: (via) => `http://${via}:${port}` };
}

const get = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${url}/metrics`, { headers });
  return { status: res.status, body: await res.text(), auth: res.headers.get('www-authenticate') };
};

describe('/metrics in production', () => {
  let h: Harness;
  let wide: { server: Server; base: (via: string) => string };
  beforeAll(async () => {
    h = await startHarness('metrics access', {
      env: {
        NODE_ENV: 'production',
        WEBHOOK_SECRET: randomBytes(16).toString('hex'),
        PHONE_HASH_KEY: randomBytes(32).toString('hex'),
        DATA_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        METRICS_TOKEN: TOKEN,
        // Believe every proxy: even then a forged X-Forwarded-For must not pass for loopback.
        TRUST_PROXY: 'true',
        LOG_LEVEL: 'warn',
        ...deployedContent(),
      },
    });
    wide = await listen(h, '0.0.0.0');
  });
  afterAll(async () => {
    wide.server.closeAllConnections();
    await new Promise<void>((resolve) => wide.server.close(() => resolve()));
    await h.close();
  });

  it('answers a scraper on this machine without a token', async () => {
    const r = await get(h.base);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^# HELP kalata_/m);
  });

  it('asks a proxied request on loopback (a reverse proxy on this machine) for the token', async () => {
    expect(await get(h.base, { 'X-Forwarded-For': '203.0.113.9' })).toMatchObject({ status: 401, body: 'metrics need Authorization: Bearer <METRICS_TOKEN>' });
    expect(await get(h.base, { Forwarded: 'for=203.0.113.9' })).toMatchObject({ status: 401 });
    expect((await get(h.base, { 'X-Forwarded-For': '203.0.113.9', Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  (lan ? describe : describe.skip)(`from another address (${lan ?? 'none on this machine'})`, () => {
    it('the peer really is not loopback', async () => {
      // The app's own view of the peer: the same socket address the check reads.
      const seen = await new Promise<string | undefined>((resolve, reject) => {
        const probe = createApp(h.ctx);
        const server = probe.listen(0, lan!, () => {
          const port = (server.address() as AddressInfo).port;
          server.once('connection', (socket) => resolve(socket.remoteAddress));
          fetch(`http://${lan}:${port}/healthz`).then(() => server.close(), reject);
        });
      });
      expect(seen).toBe(lan);
      expect(isLoopbackAddress(seen)).toBe(false);
    });

    it('refuses without the token, and with a wrong one, with a plain reason', async () => {
      const missing = await get(wide.base(lan!));
      expect(missing).toEqual({ status: 401, body: 'metrics need Authorization: Bearer <METRICS_TOKEN>', auth: 'Bearer realm="metrics"' });
      expect(await get(wide.base(lan!), { Authorization: `Bearer ${TOKEN}x` })).toMatchObject({ status: 401, body: 'wrong metrics token' });
      expect(await get(wide.base(lan!), { Authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` })).toMatchObject({ status: 401 });
    });

    it('does not take a forged X-Forwarded-For: 127.0.0.1 for loopback, even trusting every proxy', async () => {
      expect(await get(wide.base(lan!), { 'X-Forwarded-For': '127.0.0.1' })).toMatchObject({ status: 401 });
      expect(await get(wide.base(lan!), { 'X-Real-IP': '127.0.0.1' })).toMatchObject({ status: 401 });
    });

    it('answers the right token', async () => {
      const r = await get(wide.base(lan!), { Authorization: `Bearer ${TOKEN}` });
      expect(r.status).toBe(200);
      expect(r.body).toMatch(/^kalata_sms_queue_jobs\{state="waiting"\} \d+$/m);
    });
  });
});

describe('/metrics in production without METRICS_TOKEN', () => {
  let h: Harness;
  let wide: { server: Server; base: (via: string) => string };
  beforeAll(async () => {
    h = await startHarness('metrics no token', {
      pglite: true,
      env: { NODE_ENV: 'production', WEBHOOK_SECRET: randomBytes(16).toString('hex'), PHONE_HASH_KEY: randomBytes(32).toString('hex'), DATA_ENCRYPTION_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'warn', ...deployedContent() },
    });
    wide = await listen(h, '0.0.0.0');
  });
  afterAll(async () => {
    wide.server.closeAllConnections();
    await new Promise<void>((resolve) => wide.server.close(() => resolve()));
    await h.close();
  });

  it('serves this machine only, and says how to open it to others', async () => {
    expect((await get(h.base)).status).toBe(200);
    if (!lan) return;
    expect(await get(wide.base(lan), { Authorization: 'Bearer anything-at-all-here-1234' })).toMatchObject({
      status: 403,
      body: 'metrics are served to this machine only (set METRICS_TOKEN to scrape from elsewhere)',
    });
  });
});

describe('/metrics in development', () => {
  let h: Harness;
  let wide: { server: Server; base: (via: string) => string };
  beforeAll(async () => {
    h = await startHarness('metrics development', { pglite: true, env: { LOG_LEVEL: 'warn' } });
    wide = await listen(h, '0.0.0.0');
  });
  afterAll(async () => {
    wide.server.closeAllConnections();
    await new Promise<void>((resolve) => wide.server.close(() => resolve()));
    await h.close();
  });

  it('stays open', async () => {
    expect((await get(h.base)).status).toBe(200);
    if (lan) expect((await get(wide.base(lan))).status).toBe(200);
  });
});
