/**
 * SMS worker throughput: messages per second through one worker, through the
 * real africastalking SDK, with the gateway answered in-process by nock
 * (nothing leaves the machine). Real Redis and PostgreSQL, started here.
 *
 *   node --import tsx bench/sms-throughput.ts [messages=2000] [concurrency=16]
 */
import nock from 'nock';
import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const total = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 16);

let calls = 0;
nock.disableNetConnect();
nock.enableNetConnect(/127\.0\.0\.1|localhost/);
nock('https://api.sandbox.africastalking.com')
  .persist()
  .post('/version1/messaging')
  .reply(201, () => {
    calls += 1;
    return { SMSMessageData: { Message: 'Sent to 1/1', Recipients: [{ statusCode: 101, number: '+22376000000', status: 'Success', cost: 'XOF 25', messageId: `ATXid_${calls}` }] } };
  });

const { startLocalRedis } = await import('../src/store/local-redis.js');
const { startLocalPostgres } = await import('../src/store/local-postgres.js');
const { loadConfig } = await import('../src/config/config.js');
const { createContext } = await import('../src/context.js');
const { insertSms } = await import('../src/store/sms-store.js');
const { encryptText } = await import('../src/privacy/phone.js');

const dir = mkdtempSync(join(tmpdir(), 'kalata-bench-sms-'));
chmodSync(dir, 0o755);
// bench/run.ts lends its servers; alone, this script starts its own.
const redis = process.env.BENCH_REDIS_URL ? undefined : await startLocalRedis({ dir: join(dir, 'redis'), persist: false });
const pg = process.env.BENCH_DATABASE_URL ? undefined : await startLocalPostgres({ dir: join(dir, 'pg') });
const databaseUrl = process.env.BENCH_DATABASE_URL ?? (await pg!.createDatabase('bench'));
const runId = `benchsms${Date.now().toString(36)}`;
const config = loadConfig({ LOG_LEVEL: 'warn', DATABASE_URL: databaseUrl, REDIS_URL: process.env.BENCH_REDIS_URL ?? redis!.url, REDIS_PREFIX: `${runId}:`, DATA_DIR: dir, AT_USERNAME: 'sandbox', AT_API_KEY: 'bench', PHONE_HASH_KEY: process.env.PHONE_HASH_KEY, DATA_ENCRYPTION_KEY: process.env.DATA_ENCRYPTION_KEY });
const producer = await createContext(config, { worker: false });
const ids: string[] = [];
const phoneEnc = encryptText(producer.secrets.dataEncryptionKey, '+22376000000');
for (let i = 0; i < total; i++) {
  const id = await insertSms(producer.db, { dedupeKey: `${runId}-${i}`, kind: 'followup', ref: 'KA-BENCH00', phoneHash: 'bench', phoneEnc, language: i % 2 ? 'bm' : 'fr', template: 'report:sms.report_ack', vars: { ref: 'KA-BENCH00' } });
  ids.push(id!);
}
await producer.sms.enqueue(producer.db, ids);

const started = performance.now();
const worker = await createContext(config, { worker: true, smsRelayEveryMs: 60_000 });
const w = worker.smsWorker!.worker;
w.concurrency = concurrency;
let done = 0;
await new Promise<void>((resolve) => {
  w.on('completed', () => {
    done += 1;
    if (done === total) resolve();
  });
});
const seconds = (performance.now() - started) / 1000;
const sent = await worker.db.selectFrom('sms_outbox').select((eb) => eb.fn.countAll<string>().as('n')).where('status', '=', 'sent').where('dedupe_key', 'like', `${runId}-%`).executeTakeFirstOrThrow();
console.log(JSON.stringify({ messages: total, concurrency, seconds: Number(seconds.toFixed(2)), perSecond: Math.round(total / seconds), gatewayCalls: calls, sentRows: Number(sent.n) }));
await worker.close();
await producer.close();
await redis?.stop();
await pg?.stop();
nock.cleanAll();
nock.restore();
