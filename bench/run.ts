/**
 * `npm run bench`: Kalata's webhook against a bare Express server, the peer
 * library ussd-builder and Express with one Redis round trip, in one run, on
 * this machine; also the engine micro-benchmarks and the SMS worker's
 * throughput, through Africa's Talking (mocked HTTP) and by SMPP (an
 * in-process SMPP server). The setups take turns, round after round (3 rounds of 6 s
 * each), and the ratios are the medians of each round's: this machine's speed
 * drifts by tens of percent within minutes, and interleaving spreads a slow
 * spell over all setups.
 *
 *   npm run bench                 # about 2 minutes
 *   npm run bench -- --smoke      # a few seconds: checks the bench still works (CI)
 *
 * Everything listens on 127.0.0.1. Redis and PostgreSQL are throwaway servers
 * started here (PostgreSQL with fsync and synchronous commit on, as in
 * production), unless BENCH_REDIS_URL / BENCH_DATABASE_URL name others.
 * Each server under test is its own process; the load comes from another
 * (autocannon). Results: a table on stdout, and JSON in bench/results/.
 *
 * Settings: BENCH_CONNECTIONS (64), BENCH_ROUNDS (3), BENCH_DURATION (6 s a
 * round), BENCH_WARMUP (3 s); BENCH_ONLY=c,d runs only those setups (add `micro` for the engine and SMS micro-benchmarks); BENCH_PROFILE=1 writes a CPU profile of each server process to
 * bench/results/profiles (open it in Chrome DevTools); BENCH_RESULTS_DIR
 * writes the JSON elsewhere.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { buildDist, scriptNodeArgs } from '../src/main/build.js';
import { createDatabase, migrateToLatest } from '../src/store/database.js';
import { startLocalPostgres } from '../src/local-servers/local-postgres.js';
import { acceptsConnections, findFreePort, spawnManaged, type ManagedProcess } from '../src/local-servers/local-process.js';
import { memoryMbOf } from './proc.js';
import { startLocalRedis } from '../src/local-servers/local-redis.js';
import type { LoadOptions, LoadResult } from './load/ussd-load.js';
import type { SurgeOptions } from './load/surge-load.js';
import { STEPS_PER_CYCLE, CALLS_PER_CYCLE } from './load/conversations.js';
import { combine, formatTable, judge, median, type BenchReport, type TargetRun } from './report.js';
import { kalataEnvironment } from './kalata-env.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const smoke = process.argv.includes('--smoke');
const connections = Number(process.env.BENCH_CONNECTIONS ?? (smoke ? 4 : 64));
const duration = Number(process.env.BENCH_DURATION ?? (smoke ? 1 : 6));
const rounds = Number(process.env.BENCH_ROUNDS ?? (smoke ? 1 : 3));
const warmup = Number(process.env.BENCH_WARMUP ?? (smoke ? 0 : 3));
// Each load numbers its calls' phones in a range of 100,000: the fastest setup makes under 2,000 calls/s.
for (const [name, value, least, most] of [['BENCH_CONNECTIONS', connections, 1, 1000], ['BENCH_DURATION', duration, 1, 50], ['BENCH_ROUNDS', rounds, 1, 20], ['BENCH_WARMUP', warmup, 0, 50]] as const) {
  if (!Number.isInteger(value) || value < least || value > most) {
    console.error(`bench: ${name} must be a whole number from ${least} to ${most}`);
    process.exit(2);
  }
}
const only = (process.env.BENCH_ONLY ?? 'a,b,e,c,i,d,v,s,micro').split(',');
// The surge (s): callers arriving at 5x the realistic mix's request rate (open loop, bench/load/surge-load.ts), for this long, through at most this many connections.
const surgeSeconds = Number(process.env.BENCH_SURGE_SECONDS ?? (smoke ? 1 : 60));
const surgeConnections = Number(process.env.BENCH_SURGE_CONNECTIONS ?? (smoke ? 16 : 1000));
const runId = `bench${Date.now().toString(36)}`;

// Kalata's web process as deployed: `npm run start:web`'s node arguments, on freshly built code.
const builtDir = join(root, '.tmp', runId);
const workDir = mkdtempSync(join(tmpdir(), 'kalata-bench-'));
// Whatever ends the run, even a failure while setting up: the servers are stopped by their own exit
// hooks (local-process.ts), and the folders go with them.
process.on('exit', () => {
  rmSync(builtDir, { recursive: true, force: true });
  rmSync(workDir, { recursive: true, force: true });
});
const built = await buildDist(root, join(builtDir, 'dist'));
const kalataArgs = () => scriptNodeArgs(root, 'start:web', built);
chmodSync(workDir, 0o755);
const redis = process.env.BENCH_REDIS_URL ? undefined : await startLocalRedis({ dir: join(workDir, 'redis'), persist: true });
const postgres = process.env.BENCH_DATABASE_URL ? undefined : await startLocalPostgres({ dir: join(workDir, 'pg'), durable: true });
const redisUrl = process.env.BENCH_REDIS_URL ?? redis!.url;
const databaseUrl = process.env.BENCH_DATABASE_URL ?? (await postgres!.createDatabase('bench'));
const db = await createDatabase({ url: databaseUrl });
await migrateToLatest(db);

const kalata = kalataEnvironment({ databaseUrl, redisUrl, runId, workDir, logLevel: 'info' });
const { secret } = kalata;
const kalataEnv = (port: number): NodeJS.ProcessEnv => kalata.env(port);

interface Server {
  proc: ManagedProcess;
  url: string;
}

const reference = (file: string) => ['--import', 'tsx', file];

/** Starts one server process and waits until its port accepts connections. */
async function startServer(args: string[], env: (port: number) => NodeJS.ProcessEnv, path: (port: number) => string): Promise<Server> {
  const file = args[args.length - 1]!;
  const port = await findFreePort();
  const profile = process.env.BENCH_PROFILE === '1' ? ['--cpu-prof', `--cpu-prof-dir=${join(root, 'bench', 'results', 'profiles')}`] : [];
  const proc = await spawnManaged(process.execPath, [...profile, ...args], { cwd: root, env: env(port), stopSignal: 'SIGTERM' });
  const deadline = Date.now() + 30_000;
  while (!(await acceptsConnections(port))) {
    if (proc.exitInfo) throw await proc.startFailure(file);
    if (Date.now() > deadline) throw new Error(`${file} did not listen within 30 s:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, url: `http://127.0.0.1:${port}${path(port)}` };
}

/** Starts several servers at once; if one fails, stops the others before failing. */
async function startAll(args: string[][], env: (port: number) => NodeJS.ProcessEnv, path: (port: number) => string): Promise<Server[]> {
  const started = await Promise.allSettled(args.map((a) => startServer(a, env, path)));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!failed) return started.map((r) => (r as PromiseFulfilledResult<Server>).value);
  await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.proc.stop() : undefined)));
  throw failed.reason;
}

