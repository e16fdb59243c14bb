/**
 * `npm run drill`: the outage drill (`npm run drill -- --ha`: the failover drill, drill-ha.ts). Starts its own redis-server and
 * PostgreSQL, runs the hotline in this process, and sends bursts of callers
 * filing fraud reports while it takes the dependencies down in turn:
 *
 *   1. nothing broken (baseline);
 *   2. Redis stopped mid-burst, then started again (same data);
 *   3. PostgreSQL cut mid-burst, then restored;
 *   4. the SMS gateway answering 503 for a while (the real SDK, the gateway
 *      answered in-process by nock: nothing leaves the machine).
 *
 * The hotline reaches its Redis and its PostgreSQL through TCP proxies of its
 * own: a cut drops every connection and refuses new ones, and the restarted
 * Redis takes any free port (no race for the old one). Nothing else is
 * stopped: `npm test` runs the same drill, smaller, beside other test files.
 *
 * Then it checks that every request was answered with CON/END, that every
 * call ended with a reference or the apology, that each outage met callers
 * in their calls (and reports were filed while PostgreSQL was cut), that
 * every reference a caller was given is one report in PostgreSQL, and that
 * every report's SMS was sent exactly once. It prints the figures and exits 1 if anything is
 * missing or doubled. Bounded: a few hundred calls, loopback only.
 *
 * Imported (by test/e2e/drill.test.ts), it only exports runOutageDrill and
 * the checks on its figures.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../config/config.js';
import { createContext, type AppContext } from '../context.js';
import { startLocalPostgres } from '../local-servers/local-postgres.js';
import { startLocalRedis, type LocalRedis } from '../local-servers/local-redis.js';
import { startTcpProxy } from '../local-servers/local-tcp-proxy.js';
import { createApp } from '../web/app.js';
import { burst, midBurst, newPhase, newTally, patiently, REF, sleep, type PhaseFigures } from './drill-callers.js';
import { runMain } from './run-main.js';

/** The command's size; the test runs fewer. */
export const CALLERS_PER_PHASE = 40;
export interface DrillOptions {
  /** callers started in each phase, 15 ms apart (the command: CALLERS_PER_PHASE) */
  callersPerPhase: number;
  /** progress lines ("Phase 1: baseline"); default none */
  log?: (line: string) => void;
}

export interface DrillFigures {
  requests: number;
  /** HTTP 200 with CON or END */
  answered: number;
  /** a few of the answers that were not CON/END (status and start of the body) */
  improper: string[];
  /** a few of the other endings (phase, request, the screen) */
  strangeEndings: string[];
  phases: PhaseFigures[];
  /** references the callers were given */
  references: number;
  /** of those, given while PostgreSQL was cut */
  referencesWhileCut: number;
  /** of those, found in the reports table */
  reportsFound: number;
  /** every report in the database (a turn recorded whose reply the caller missed has one too) */
  reportsInDatabase: number;
  /** references with more than one report row */
  doubledReports: number;
  /** reports whose SMS is marked sent */
  smsSent: number;
  /** references the gateway received more than once */
  smsSentTwice: number;
  smsFailed: number;
  /** a few of the messages of a report not sent (status, attempts, reason) */
  smsUnsent: string[];
  turnsStillSpooled: number;
  /** that each outage hit callers: turns waiting in the spool as PostgreSQL came back, 503s the gateway answered */
  spooledWhileCut: number;
  gatewayRefusals: number;
}

/**
 * What is wrong with a drill's figures, one line each; empty when it passed.
 * An apology is a proper answer (README: a Redis away or slower than 500 ms
 * costs the caller an apology, not a wait), so a busy machine may turn some
 * references of any phase into apologies; but no other ending, and every
 * reference given must be one report with one SMS.
 */
export function drillProblems(f: DrillFigures): string[] {
  const problems: string[] = [];
  if (f.answered !== f.requests) problems.push(`${f.requests - f.answered} of ${f.requests} requests not answered with CON/END: ${f.improper.join(' | ')}`);
  for (const p of f.phases) {
    if (p.unanswered) problems.push(`${p.phase}: ${p.unanswered} callers left without an answer`);
    if (p.otherEndings) problems.push(`${p.phase}: ${p.otherEndings} calls ended with neither a reference nor the apology: ${f.strangeEndings.join(' | ')}`);
    if (p.phase !== 'redis' && p.references === 0) problems.push(`${p.phase}: no caller got a reference`);
  }
  // An outage no caller met proves nothing.
  if (!f.phases.some((p) => p.phase === 'redis' && p.apologies > 0)) problems.push('the Redis outage hit no call');
  if (f.spooledWhileCut === 0) problems.push('no turn waited in the spool: the PostgreSQL cut hit no call');
  if (f.referencesWhileCut === 0) problems.push('no caller got a reference while PostgreSQL was cut');
  if (f.gatewayRefusals === 0) problems.push('the SMS gateway never answered 503');
  if (f.reportsFound !== f.references) problems.push(`${f.references} references given, ${f.reportsFound} found as reports`);
  if (f.doubledReports) problems.push(`${f.doubledReports} references recorded twice`);
  if (f.smsSent !== f.reportsInDatabase) problems.push(`${f.reportsInDatabase} reports, ${f.smsSent} SMS sent (${f.smsUnsent.join(' | ') || 'no message for the others'})`);
  if (f.smsSentTwice) problems.push(`${f.smsSentTwice} SMS sent twice`);
  if (f.smsFailed) problems.push(`${f.smsFailed} SMS failed`);
  if (f.turnsStillSpooled) problems.push(`${f.turnsStillSpooled} turns still spooled`);
  return problems;
}

