/**
 * `npm run drill -- --ha`: the failover drill. On this machine, as a
 * high-availability deployment runs them on several:
 *
 *   - Redis: a primary, a replica and three Sentinels;
 *   - PostgreSQL: a primary and a synchronous streaming standby (pg_basebackup);
 *   - Kalata: two web processes and an SMS worker, real child processes,
 *     given REDIS_SENTINELS and a DATABASE_URL naming both PostgreSQL hosts
 *     (target_session_attrs=read-write). Callers alternate between the two
 *     web processes, as behind a load balancer.
 *
 * Phases: a baseline burst; a burst during which the Redis primary is
 * SIGKILLed (the Sentinels promote the replica); a burst during which the
 * PostgreSQL primary is SIGKILLed and the standby promoted with `pg_ctl
 * promote` a second later. Then it checks that every request was answered
 * CON/END, that every reference given is one report, that every report's SMS
 * was sent exactly once, that nothing is left in the spool, and it reports
 * the seconds of apologies each failover cost. SMS go to the dry-run
 * transport (no gateway account): "sent" is the dry run's record.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { startLocalPostgres, startLocalStandby } from '../local-servers/local-postgres.js';
import { spawnManaged, type ManagedProcess } from '../local-servers/local-process.js';
import { startLocalRedisGroup } from '../local-servers/local-redis-group.js';
import { createDatabase, type Db } from '../store/database.js';
import { connectRedis } from '../store/redis-connection.js';
import { burst, newPhase, newTally, patiently, sleep, type PhaseFigures, type Tally } from './drill-callers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const APOLOGY = 'Service indisponible. Rappelez dans quelques minutes. Merci.';

export interface HaDrillOptions {
  callersPerPhase: number;
  log?: (line: string) => void;
}

export interface FailoverFigures {
  /** from the SIGKILL to a new primary (Sentinel's promotion; PostgreSQL: `pg_ctl promote` returned) */
  switchSeconds: number;
  /** from the SIGKILL to the last apology a caller of that burst got (0: none) */
  apologySeconds: number;
  apologies: number;
}

export interface HaDrillFigures {
  requests: number;
  answered: number;
  improper: string[];
  strangeEndings: string[];
  phases: PhaseFigures[];
  redis: FailoverFigures;
  postgres: FailoverFigures & { spooled: number };
  references: number;
  reportsFound: number;
  reportsInDatabase: number;
  doubledReports: number;
  /** gateway sessions recorded as more than one call */
  doubledCalls: number;
  smsSent: number;
  /** messages with more than one send recorded */
  smsSentTwice: number;
  smsUnsent: string[];
  turnsStillSpooled: number;
}

export function haDrillProblems(f: HaDrillFigures): string[] {
  const problems: string[] = [];
  if (f.answered !== f.requests) problems.push(`${f.requests - f.answered} of ${f.requests} requests not answered with CON/END: ${f.improper.join(' | ')}`);
  for (const p of f.phases) {
    if (p.unanswered) problems.push(`${p.phase}: ${p.unanswered} callers left without an answer`);
    if (p.otherEndings) problems.push(`${p.phase}: ${p.otherEndings} calls ended with neither a reference nor the apology: ${f.strangeEndings.join(' | ')}`);
    if (p.references === 0) problems.push(`${p.phase}: no caller got a reference`);
  }
  if (f.redis.apologies === 0) problems.push('the Redis failover hit no call');
  if (f.postgres.spooled === 0) problems.push('no turn waited in the spool: the PostgreSQL failover hit no call');
  if (f.reportsFound !== f.references) problems.push(`${f.references} references given, ${f.reportsFound} found as reports`);
  if (f.doubledReports) problems.push(`${f.doubledReports} references recorded twice`);
  if (f.doubledCalls) problems.push(`${f.doubledCalls} calls recorded twice`);
  if (f.smsSent !== f.reportsInDatabase) problems.push(`${f.reportsInDatabase} reports, ${f.smsSent} SMS sent (${f.smsUnsent.join(' | ') || 'no message for the others'})`);
  if (f.smsSentTwice) problems.push(`${f.smsSentTwice} SMS sent twice`);
  if (f.turnsStillSpooled) problems.push(`${f.turnsStillSpooled} turns still spooled`);
  return problems;
}

