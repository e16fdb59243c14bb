/**
 * `npm run drill`: the outage drill. Starts its own redis-server and
 * PostgreSQL, runs the hotline in this process, and sends bursts of callers
 * filing fraud reports while it takes the dependencies down in turn:
 *
 *   1. nothing broken (baseline);
 *   2. Redis stopped mid-burst, then started again on the same port;
 *   3. PostgreSQL cut (through a TCP proxy) mid-burst, then restored;
 *   4. the SMS gateway answering 503 for a while (the real SDK, the gateway
 *      answered in-process by nock: nothing leaves the machine).
 *
 * Then it checks that every request was answered with CON/END, that every
 * reference a caller was given is one report in PostgreSQL, and that every
 * report's SMS was sent exactly once. It prints the figures and exits 1 if
 * anything is missing or doubled. Bounded: a few hundred calls, loopback only.
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../config/config.js';
import { createContext, type AppContext } from '../context.js';
import { startLocalPostgres } from '../store/local-postgres.js';
import { startLocalRedis, type LocalRedis } from '../store/local-redis.js';
import { startTcpProxy } from '../store/local-tcp-proxy.js';
import { createApp } from '../web/app.js';
import { runMain } from './run-main.js';

const CALLERS_PER_PHASE = 40;
// nock 15 (which answers the SMS gateway) breaks the POSTs that global fetch
// lets through to real servers: the callers use the fetch from before nock.
const realFetch = globalThis.fetch;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Tally {
  requests: number;
  answered: number;
  refs: Set<string>;
  apologies: number;
}

/** One caller filing a report; stops at the first END. */
async function caller(base: string, id: string, phone: string, tally: Tally): Promise<void> {
  const inputs = ['1', '2', '1', '1', '5', 'Marché de Kati', 'Des billets distribués', '1'];
  const typed: string[] = [];
  for (let i = 0; i <= inputs.length; i++) {
    if (i > 0) typed.push(inputs[i - 1]!);
    tally.requests += 1;
    let body = '';
    try {
      const res = await realFetch(`${base}/ussd/africastalking`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ sessionId: id, phoneNumber: phone, serviceCode: '*384*123#', text: typed.join('*') }).toString(),
        signal: AbortSignal.timeout(10_000),
      });
      body = res.status === 200 ? await res.text() : '';
    } catch {
      body = '';
    }
    if (/^(CON|END) /.test(body)) tally.answered += 1;
    const ref = /KA-[0-9A-Z]{7}/.exec(body)?.[0];
    if (ref && body.startsWith('END Merci')) tally.refs.add(ref);
    if (body.startsWith('END') && !ref) tally.apologies += 1;
    if (!body.startsWith('CON')) return;
    await sleep(20);
  }
}

async function burst(base: string, phase: string, tally: Tally, during?: () => Promise<void>): Promise<void> {
  const calls = Array.from({ length: CALLERS_PER_PHASE }, (_, i) =>
    sleep(i * 15).then(() => caller(base, `drill-${phase}-${i}`, `+2237${String(1_000_000 + i + phase.length * 1000).padStart(7, '0')}`, tally)),
  );
  await Promise.all([...calls, during?.() ?? Promise.resolve()]);
}