/** The figures as the command prints them. */
export function formatDrill(f: DrillFigures): string {
  const phase = (p: PhaseFigures) =>
    `  ${`${p.phase} phase`.padEnd(33)}${p.callers} callers: ${p.references} references, ${p.apologies} apologies${p.otherEndings ? `, ${p.otherEndings} other endings` : ''}, ${p.unanswered} unanswered`;
  return [
    '',
    'Outage drill',
    `  requests sent                    ${f.requests}`,
    `  answered with CON/END            ${f.answered} (${f.requests - f.answered} unanswered)`,
    ...f.phases.map(phase),
    `  apologies (END, no reference)    ${f.phases.reduce((n, p) => n + p.apologies, 0)}`,
    `  references given to callers      ${f.references} (${f.referencesWhileCut} while PostgreSQL was cut)`,
    `  reports expected / found         ${f.references} / ${f.reportsFound} (doubled: ${f.doubledReports}, in the database: ${f.reportsInDatabase})`,
    `  follow-up SMS expected / sent    ${f.reportsInDatabase} / ${f.smsSent} (sent twice: ${f.smsSentTwice}, failed: ${f.smsFailed})`,
    `  turns still spooled              ${f.turnsStillSpooled} (${f.spooledWhileCut} while PostgreSQL was cut)`,
    `  gateway answers 503              ${f.gatewayRefusals}`,
  ].join('\n');
}

/** Waits until the hotline reaches Redis and PostgreSQL again by itself, so that an outage ends before the next phase begins. */
async function untilReady(ctx: AppContext): Promise<void> {
  for (let i = 0; ; i++) {
    const checks = await ctx.readiness();
    if (checks.redis === 'ok' && checks.database === 'ok') return;
    if (i >= 300) throw new Error(`the hotline did not reconnect within 30 s: ${JSON.stringify(checks)}`);
    await sleep(100);
  }
}

/**
 * Runs the drill on servers of its own (a temporary folder, removed at the
 * end) and resolves its figures; drillProblems() says whether it passed.
 */