export function formatHaDrill(f: HaDrillFigures): string {
  const phase = (p: PhaseFigures) => `  ${`${p.phase} phase`.padEnd(33)}${p.callers} callers: ${p.references} references, ${p.apologies} apologies${p.otherEndings ? `, ${p.otherEndings} other endings` : ''}, ${p.unanswered} unanswered`;
  const s = (n: number) => `${n.toFixed(1)} s`;
  return [
    '',
    'Failover drill (Redis Sentinel, PostgreSQL standby; two web processes and a worker)',
    `  requests sent                    ${f.requests}`,
    `  answered with CON/END            ${f.answered} (${f.requests - f.answered} unanswered)`,
    ...f.phases.map(phase),
    `  Redis primary killed             new primary after ${s(f.redis.switchSeconds)}; ${f.redis.apologies} apologies, the last ${s(f.redis.apologySeconds)} after the kill`,
    `  PostgreSQL primary killed        standby promoted after ${s(f.postgres.switchSeconds)}; ${f.postgres.apologies} apologies${f.postgres.apologies ? `, the last ${s(f.postgres.apologySeconds)} after the kill` : ''}; ${f.postgres.spooled} turns spooled`,
    `  reports expected / found         ${f.references} / ${f.reportsFound} (doubled: ${f.doubledReports}, in the database: ${f.reportsInDatabase})`,
    `  calls recorded twice             ${f.doubledCalls}`,
    `  follow-up SMS expected / sent    ${f.reportsInDatabase} / ${f.smsSent} (sent twice: ${f.smsSentTwice})`,
    `  turns still spooled              ${f.turnsStillSpooled}`,
  ].join('\n');
}

/** A Kalata process (`src/main/web.ts` or `worker.ts`) as a child; resolves once it says it runs, with its address for a web process. */
async function startKalata(script: 'web' | 'worker', env: NodeJS.ProcessEnv): Promise<{ proc: ManagedProcess; base?: string }> {
  let base: string | undefined;
  let ready: () => void = () => {};
  const started = new Promise<void>((r) => (ready = r));
  const proc = await spawnManaged(process.execPath, ['--import', 'tsx', join('src', 'main', `${script}.ts`)], {
    cwd: ROOT,
    env,
    stopSignal: 'SIGTERM',
    log: (line) => {
      const address = /Kalata is running on (http:\/\/\S+)/.exec(line)?.[1];
      if (address) base = address;
      if (/A first call|SMS worker running/.test(line)) ready();
    },
  });
  await Promise.race([
    started,
    proc.exited.then(async () => {
      throw await proc.startFailure(`npm run start:${script}`);
    }),
    sleep(60_000).then(() => {
      throw new Error(`${script} process did not start within 60 s:\n${proc.output()}`);
    }),
  ]);
  return { proc, ...(base ? { base } : {}) };
}

async function untilReady(bases: readonly string[], timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (const base of bases) {
    while ((await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) !== 200) {
      if (Date.now() > until) throw new Error(`${base} not ready again within ${timeoutMs / 1000} s`);
      await sleep(100);
    }
  }
}

const lastApologyAfter = (tally: Tally, from: number, killedAt: number) => {
  const times = tally.apologyTimes.slice(from);
  return { apologies: times.length, apologySeconds: times.length ? Math.max(0, (Math.max(...times) - killedAt) / 1000) : 0 };
};