runMain(async () => {
  const nock = (await import('nock')).default;
  const dir = mkdtempSync(join(tmpdir(), 'kalata-drill-'));
  chmodSync(dir, 0o755);
  console.log('Starting redis-server and PostgreSQL...');
  let redis: LocalRedis = await startLocalRedis({ dir: join(dir, 'redis1'), persist: true });
  const postgres = await startLocalPostgres({ dir: join(dir, 'pg') });
  const databaseUrl = new URL(await postgres.createDatabase('drill'));
  const pgProxy = await startTcpProxy(Number(databaseUrl.port));
  databaseUrl.port = String(pgProxy.port);

  // The SMS gateway, answered in-process; `gatewayUp` false answers 503.
  let gatewayUp = true;
  const sentTo = new Map<string, number>();
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  nock('https://api.sandbox.africastalking.com')
    .persist()
    .post('/version1/messaging')
    .reply(async (request: Request) => {
      if (!gatewayUp) return [503, 'Service Unavailable'];
      const message = new URLSearchParams(await request.text()).get('message') ?? '';
      const ref = /KA-[0-9A-Z]{7}/.exec(message)?.[0] ?? '?';
      sentTo.set(ref, (sentTo.get(ref) ?? 0) + 1);
      return [201, { SMSMessageData: { Message: 'Sent to 1/1', Recipients: [{ statusCode: 101, number: '+22370000000', status: 'Success', cost: 'XOF 25', messageId: `ATXid_${ref}_${Date.now()}` }] } }];
    });

  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: 'fatal',
    DATA_DIR: dir,
    DATABASE_URL: databaseUrl.toString(),
    REDIS_URL: redis.url,
    AT_USERNAME: 'sandbox',
    AT_API_KEY: 'drill',
    RATE_LIMIT_PER_PHONE: '0',
    RATE_LIMIT_PER_IP: '0',
    NODE_ENV: 'development',
  });
  const ctx: AppContext = await createContext(config, { worker: true, smsAttempts: 8, smsBackoffMs: 300, smsRelayEveryMs: 500, spoolDrainEveryMs: 500 });
  const server = createApp(ctx).listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tally: Tally = { requests: 0, answered: 0, refs: new Set(), apologies: 0 };

  try {
    console.log('Phase 1: baseline');
    await burst(base, 'base', tally);
    console.log('Phase 2: Redis stopped mid-burst, then restarted');
    await burst(base, 'redis', tally, async () => {
      await sleep(300);
      const port = redis.port;
      await redis.stop();
      await sleep(1500);
      redis = await startLocalRedis({ dir: join(dir, 'redis1'), port, persist: true });
    });
    console.log('Phase 3: PostgreSQL cut mid-burst, then restored');
    await burst(base, 'pg', tally, async () => {
      await sleep(300);
      pgProxy.cut();
      await sleep(2500);
      pgProxy.restore();
    });
    console.log('Phase 4: SMS gateway answering 503, then back');
    await burst(base, 'sms', tally, async () => {
      gatewayUp = false;
      await sleep(3000);
      gatewayUp = true;
    });

    // Let the spool drain and the worker catch up.
    console.log('Waiting for the database writes and the SMS to settle...');
    const refs = [...tally.refs];
    let reports = 0;
    let sent = 0;
    for (let i = 0; i < 120; i++) {
      const rows = await ctx.db.selectFrom('reports').select('ref').where('ref', 'in', refs.length ? refs : ['none']).execute();
      const sms = await ctx.db.selectFrom('sms_outbox').select(['ref', 'status']).where('ref', 'in', refs.length ? refs : ['none']).execute();
      reports = rows.length;
      sent = sms.filter((m) => m.status === 'sent').length;
      if (reports === refs.length && sent === refs.length) break;
      await sleep(500);
    }
    const reportRows = await ctx.db.selectFrom('reports').select((eb) => ['ref', eb.fn.countAll<string>().as('n')]).groupBy('ref').execute();
    const doubledReports = reportRows.filter((r) => Number(r.n) > 1).length;
    const doubledSends = [...sentTo.entries()].filter(([ref, n]) => tally.refs.has(ref) && n > 1).length;
    const failedSms = await ctx.db.selectFrom('sms_outbox').select('ref').where('status', '=', 'failed').execute();

    const lines = [
      '',
      'Outage drill',
      `  requests sent                    ${tally.requests}`,
      `  answered with CON/END            ${tally.answered} (${tally.requests - tally.answered} unanswered)`,
      `  apologies (END, no reference)    ${tally.apologies}`,
      `  references given to callers      ${refs.length}`,
      `  reports expected / found         ${refs.length} / ${reports} (doubled: ${doubledReports})`,
      `  follow-up SMS expected / sent    ${refs.length} / ${sent} (sent twice: ${doubledSends}, failed: ${failedSms.length})`,
      `  turns still spooled              ${await ctx.spool.size()}`,
    ];
    console.log(lines.join('\n'));
    const ok = tally.answered === tally.requests && reports === refs.length && sent === refs.length && doubledReports === 0 && doubledSends === 0;
    console.log(ok ? 'PASS: every call answered, every report and SMS exactly once' : 'FAIL: see the figures above');
    if (!ok) process.exitCode = 1;
  } finally {
    server.closeAllConnections();
    server.close();
    await ctx.close();
    await pgProxy.close();
    await redis.stop();
    await postgres.stop();
    nock.cleanAll();
    nock.restore();
  }
});
