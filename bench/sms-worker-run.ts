/**
 * One SMS worker throughput run, whatever the transport: `total` follow-ups
 * written to the outbox and queued, then one worker started with the clock,
 * until every job is done. Real Redis and PostgreSQL: bench/run.ts lends its
 * servers (BENCH_REDIS_URL, BENCH_DATABASE_URL); alone, it starts its own.
 * `env` is the transport's settings (Africa's Talking or SMPP).
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { createContext } from '../src/context.js';
import { encryptText } from '../src/privacy/phone.js';
import { startLocalPostgres } from '../src/local-servers/local-postgres.js';
import { startLocalRedis } from '../src/local-servers/local-redis.js';
import { insertSms } from '../src/store/sms-store.js';

export async function runSmsWorker(options: { name: string; total: number; concurrency: number; env: Record<string, string> }): Promise<{ seconds: number; sentRows: number }> {
  const { total, concurrency } = options;
  const dir = mkdtempSync(join(tmpdir(), `kalata-bench-${options.name}-`));
  chmodSync(dir, 0o755);
  const redis = process.env.BENCH_REDIS_URL ? undefined : await startLocalRedis({ dir: join(dir, 'redis'), persist: false });
  const pg = process.env.BENCH_DATABASE_URL ? undefined : await startLocalPostgres({ dir: join(dir, 'pg') });
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? (await pg!.createDatabase('bench'));
  const runId = `bench${options.name}${Date.now().toString(36)}`;
  const config = loadConfig({
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.BENCH_REDIS_URL ?? redis!.url,
    REDIS_PREFIX: `${runId}:`,
    DATA_DIR: dir,
    PHONE_HASH_KEY: process.env.PHONE_HASH_KEY,
    DATA_ENCRYPTION_KEY: process.env.DATA_ENCRYPTION_KEY,
    ...options.env,
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
  await worker.close();
  await producer.close();
  await redis?.stop();
  await pg?.stop();
  return { seconds, sentRows: Number(sent.n) };
}
