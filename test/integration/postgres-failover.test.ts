/**
 * PostgreSQL failover (issue 19), on real servers of this machine: a primary
 * and a streaming standby made with pg_basebackup (synchronous, so that a
 * commit the caller was answered on is on the standby too). DATABASE_URL
 * names both hosts, standby first, with target_session_attrs=read-write.
 *
 * - Connections go to whichever host is the primary.
 * - The primary is SIGKILLed while callers file reports, and the standby is
 *   promoted with `pg_ctl promote`: turns wait in the Redis spool meanwhile,
 *   every request is answered, and afterwards every reference a caller was
 *   given is one report on the new primary, with every step recorded.
 * - DATABASE_READ_URL sends the console's calls list and analytics to a
 *   standby, and the triage actions stay on the primary.
 */
import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config/config.js';
import { createContext } from '../../src/context.js';
import { createLogger } from '../../src/logger.js';
import { startLocalPostgres, startLocalStandby, type LocalPostgres, type LocalStandby } from '../../src/local-servers/local-postgres.js';
import type { CallTurn } from '../../src/runtime/call-runtime.js';
import { listCalls } from '../../src/store/console-queries.js';
import { createDatabase, type Db } from '../../src/store/database.js';
import { freshRedisPrefix } from '../support/databases.js';
import { startHarness, type Harness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'kalata-pg-failover-'));
chmodSync(dir, 0o755);
const REF = /KA-[0-9A-Z]{7}/;
const REPORT_INPUTS = ['1', '2', '1', '1', '1', '5', 'Marché de Kati', 'Des billets distribués', '1'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let primary: LocalPostgres;
let standby: LocalStandby;
let url: string;
/** another database on the same pair, for the failover (its own keys, as a second deployment) */
let failoverUrl: string;
const port = async (db: Db) => (await sql<{ port: number }>`select inet_server_port() as port`.execute(db)).rows[0]!.port;

beforeAll(async () => {
  primary = await startLocalPostgres({ dir: join(dir, 'primary'), durable: true });
  const [db, other] = [await primary.createDatabase('kalata'), await primary.createDatabase('failover')];
  standby = await startLocalStandby({ dir: join(dir, 'standby'), primary, synchronous: true });
  const both = (single: string) => single.replace(`127.0.0.1:${primary.port}`, `127.0.0.1:${standby.port},127.0.0.1:${primary.port}`) + '?target_session_attrs=read-write';
  url = both(db);
  failoverUrl = both(other);
}, 120_000);

afterAll(async () => {
  await standby?.stop();
  await primary?.stop();
});

describe('a DATABASE_URL with a primary and a standby', () => {
  it('connects to the primary although the standby comes first, and reads the standby for the console where DATABASE_READ_URL names it', async () => {
    const db = await createDatabase({ url });
    const redis = new Redis(process.env.TEST_REDIS_URL!);
    try {
      expect(await port(db)).toBe(primary.port);
      const readUrl = url.replace(`127.0.0.1:${standby.port},127.0.0.1:${primary.port}`, `127.0.0.1:${standby.port}`).replace('read-write', 'standby');
      const ctx = await createContext(loadConfig({ DATA_DIR: join(dir, 'data'), DATABASE_URL: url, DATABASE_READ_URL: readUrl, LOG_LEVEL: 'silent' }), {
        redis,
        redisPrefix: `${freshRedisPrefix('pg-read')}:`,
        logger: createLogger('silent'),
      });
      try {
        expect(await port(ctx.db)).toBe(primary.port);
        expect(await port(ctx.readDb)).toBe(standby.port);
        // A call recorded on the primary is in the standby's calls list (synchronous here; a few seconds of lag at most elsewhere).
        const turn: CallTurn = { channel: 'africastalking', gatewaySessionId: 'ATUid_read_1', phone: '+22376500001', serviceCode: '*384*123#', networkCode: null, marker: '', opening: true, resolve: () => ({ kind: 'new', inputs: [] }) };
        expect((await ctx.calls.handle(turn)).end).toBe(false);
        await waitFor('the call on the standby', () => listCalls(ctx.readDb, {}), (l) => l.rows.length === 1, 5000);
      } finally {
        await ctx.close();
      }
    } finally {
      await db.destroy();
      redis.disconnect();
    }
  }, 60_000);
});

describe('the primary killed, the standby promoted', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('pg failover', {
      databaseUrl: failoverUrl,
      env: { DATABASE_URL: failoverUrl, RATE_LIMIT_PER_PHONE: '0', RATE_LIMIT_PER_IP: '0' },
      context: { worker: true, spoolDrainEveryMs: 200, smsRelayEveryMs: 200, smsPendingAfterMs: 500 },
    });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('keeps every caller answered, spools the turns of the switch, and records them on the new primary', async () => {
    const replies: { status: number; body: string }[] = [];
    const refs: string[] = [];
    const caller = async (i: number) => {
      const id = `ATUid_pgfail_${i}`;
      const phone = `+2237640${String(i).padStart(4, '0')}`;
      const typed: string[] = [];
      for (let k = 0; k <= REPORT_INPUTS.length; k++) {
        if (k > 0) typed.push(REPORT_INPUTS[k - 1]!);
        const res = await h.at({ sessionId: id, phoneNumber: phone, serviceCode: '*384*123#', text: typed.join('*') });
        replies.push(res);
        if (!res.body.startsWith('CON ')) {
          const ref = REF.exec(res.body)?.[0];
          if (ref && res.body.startsWith('END Merci')) refs.push(ref);
          return;
        }
        await sleep(30);
      }
    };
    let spooled = 0;
    const callers = Array.from({ length: 40 }, (_, i) => sleep(i * 150).then(() => caller(i)));
    const failover = (async () => {
      await sleep(1500);
      process.kill(primary.pid, 'SIGKILL');
      await sleep(1500);
      spooled = await h.ctx.spool.size();
      await standby.promote();
    })();
    await Promise.all([...callers, failover]);

    expect(replies.filter((r) => r.status !== 200 || !/^(CON|END) /.test(r.body))).toEqual([]);
    // The turns of the switch waited in Redis, and reach the new primary.
    expect(spooled).toBeGreaterThan(0);
    await waitFor('the spool drained', () => h.ctx.spool.size(), (n) => n === 0, 20_000);
    expect(await port(h.ctx.db)).toBe(standby.port);
    const reports = await h.ctx.db.selectFrom('reports').select('ref').where('ref', 'in', refs).execute();
    console.log(`PostgreSQL failover: ${replies.length} requests, ${refs.length} references, ${spooled} turns spooled during the switch`);
    expect(refs.length).toBeGreaterThanOrEqual(30);
    expect(reports.map((r) => r.ref).sort()).toEqual([...refs].sort());
    // Every answered step is recorded once: each finished call has its ten steps.
    const steps = await h.ctx.db
      .selectFrom('call_steps')
      .innerJoin('calls', 'calls.id', 'call_steps.call_id')
      .select(({ fn }) => ['calls.gateway_session_id as id', fn.countAll<string>().as('n')])
      .where('calls.gateway_session_id', 'like', 'ATUid_pgfail_%')
      .where('calls.ended_at', 'is not', null)
      .groupBy('calls.gateway_session_id')
      .execute();
    expect(steps.length).toBe(refs.length);
    expect(new Set(steps.map((s) => Number(s.n)))).toEqual(new Set([REPORT_INPUTS.length + 1]));
  }, 120_000);
});