export async function runHaDrill(options: HaDrillOptions): Promise<HaDrillFigures> {
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'kalata-drill-ha-'));
  chmodSync(dir, 0o755);
  const stops: (() => Promise<unknown> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  try {
    log('Starting Redis (primary, replica, three Sentinels) and PostgreSQL (primary, synchronous standby)...');
    const group = await startLocalRedisGroup({ dir: join(dir, 'redis'), downAfterMs: 1000 });
    stops.push(() => group.stop());
    const primary = await startLocalPostgres({ dir: join(dir, 'pg-primary'), durable: true });
    stops.push(() => primary.stop());
    const single = await primary.createDatabase('drill');
    const standby = await startLocalStandby({ dir: join(dir, 'pg-standby'), primary, synchronous: true });
    stops.push(() => standby.stop());
    const databaseUrl = `${single.replace(`127.0.0.1:${primary.port}`, `127.0.0.1:${primary.port},127.0.0.1:${standby.port}`)}?target_session_attrs=read-write`;

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: join(dir, 'data'),
      DATABASE_URL: databaseUrl,
      REDIS_SENTINELS: group.sentinelList,
      REDIS_SENTINEL_NAME: group.name,
      PHONE_HASH_KEY: randomBytes(32).toString('hex'),
      DATA_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      RATE_LIMIT_PER_PHONE: '0',
      RATE_LIMIT_PER_IP: '0',
    };
    log('Starting two web processes and the SMS worker...');
    const processes = await Promise.all([startKalata('web', env), startKalata('web', env), startKalata('worker', env)]);
    for (const p of processes) stops.push(() => p.proc.stop());
    const bases = processes.flatMap((p) => (p.base ? [p.base] : []));
    const db: Db = await createDatabase({ url: databaseUrl, poolSize: 2 });
    stops.push(() => db.destroy());
    const redis = connectRedis({ kind: 'sentinel', sentinels: group.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), name: group.name, tls: false }, { maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    stops.push(() => redis.disconnect());
    const spooled = () => patiently(() => redis.xlen('kalata:spool:turns'));

    const tally = newTally(APOLOGY);
    const phases = [newPhase('baseline', options.callersPerPhase), newPhase('redis-failover', options.callersPerPhase), newPhase('postgres-failover', options.callersPerPhase)] as const;
    // During a failover, new callers keep arriving for 8 s (the kill comes 1.5 s in): the apologies last as long as the switch does.
    const spread = Math.round(8000 / options.callersPerPhase);
    log('Phase 1: baseline');
    await burst(bases, phases[0], 1, tally);

    log('Phase 2: the Redis primary SIGKILLed mid-burst; the Sentinels promote the replica');
    let redisFigures: FailoverFigures = { switchSeconds: 0, apologySeconds: 0, apologies: 0 };
    const redisFrom = tally.apologyTimes.length;
    let redisKilledAt = 0;
    await burst(bases, phases[1], 2, tally, async () => {
      await sleep(1500);
      const old = await group.primaryPort();
      const node = group.nodes.find((n) => n.port === old)!;
      redisKilledAt = performance.now();
      process.kill(node.pid, 'SIGKILL');
      await group.waitForNewPrimary(old);
      redisFigures.switchSeconds = (performance.now() - redisKilledAt) / 1000;
      await untilReady(bases);
    }, spread);
    redisFigures = { ...redisFigures, ...lastApologyAfter(tally, redisFrom, redisKilledAt) };

    log('Phase 3: the PostgreSQL primary SIGKILLed mid-burst; pg_ctl promote on the standby a second later');
    const postgresFigures = { switchSeconds: 0, apologySeconds: 0, apologies: 0, spooled: 0 };
    const postgresFrom = tally.apologyTimes.length;
    let postgresKilledAt = 0;
    await burst(bases, phases[2], 3, tally, async () => {
      await sleep(1500);
      postgresKilledAt = performance.now();
      process.kill(primary.pid, 'SIGKILL');
      await sleep(1000);
      postgresFigures.spooled = await spooled();
      await standby.promote();
      postgresFigures.switchSeconds = (performance.now() - postgresKilledAt) / 1000;
      await untilReady(bases);
    }, spread);
    Object.assign(postgresFigures, lastApologyAfter(tally, postgresFrom, postgresKilledAt));

    log('Waiting for the spool to drain and the SMS to be sent...');
    const refs = [...tally.refs];
    const count = async () => {
      const reports = await db.selectFrom('reports').select(['ref', 'id']).execute().catch(() => []);
      const sent = await db.selectFrom('sms_outbox').select(['ref', 'id']).where('status', '=', 'dry_run').execute().catch(() => []);
      return { reports, sent, spooled: await spooled() };
    };
    let now = await count();
    for (let i = 0; i < 120; i++) {
      const given = new Set(now.reports.map((r) => r.ref));
      if (refs.every((r) => given.has(r)) && now.sent.length >= now.reports.length && now.spooled === 0) break;
      await sleep(500);
      now = await count();
    }
    const rowsPerRef = new Map<string, number>();
    for (const r of now.reports) rowsPerRef.set(r.ref, (rowsPerRef.get(r.ref) ?? 0) + 1);
    const reported = new Set(now.reports.map((r) => r.ref));
    const sendsTwice = await sql<{ n: number }>`select count(*)::int as n from (select message_id from sms_events where status = 'dry_run' group by message_id having count(*) > 1) twice`.execute(db);
    const callsTwice = await sql<{ n: number }>`select count(*)::int as n from (select gateway_session_id from calls group by channel, gateway_session_id having count(*) > 1) twice`.execute(db);
    const unsent = await db
      .selectFrom('sms_outbox')
      .select(['status', 'attempts', 'failure_reason'])
      .where('status', '!=', 'dry_run')
      .where('ref', 'in', now.reports.length ? now.reports.map((r) => r.ref) : ['none'])
      .limit(5)
      .execute();
    return {
      requests: tally.requests,
      answered: tally.answered,
      improper: tally.improper,
      strangeEndings: tally.strangeEndings,
      phases: [...phases],
      redis: redisFigures,
      postgres: postgresFigures,
      references: refs.length,
      reportsFound: refs.filter((r) => reported.has(r)).length,
      reportsInDatabase: now.reports.length,
      doubledReports: [...rowsPerRef.values()].filter((n) => n > 1).length,
      doubledCalls: callsTwice.rows[0]!.n,
      smsSent: now.sent.filter((m) => m.ref !== null && reported.has(m.ref)).length,
      smsSentTwice: sendsTwice.rows[0]!.n,
      smsUnsent: unsent.map((m) => `${m.status}, ${m.attempts} attempts${m.failure_reason ? `: ${m.failure_reason}` : ''}`),
      turnsStillSpooled: now.spooled,
    };
  } finally {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => {});
  }
}
