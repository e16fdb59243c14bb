/**
 * allowLongStatements (src/store/database.ts): a station import's transaction
 * may run statements past the hotline's 2 s, both PostgreSQL's statement
 * timeout and the pool's 2.5 s client-side one; the next transaction on the
 * same connection is back to 2 s.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { allowLongStatements, createDatabase, type Db } from '../../src/store/database.js';
import { freshDatabase } from '../support/databases.js';

let db: Db;
beforeAll(async () => {
  // One connection: the transaction after the long one runs on the same client.
  db = await createDatabase({ url: await freshDatabase('long statements'), poolSize: 1 });
});
afterAll(async () => {
  await db.destroy();
});

const sleep3 = (trx: Db) => sql`select pg_sleep(3)`.execute(trx);

describe('allowLongStatements', () => {
  it('lets a 3 s statement finish in its transaction only', async () => {
    await expect(db.transaction().execute((trx) => sleep3(trx))).rejects.toThrow(/statement timeout/);
    await db.transaction().execute(async (trx) => {
      await allowLongStatements(trx, 10);
      await sleep3(trx);
    });
    await expect(db.transaction().execute((trx) => sleep3(trx))).rejects.toThrow(/statement timeout/);
  }, 30_000);
});