/** Runs a child script and returns the JSON object its last line prints. */
async function runJson<T>(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const proc = await spawnManaged(process.execPath, ['--import', 'tsx', ...args], { cwd: root, env, stopSignal: 'SIGTERM' });
  const exit = await proc.exited;
  const { output } = await proc.describeExit();
  const last = output.trim().split('\n').pop() ?? '';
  if (exit.code !== 0) throw new Error(`${args[0]} failed (exit ${exit.code}):\n${output}`);
  return JSON.parse(last) as T;
}

/** Group commit, from the servers' own metrics (means over the run): turns per commit, and milliseconds a commit takes. */
async function groupCommit(servers: Server[]): Promise<{ turnsPerCommit: number; msPerCommit: number }> {
  const total = { turns: 0, seconds: 0, commits: 0 };
  for (const s of servers) {
    const text = await (await fetch(new URL('/metrics', s.url))).text();
    const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    total.turns += metric('kalata_turn_batch_turns_sum');
    total.commits += metric('kalata_turn_batch_turns_count');
    total.seconds += metric('kalata_turn_batch_seconds_sum');
  }
  const per = (x: number, digits: number) => (total.commits ? Number((x / total.commits).toFixed(digits)) : 0);
  return { turnsPerCommit: per(total.turns, 1), msPerCommit: per(total.seconds * 1000, 1) };
}

let loads = 0;
/** Every load gets its own session ids and phone numbers: no call of one run is mistaken for another's. */
async function load(setup: Setup, seconds: number): Promise<LoadResult> {
  loads += 1;
  if (loads > 99) throw new Error('too many loads for distinct phone numbers: fewer rounds');
  const opts: LoadOptions = {
    urls: setup.servers.map((s) => s.url),
    mix: setup.mix,
    connections,
    duration: seconds,
    runId: `${runId}-${setup.mix}-${loads}`,
    // Numbers are +2237 and 7 digits: 100,000 calls a load, for up to 99 loads.
    phoneBase: loads * 100_000,
    cpuProbes: [
      ...setup.servers.map((s) => ({ name: 'server', pid: s.proc.child.pid! })),
      ...(postgres && setup.mix !== 'menu' ? [{ name: 'postgres', pid: postgres.pid, children: true }] : []),
      ...(redis && setup.name !== 'a' ? [{ name: 'redis', pid: redis.pid }] : []),
    ],
  };
  return runJson<LoadResult>(['bench/load/ussd-load.ts', JSON.stringify(opts)]);
}

