/**
 * PostgreSQL unreachable: callers still finish their menus, a fraud report
 * still gets its reference, and everything is written, once, when the
 * database answers again; its SMS goes out then.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDatabase, migrateToLatest } from '../../src/store/database.js';
import { freshDatabase } from '../support/databases.js';
import { converse, startHarness, type Harness } from '../support/harness.js';
import { startTcpProxy, type TcpProxy } from '../../src/local-servers/local-tcp-proxy.js';

let proxy: TcpProxy;
let h: Harness;

beforeAll(async () => {
  const direct = await freshDatabase('db outage');
  const url = new URL(direct);
  proxy = await startTcpProxy(Number(url.port));
  const viaProxy = new URL(direct);
  viaProxy.port = String(proxy.port);
  // Migrate first, then run the app through the proxy.
  const db = await createDatabase({ url: direct });
  await migrateToLatest(db);
  await db.destroy();
  h = await startHarness('db outage', { databaseUrl: viaProxy.toString(), context: { worker: true, smsRelayEveryMs: 200, spoolDrainEveryMs: 200 } });
});

afterAll(async () => {
  proxy.restore();
  await h.close();
  await proxy.close();
});

describe('the database away', () => {
  it('lets a caller file a report with a reference, records it once when the database is back, and sends its SMS', async () => {
    proxy.cut();
    const call = { sessionId: 'ATUid_dbdown_1', phoneNumber: '+22376000071' };
    const replies = await converse(h, call, ['1', '2', '1', '1', '3', '5', 'Ségou*centre', 'Urne ouverte avant le vote', '1']);
    expect(replies[1]).toMatch(/^CON Kalata: infos sur le vote/);
    expect(replies[9]).toMatch(/^END Merci\. Votre référence: KA-[0-9A-Z]{7}\./);
    const ref = /KA-[0-9A-Z]{7}/.exec(replies[9]!)![0];
    expect(await h.ctx.spool.size()).toBe(10);
    expect((await fetch(`${h.base}/readyz`)).status).toBe(503);

    proxy.restore();
    let report;
    for (let i = 0; i < 100 && !report; i++) {
      report = await h.ctx.db.selectFrom('reports').selectAll().where('ref', '=', ref).executeTakeFirst().catch(() => undefined);
      if (!report) await new Promise((r) => setTimeout(r, 100));
    }
    expect(report?.fields).toEqual({ incident: 'ballot_tampering', region: 'segou', place: 'Ségou*centre', description: 'Urne ouverte avant le vote' });
    const calls = await h.ctx.db.selectFrom('calls').select(['id', 'steps', 'outcome']).where('gateway_session_id', '=', call.sessionId).execute();
    expect(calls).toEqual([{ id: expect.any(String), steps: 10, outcome: 'completed' }]);
    const steps = await h.ctx.db.selectFrom('call_steps').select('seq').where('call_id', '=', calls[0]!.id).orderBy('seq').execute();
    expect(steps.map((s) => s.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await h.ctx.spool.size()).toBe(0);
    let status = '';
    for (let i = 0; i < 100 && status !== 'dry_run'; i++) {
      status = (await h.ctx.db.selectFrom('sms_outbox').select('status').where('ref', '=', ref).executeTakeFirst())?.status ?? '';
      if (status !== 'dry_run') await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('dry_run');
    // Draining again writes nothing twice.
    await h.ctx.spool.drain();
    expect(await h.ctx.db.selectFrom('reports').select('id').where('ref', '=', ref).execute()).toHaveLength(1);
  });

  it('keeps what callers typed sealed while it waits in Redis', async () => {
    proxy.cut();
    try {
      await converse(h, { sessionId: 'ATUid_dbdown_2', phoneNumber: '+22376000072' }, ['1', '2', '1', '1', '3', '5', 'Quartier secret']);
      const raw = JSON.stringify(await h.ctx.redis.xrange(`${h.ctx.redisPrefix}spool:turns`, '-', '+'));
      expect(raw).not.toContain('Quartier secret');
      expect(raw).not.toContain('76000072');
    } finally {
      proxy.restore();
    }
  });
});

describe('a connection lost mid-transaction', () => {
  it('fails that transaction and nothing else: the process does not crash', async () => {
    const transaction = h.ctx.db.transaction().execute(async (trx) => {
      await trx.selectFrom('calls').select('id').limit(1).execute();
      proxy.cut(); // the server goes away while this connection is checked out
      await new Promise((r) => setTimeout(r, 100));
      await trx.selectFrom('calls').select('id').limit(1).execute();
    });
    await expect(transaction).rejects.toThrow();
    proxy.restore();
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      ok = await h.ctx.db.selectFrom('calls').select('id').limit(1).execute().then(() => true, () => false);
      if (!ok) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ok).toBe(true);
  });
});
