/**
 * The embedded default: the same webhook on PGlite (what `npm start` uses
 * without DATABASE_URL), with a real redis-server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { converse, startHarness, type Harness } from '../support/harness.js';

describe('on embedded PGlite', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('pglite', { pglite: true });
  });
  afterAll(() => h.close());

  it('runs migrations, serves a whole report and records it', async () => {
    const replies = await converse(h, { sessionId: 'ATUid_pglite_1', phoneNumber: '+22379000001' }, ['2', '2', '1', '1', '4', '3', 'Sikasso*Wayerma', 'Des hommes armés devant le bureau', '1']);
    expect(replies[9]).toMatch(/^END Abarika\. Taamasiyɛn: KA-[0-9A-Z]{7}\./);
    const ref = /KA-[0-9A-Z]{7}/.exec(replies[9]!)![0];
    const report = await h.ctx.db.selectFrom('reports').selectAll().where('ref', '=', ref).executeTakeFirstOrThrow();
    expect(report.fields).toMatchObject({ incident: 'station_closed', region: 'koulikoro', place: 'Sikasso*Wayerma' });
    const call = await h.ctx.db.selectFrom('calls').selectAll().where('gateway_session_id', '=', 'ATUid_pglite_1').executeTakeFirstOrThrow();
    expect(call).toMatchObject({ language: 'bm', outcome: 'completed', steps: 10 });
  });

  it('keeps concurrent callers apart on its single connection', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => converse(h, { sessionId: `ATUid_pglite_c${i}`, phoneNumber: `+2237900${String(1000 + i)}` }, ['1', '4'])),
    );
    for (const r of results) expect(r[2]).toMatch(/^CON Aide|^CON Kalata donne/);
    const rows = await h.ctx.db.selectFrom('calls').select('id').where('gateway_session_id', 'like', 'ATUid_pglite_c%').execute();
    expect(rows).toHaveLength(30);
  });
});