interface Setup {
  name: TargetRun['name'];
  label: string;
  servers: Server[];
  mix: LoadOptions['mix'];
  idleRssMb: number[];
  warmup?: LoadResult;
  rounds: LoadResult[];
  offered?: { rate: number; connections: number };
}

const atPath = () => `/ussd/africastalking/${secret}`;
const voicePath = () => `/voice/africastalking/${secret}`;
const runs: TargetRun[] = [];
const t0 = performance.now();
console.log(
  `Kalata bench${smoke ? ' (smoke)' : ''}: ${cpus().length} CPUs, Node ${process.version}, ${connections} connections, ` +
    `${warmup} s warm-up, then ${rounds} round(s) of ${duration} s per setup`,
);
const setups: Setup[] = [];
try {
  const micro = only.includes('micro');
  // First, while the outbox holds nothing else for its relay to pick up.
  const sms = !micro ? undefined : await runJson<Record<string, number>>(['bench/sms-throughput.ts', smoke ? '50' : '2000', '16'], {
    ...process.env,
    BENCH_REDIS_URL: redisUrl,
    BENCH_DATABASE_URL: databaseUrl,
    // The servers below use these keys on the same database, which keeps their fingerprints.
    ...kalata.keys,
  });
  // The same worker by SMPP, against a real SMPP server in the child process (no network, no pace).
  const smsSmpp = !micro ? undefined : await runJson<Record<string, number>>(['bench/smpp-throughput.ts', smoke ? '50' : '2000', '16', '10'], {
    ...process.env,
    BENCH_REDIS_URL: redisUrl,
    BENCH_DATABASE_URL: databaseUrl,
    ...kalata.keys,
  });
  const engine = !micro ? undefined : await runJson<Record<string, number>>(['bench/engine.ts', ...(smoke ? ['--smoke'] : [])]);

  const referenceServer = (file: string) => async () => [await startServer(reference(file), (p) => ({ ...process.env, PORT: String(p), REDIS_URL: redisUrl }), () => '/ussd')];
  const plan: { name: TargetRun['name']; label: string; start: () => Promise<Server[]>; mix: LoadOptions['mix'] }[] = [
    { name: 'a', label: '(a) bare Express 5 POST', mix: 'menu', start: referenceServer('bench/servers/bare-express.ts') },
    { name: 'b', label: '(b) ussd-builder, Redis sessions', mix: 'menu', start: referenceServer('bench/servers/ussd-builder.ts') },
    { name: 'e', label: '(e) Express + one Redis GET/SET', mix: 'menu', start: referenceServer('bench/servers/express-redis.ts') },
    { name: 'c', label: '(c) Kalata, realistic mix', mix: 'kalata', start: async () => [await startServer(kalataArgs(), kalataEnv, atPath)] },
    { name: 'i', label: '(i) Kalata, a 4-step information call', mix: 'info', start: async () => [await startServer(kalataArgs(), kalataEnv, atPath)] },
    { name: 'd', label: '(d) Kalata, two processes', mix: 'kalata', start: () => startAll([kalataArgs(), kalataArgs()], kalataEnv, atPath) },
    { name: 'v', label: '(v) Kalata, the voice line (AT voice XML)', mix: 'voice', start: async () => [await startServer(kalataArgs(), kalataEnv, voicePath)] },
  ];
  // Every server is up from the start; the setups then take turns, round after round, so that
  // a slow spell of this (shared, virtual) machine falls on all of them alike, not on one.
  for (const p of plan.filter((x) => only.includes(x.name))) {
    const servers = await p.start();
    setups.push({ name: p.name, label: p.label, mix: p.mix, servers, idleRssMb: servers.map((x) => memoryMbOf(x.proc.child.pid!, 'VmRSS')), rounds: [] });
  }
  if (warmup > 0) for (const s of setups) s.warmup = await load(s, warmup);
  for (let round = 1; round <= rounds; round++) {
    for (const s of setups) s.rounds.push(await load(s, duration));
    process.stdout.write(`  round ${round}/${rounds}: ${setups.map((s) => `${s.name} ${s.rounds[round - 1]!.requestsPerSecond}`).join(', ')} req/s\n`);
  }
  // The surge, once the rounds are over: a fresh Kalata process, callers arriving at 5x the rate (c) answered in the rounds.
  if (only.includes('s')) {
    const c = setups.find((x) => x.name === 'c');
    const rate = 5 * (c ? Math.round(median(c.rounds.map((l) => l.requestsPerSecond))) : 1000);
    const servers = [await startServer(kalataArgs(), kalataEnv, atPath)];
    const surge: Setup = { name: 's', label: '(s) Kalata, surge at 5x (open loop)', mix: 'kalata', servers, idleRssMb: servers.map((x) => memoryMbOf(x.proc.child.pid!, 'VmRSS')), rounds: [] };
    loads += 1;
    const surgeOpts: SurgeOptions = {
      url: servers[0]!.url,
      // The mix's request rate times 5, as calls: a call of the mix is STEPS_PER_CYCLE / CALLS_PER_CYCLE requests.
      callsPerSecond: Math.round((rate * CALLS_PER_CYCLE) / STEPS_PER_CYCLE),
      duration: surgeSeconds,
      runId: `${runId}-kalata-${loads}`,
      phoneBase: loads * 100_000,
      maxConnections: surgeConnections,
      timeoutMs: 10_000,
      cpuProbes: [{ name: 'server', pid: servers[0]!.proc.child.pid! }, ...(postgres ? [{ name: 'postgres', pid: postgres.pid, children: true }] : []), ...(redis ? [{ name: 'redis', pid: redis.pid }] : [])],
    };
    surge.rounds.push(await runJson<LoadResult>(['bench/load/surge-load.ts', JSON.stringify(surgeOpts)]));
    surge.offered = { rate, connections: surgeConnections };
    setups.push(surge);
    process.stdout.write(`  surge: ${rate} req/s asked, ${surge.rounds[0]!.requestsPerSecond} answered\n`);
  }
  for (const s of setups) {
    const batching = s.mix === 'kalata' ? await groupCommit(s.servers) : undefined;
    runs.push({
      name: s.name,
      label: s.label,
      processes: s.servers.length,
      result: combine(s.rounds),
      rounds: s.rounds,
      warmup: s.warmup,
      peakRssMb: s.servers.map((x) => memoryMbOf(x.proc.child.pid!, 'VmHWM')),
      idleRssMb: s.idleRssMb,
      ...batching,
      ...(s.offered ? { offered: s.offered } : {}),
    });
  }
  // Stopped before the records are counted: what they still held is flushed by then.
  await Promise.all(setups.flatMap((s) => s.servers.map((x) => x.proc.stop())));

  // Every call and step Kalata answered must be in PostgreSQL (the servers have stopped: all is flushed).
  const kalataRuns = runs.filter((r) => ['c', 'd', 'i', 'v', 's'].includes(r.name));
  const expected = { calls: 0, steps: 0, reports: 0, inFlight: 0, turnedAway: 0 };
  for (const r of kalataRuns) {
    for (const l of [r.warmup, ...r.rounds]) {
      if (!l) continue;
      expected.calls += l.callsAnswered;
      expected.steps += l.stepsAnswered;
      expected.reports += l.reportsConfirmed;
      expected.inFlight += l.sent - l.answered;
      if (r.name === 's') expected.turnedAway += l.wrongAnswers;
    }
  }
  const like = `${runId}-kalata-%`;
  const voiceLike = `${runId}-voice-%`;
  const infoLike = `${runId}-info-%`;
  const found = await sql<{ calls: string; steps: string; reports: string }>`
    with ours as (select id from calls where gateway_session_id like ${like} or gateway_session_id like ${voiceLike} or gateway_session_id like ${infoLike})
    select (select count(*) from ours) as calls,
           (select count(*) from call_steps s join ours c on c.id = s.call_id) as steps,
           (select count(*) from reports r join ours c on c.id = r.call_id) as reports`.execute(db);
  const row = found.rows[0]!;
  const recorded = { calls: Number(row.calls), steps: Number(row.steps), reports: Number(row.reports) };


  const report: BenchReport = {
    at: new Date().toISOString(),
    smoke,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    settings: { connections, rounds, durationSeconds: duration, warmupSeconds: warmup, stepsPerCycle: STEPS_PER_CYCLE, callsPerCycle: CALLS_PER_CYCLE },
    runs,
    records: { expected, recorded },
    engine,
    sms,
    smsSmpp,
    seconds: Math.round((performance.now() - t0) / 1000),
  };
  report.verdicts = judge(report);
  console.log(formatTable(report));
  const resultsDir = process.env.BENCH_RESULTS_DIR ?? join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `bench-${report.at.replace(/[:.]/g, '-')}${smoke ? '-smoke' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(resultsDir, smoke ? 'latest-smoke.json' : 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nJSON: ${file}`);
  // A bench that lost records, or answered wrongly, fails; missed speed targets are reported, not fatal.
  process.exitCode = report.verdicts.every((v) => v.ok || !v.fatal) ? 0 : 1;
} finally {
  await Promise.all(setups.flatMap((s) => s.servers.map((x) => x.proc.stop())));
  await db.destroy();
  await redis?.stop();
  await postgres?.stop();
  rmSync(workDir, { recursive: true, force: true });
  rmSync(builtDir, { recursive: true, force: true });
}