export async function runOutageDrill(options: DrillOptions): Promise<DrillFigures> {
  const log = options.log ?? (() => {});
  const nock = (await import('nock')).default;
  const dir = mkdtempSync(join(tmpdir(), 'kalata-drill-'));
  chmodSync(dir, 0o755);
  log('Starting redis-server and PostgreSQL...');
  const stops: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => {});
  };
  try {
    let redis: LocalRedis = await startLocalRedis({ dir: join(dir, 'redis'), persist: true });
    stops.push(() => redis.stop());
    const postgres = await startLocalPostgres({ dir: join(dir, 'pg') });
    stops.push(() => postgres.stop());
    const databaseUrl = new URL(await postgres.createDatabase('drill'));
    const pgProxy = await startTcpProxy(Number(databaseUrl.port));
    stops.push(() => pgProxy.close());
    databaseUrl.port = String(pgProxy.port);
    const redisProxy = await startTcpProxy(redis.port);
    stops.push(() => redisProxy.close());

    // The SMS gateway, answered in-process; `gatewayUp` false answers 503.
    let gatewayUp = true;
    let gatewayRefusals = 0;
    const sentTo = new Map<string, number>();
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
    stops.push(() => {
      nock.cleanAll();
      nock.restore();
    });
    nock('https://api.sandbox.africastalking.com')
      .persist()
      .post('/version1/messaging')
      .reply(async (request: Request) => {
        if (!gatewayUp) {
          gatewayRefusals += 1;
          return [503, 'Service Unavailable'];
        }
        const message = new URLSearchParams(await request.text()).get('message') ?? '';
        const ref = REF.exec(message)?.[0] ?? '?';
        sentTo.set(ref, (sentTo.get(ref) ?? 0) + 1);
        return [201, { SMSMessageData: { Message: 'Sent to 1/1', Recipients: [{ statusCode: 101, number: '+22370000000', status: 'Success', cost: 'XOF 25', messageId: `ATXid_${ref}_${Date.now()}` }] } }];
      });

    const config = loadConfig({
      ...process.env,
      LOG_LEVEL: 'fatal',
      DATA_DIR: dir,
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
      AT_USERNAME: 'sandbox',
      AT_API_KEY: 'drill',
      RATE_LIMIT_PER_PHONE: '0',
      RATE_LIMIT_PER_IP: '0',
      NODE_ENV: 'development',
    });
    const ctx: AppContext = await createContext(config, { worker: true, smsAttempts: 8, smsBackoffMs: 300, smsRelayEveryMs: 500, spoolDrainEveryMs: 500 });
    stops.push(() => ctx.close());
    const server = createApp(ctx).listen(0, '127.0.0.1');
    stops.push(() => {
      server.closeAllConnections();
      server.close();
    });
    await new Promise<void>((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const tally = newTally(ctx.calls.apology('fr').text);
    const phases = [newPhase('baseline', options.callersPerPhase), newPhase('redis', options.callersPerPhase), newPhase('postgres', options.callersPerPhase), newPhase('sms', options.callersPerPhase)] as const;

    log('Phase 1: baseline');
    await burst([base], phases[0], 1, tally);
    log('Phase 2: Redis stopped mid-burst, then restarted');
    await burst([base], phases[1], 2, tally, async () => {
      await midBurst(phases[1], tally);
      redisProxy.cut();
      await redis.stop();
      await sleep(1500);
      // Its append-only file brings the sessions back; any free port will do behind the proxy.
      redis = await startLocalRedis({ dir: join(dir, 'redis'), persist: true });
      redisProxy.restore(redis.port);
      await untilReady(ctx);
    });
    log('Phase 3: PostgreSQL cut mid-burst, then restored');
    let spooledWhileCut = 0;
    await burst([base], phases[2], 3, tally, async () => {
      await midBurst(phases[2], tally);
      pgProxy.cut();
      tally.cut = true;
      await sleep(2500);
      spooledWhileCut = await patiently(() => ctx.spool.size());
      tally.cut = false;
      pgProxy.restore();
      await untilReady(ctx);
    });
    log('Phase 4: SMS gateway answering 503, then back');
    await burst([base], phases[3], 4, tally, async () => {
      gatewayUp = false;
      await sleep(3000);
      gatewayUp = true;
    });

    // Let the spool drain and the worker catch up.
    log('Waiting for the database writes and the SMS to settle...');
    const refs = [...tally.refs];
    const count = async () => {
      const reports = await ctx.db.selectFrom('reports').select(['ref', 'id']).execute();
      const sent = await ctx.db.selectFrom('sms_outbox').select('ref').where('status', '=', 'sent').execute();
      return { reports, sent, spooled: await patiently(() => ctx.spool.size()) };
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
    const failed = await ctx.db.selectFrom('sms_outbox').select('ref').where('status', '=', 'failed').execute();
    const unsent = await ctx.db
      .selectFrom('sms_outbox')
      .select(['status', 'attempts', 'failure_reason'])
      .where('status', '!=', 'sent')
      .where('ref', 'in', now.reports.length ? now.reports.map((r) => r.ref) : ['none'])
      .limit(5)
      .execute();
    return {
      requests: tally.requests,
      answered: tally.answered,
      improper: tally.improper,
      strangeEndings: tally.strangeEndings,
      phases: [...phases],
      references: refs.length,
      referencesWhileCut: tally.referencesWhileCut,
      reportsFound: refs.filter((r) => reported.has(r)).length,
      reportsInDatabase: now.reports.length,
      doubledReports: [...rowsPerRef.values()].filter((n) => n > 1).length,
      smsSent: now.sent.filter((m) => m.ref !== null && reported.has(m.ref)).length,
      smsSentTwice: [...sentTo.values()].filter((n) => n > 1).length,
      smsFailed: failed.length,
      smsUnsent: unsent.map((m) => `${m.status}, ${m.attempts} attempts${m.failure_reason ? `: ${m.failure_reason}` : ''}`),
      turnsStillSpooled: now.spooled,
      spooledWhileCut,
      gatewayRefusals,
    };
  } finally {
    await stopAll();
  }
}

// Run as a command; imported, it only exports the drill.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runMain(async () => {
    if (process.argv.includes('--ha')) {
      // The failover drill (drill-ha.ts): Sentinel and a PostgreSQL standby, real processes.
      const { formatHaDrill, haDrillProblems, runHaDrill } = await import('./drill-ha.js');
      const figures = await runHaDrill({ callersPerPhase: CALLERS_PER_PHASE, log: (line) => console.log(line) });
      console.log(formatHaDrill(figures));
      const problems = haDrillProblems(figures);
      console.log(problems.length ? `FAIL: ${problems.join('; ')}` : 'PASS: every call answered, every report and SMS exactly once, through both failovers');
      if (problems.length) process.exitCode = 1;
      return;
    }
    const figures = await runOutageDrill({ callersPerPhase: CALLERS_PER_PHASE, log: (line) => console.log(line) });
    console.log(formatDrill(figures));
    const problems = drillProblems(figures);
    console.log(problems.length ? `FAIL: ${problems.join('; ')}` : 'PASS: every call answered, every report and SMS exactly once');
    if (problems.length) process.exitCode = 1;
  });
}
