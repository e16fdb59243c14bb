/**
 * `npm run bench`: Kalata's webhook against a bare Express server and the peer
 * library ussd-builder, in one run, one after another, on this machine; then
 * the engine micro-benchmarks and the SMS worker's throughput.
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
 * Settings: BENCH_CONNECTIONS (64), BENCH_DURATION (10 s), BENCH_WARMUP (3 s);
 * BENCH_ONLY=c,d runs only those setups; BENCH_PROFILE=1 writes a CPU profile of each server process to
 * bench/results/profiles (open it in Chrome DevTools); BENCH_RESULTS_DIR
 * writes the JSON elsewhere.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { buildDist, scriptNodeArgs } from '../src/main/build.js';
import { createDatabase, migrateToLatest } from '../src/store/database.js';
import { startLocalPostgres } from '../src/store/local-postgres.js';
import { findFreePort, spawnManaged, type ManagedProcess } from '../src/store/local-process.js';
import { startLocalRedis } from '../src/store/local-redis.js';
import type { LoadOptions, LoadResult } from './load/ussd-load.js';
import { STEPS_PER_CYCLE, CALLS_PER_CYCLE } from './load/conversations.js';
import { formatTable, judge, type BenchReport, type TargetRun } from './report.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const smoke = process.argv.includes('--smoke');
const connections = Number(process.env.BENCH_CONNECTIONS ?? (smoke ? 4 : 64));
const duration = Number(process.env.BENCH_DURATION ?? (smoke ? 1 : 10));
const warmup = Number(process.env.BENCH_WARMUP ?? (smoke ? 0 : 3));
const only = (process.env.BENCH_ONLY ?? 'a,b,c,d').split(',');
const runId = `bench${Date.now().toString(36)}`;

// Kalata's web process as deployed: `npm run start:web`'s node arguments, on freshly built code.
const built = await buildDist(root, join(root, '.tmp', runId, 'dist'));
const kalataArgs = () => scriptNodeArgs(root, 'start:web', built);

const workDir = mkdtempSync(join(tmpdir(), 'kalata-bench-'));
chmodSync(workDir, 0o755);
const redis = process.env.BENCH_REDIS_URL ? undefined : await startLocalRedis({ dir: join(workDir, 'redis'), persist: true });
const postgres = process.env.BENCH_DATABASE_URL ? undefined : await startLocalPostgres({ dir: join(workDir, 'pg'), durable: true });
const redisUrl = process.env.BENCH_REDIS_URL ?? redis!.url;
const databaseUrl = process.env.BENCH_DATABASE_URL ?? (await postgres!.createDatabase('bench'));
const db = await createDatabase({ url: databaseUrl });
await migrateToLatest(db);

const secret = randomBytes(16).toString('hex');
const phoneHashKey = randomBytes(32).toString('hex');
const dataEncryptionKey = randomBytes(32).toString('hex');
const kalataEnv = (port: number): NodeJS.ProcessEnv => ({
  ...process.env,
  NODE_ENV: 'production',
  PORT: String(port),
  HOST: '127.0.0.1',
  DATABASE_URL: databaseUrl,
  REDIS_URL: redisUrl,
  REDIS_PREFIX: `${runId}:`,
  WEBHOOK_SECRET: secret,
  PHONE_HASH_KEY: phoneHashKey,
  DATA_ENCRYPTION_KEY: dataEncryptionKey,
  DATA_DIR: workDir,
  LOG_LEVEL: 'info',
});

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
  while (!(await accepts(port))) {
    if (proc.exitInfo) throw await proc.startFailure(file);
    if (Date.now() > deadline) throw new Error(`${file} did not listen within 30 s:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, url: `http://127.0.0.1:${port}${path(port)}` };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A memory figure of /proc/PID/status, in MB: VmHWM is the most the process ever held, VmRSS what it holds now. */
