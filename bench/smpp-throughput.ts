/**
 * SMS worker throughput by SMPP: messages per second through one worker and
 * its SMPP 3.4 bind (SMS_TRANSPORT=smpp), against a real SMPP server in this
 * process (the `smpp` package's createServer, test/support/smsc.ts), which
 * answers every submit_sm at once. No pace (SMPP_THROUGHPUT=0): this measures
 * Kalata's ceiling, not an operator's contract. Real Redis and PostgreSQL, as
 * bench/sms-throughput.ts (the Africa's Talking run) uses.
 *
 *   node --import tsx bench/smpp-throughput.ts [messages=2000] [concurrency=16] [window=10]
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { createContext } from '../src/context.js';
import { encryptText } from '../src/privacy/phone.js';
import { startLocalPostgres } from '../src/store/local-postgres.js';
import { startLocalRedis } from '../src/store/local-redis.js';
import { insertSms } from '../src/store/sms-store.js';
import { SMSC_LOGIN, startTestSmsc } from '../test/support/smsc.js';

const total = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 16);
const window = Number(process.argv[4] ?? 10);

const smsc = await startTestSmsc();
const dir = mkdtempSync(join(tmpdir(), 'kalata-bench-smpp-'));
chmodSync(dir, 0o755);
// bench/run.ts lends its servers; alone, this script starts its own.
const redis = process.env.BENCH_REDIS_URL ? undefined : await startLocalRedis({ dir: join(dir, 'redis'), persist: false });
const pg = process.env.BENCH_DATABASE_URL ? undefined : await startLocalPostgres({ dir: join(dir, 'pg') });
const databaseUrl = process.env.BENCH_DATABASE_URL ?? (await pg!.createDatabase('bench'));
const runId = `benchsmpp${Date.now().toString(36)}`;
const config = loadConfig({
  LOG_LEVEL: 'warn',
  DATABASE_URL: databaseUrl,
  REDIS_URL: process.env.BENCH_REDIS_URL ?? redis!.url,
  REDIS_PREFIX: `${runId}:`,
  DATA_DIR: dir,
  SMS_TRANSPORT: 'smpp',
  SMPP_HOST: '127.0.0.1',
  SMPP_PORT: String(smsc.port),
  SMPP_SYSTEM_ID: SMSC_LOGIN.systemId,
  SMPP_PASSWORD: SMSC_LOGIN.password,
  SMPP_SOURCE_ADDR: 'KALATA',
  SMPP_THROUGHPUT: '0',
  SMPP_WINDOW: String(window),
  PHONE_HASH_KEY: process.env.PHONE_HASH_KEY,
  DATA_ENCRYPTION_KEY: process.env.DATA_ENCRYPTION_KEY,
});
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
console.log(
  JSON.stringify({
    messages: total,
    concurrency,
    window,
    seconds: Number(seconds.toFixed(2)),
    // Includes the bind: the worker starts with the clock, as the Africa's Talking run's does.
    perSecond: Math.round(total / seconds),
    submits: smsc.received.length,
    accepted: smsc.accepted.length,
    maxOutstanding: smsc.maxOutstanding,
    sentRows: Number(sent.n),
  }),
);
await worker.close();
await producer.close();
await smsc.close();
await redis?.stop();
await pg?.stop();