function memoryMb(proc: ManagedProcess, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${proc.child.pid}/status`, 'utf8');
  return Math.round(Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024);
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

/** Turns per group commit, from the servers' own metrics (the mean over the run). */
async function turnsPerCommit(servers: Server[]): Promise<number> {
  let sum = 0;
  let count = 0;
  for (const s of servers) {
    const text = await (await fetch(new URL('/metrics', s.url))).text();
    sum += Number(/^kalata_turn_batch_turns_sum (\S+)$/m.exec(text)?.[1] ?? 0);
    count += Number(/^kalata_turn_batch_turns_count (\S+)$/m.exec(text)?.[1] ?? 0);
  }
  return count ? Number((sum / count).toFixed(1)) : 0;
}

let loads = 0;
/** Every load gets its own session ids and phone numbers: no call of one run is mistaken for another's. */
async function load(urls: string[], mix: LoadOptions['mix'], seconds: number): Promise<LoadResult> {
  loads += 1;
  const opts: LoadOptions = { urls, mix, connections, duration: seconds, runId: `${runId}-${mix}-${loads}`, phoneBase: loads * 1_000_000 };
  return runJson<LoadResult>(['bench/load/ussd-load.ts', JSON.stringify(opts)]);
}

/** Warm-up (not measured), then the measured run; peak RSS of every server process. */
async function measure(name: TargetRun['name'], label: string, servers: Server[], mix: LoadOptions['mix']): Promise<TargetRun> {
  const urls = servers.map((s) => s.url);
  const idleRss = servers.map((s) => memoryMb(s.proc, 'VmRSS'));
  const warm = warmup > 0 ? await load(urls, mix, warmup) : undefined;
  const result = await load(urls, mix, duration);
  const rss = servers.map((s) => memoryMb(s.proc, 'VmHWM'));
  const batching = mix === 'kalata' ? await turnsPerCommit(servers) : undefined;
  await Promise.all(servers.map((s) => s.proc.stop()));
  process.stdout.write(`  ${label.padEnd(44)} ${String(result.requestsPerSecond).padStart(6)} req/s  p99 ${result.latencyMs.p99} ms\n`);
  return { name, label, processes: servers.length, result, warmup: warm, peakRssMb: rss, idleRssMb: idleRss, ...(batching ? { turnsPerCommit: batching } : {}) };
}

const atPath = () => `/ussd/africastalking/${secret}`;
const runs: TargetRun[] = [];
const t0 = performance.now();
console.log(`Kalata bench${smoke ? ' (smoke)' : ''}: ${cpus().length} CPUs, Node ${process.version}, ${connections} connections, ${warmup} s warm-up + ${duration} s per target`);
try {
  // First, while the outbox holds nothing else for its relay to pick up.
  const sms = await runJson<Record<string, number>>(['bench/sms-throughput.ts', smoke ? '50' : '2000', '16'], {
    ...process.env,
    BENCH_REDIS_URL: redisUrl,
    BENCH_DATABASE_URL: databaseUrl,
  });
  const engine = await runJson<Record<string, number>>(['bench/engine.ts', ...(smoke ? ['--smoke'] : [])]);
  if (only.includes('a')) {
    const server = await startServer(reference('bench/servers/bare-express.ts'), (p) => ({ ...process.env, PORT: String(p) }), () => '/ussd');
    runs.push(await measure('a', '(a) bare Express 5 POST', [server], 'menu'));
  }
  if (only.includes('b')) {
    const server = await startServer(reference('bench/servers/ussd-builder.ts'), (p) => ({ ...process.env, PORT: String(p), REDIS_URL: redisUrl }), () => '/ussd');
    runs.push(await measure('b', '(b) ussd-builder, Redis sessions', [server], 'menu'));
  }
  if (only.includes('c')) runs.push(await measure('c', '(c) Kalata, realistic mix', [await startServer(kalataArgs(), kalataEnv, atPath)], 'kalata'));
  if (only.includes('d')) {
    const two = await Promise.all([startServer(kalataArgs(), kalataEnv, atPath), startServer(kalataArgs(), kalataEnv, atPath)]);
    runs.push(await measure('d', '(d) Kalata, two processes', two, 'kalata'));
  }

  // Every call and step Kalata answered must be in PostgreSQL (the servers have stopped: all is flushed).
  const kalataRuns = runs.filter((r) => r.name === 'c' || r.name === 'd');
  const expected = { calls: 0, steps: 0, reports: 0, inFlight: 0 };
  for (const r of kalataRuns) {
    for (const l of [r.warmup, r.result]) {
      if (!l) continue;
      expected.calls += l.callsAnswered;
      expected.steps += l.stepsAnswered;
      expected.reports += l.reportsConfirmed;
      expected.inFlight += l.sent - l.answered;
    }
  }
  const like = `${runId}-kalata-%`;
  const found = await sql<{ calls: string; steps: string; reports: string }>`
    select (select count(*) from calls where gateway_session_id like ${like}) as calls,
           (select count(*) from call_steps s join calls c on c.id = s.call_id where c.gateway_session_id like ${like}) as steps,
           (select count(*) from reports r join calls c on c.id = r.call_id where c.gateway_session_id like ${like}) as reports`.execute(db);
  const row = found.rows[0]!;
  const recorded = { calls: Number(row.calls), steps: Number(row.steps), reports: Number(row.reports) };


  const report: BenchReport = {
    at: new Date().toISOString(),
    smoke,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    settings: { connections, durationSeconds: duration, warmupSeconds: warmup, stepsPerCycle: STEPS_PER_CYCLE, callsPerCycle: CALLS_PER_CYCLE },
    runs,
    records: { expected, recorded },
    engine,
    sms,
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
  await db.destroy();
  await redis?.stop();
  await postgres?.stop();
  rmSync(workDir, { recursive: true, force: true });
  rmSync(dirname(built), { recursive: true, force: true });
}
