/**
 * `node --import tsx bench/station-import.ts [--voters 500000]`: a big voters
 * import, measured. Fictional data (8 regions x 8 cercles x 8 communes x 8
 * centres x 4 stations, then N voters spread over them), on a throwaway
 * PostgreSQL (durable, as in production) and Redis, with the built code run
 * as deployed (node --max-old-space-size=128):
 *
 * 1. the command: `stations import` of the stations, then of the voters,
 *    then the voters again (re-importing changes nothing): wall time and
 *    peak RSS (VmHWM) of each run;
 * 2. the console: `npm start` (web and worker in one process); the voters
 *    file uploaded as the page sends it (raw body, streamed), imported by the
 *    worker; meanwhile a bounded USSD load (conversations that end with a
 *    NINA lookup) on /ussd/africastalking; its latency is compared with the
 *    same load without an import. Wall time from the upload's first byte to
 *    `done`, and the process's peak RSS.
 *
 * Everything listens on 127.0.0.1; every loop is bounded. Prints a table
 * and JSON (bench/results/station-import-*.json).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildDist, scriptNodeArgs } from '../src/main/build.js';
import { createDatabase, migrateToLatest } from '../src/store/database.js';
import { startLocalPostgres } from '../src/local-servers/local-postgres.js';
import { acceptsConnections, findFreePort, spawnManaged } from '../src/local-servers/local-process.js';
import { startLocalRedis } from '../src/local-servers/local-redis.js';
import { addUser, openSession } from '../src/store/user-store.js';
import { memoryMbOf } from './proc.js';
import { kalataEnvironment } from './kalata-env.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { voters: { type: 'string', default: '500000' }, callers: { type: 'string', default: '8' } } });
const VOTERS = Number(args.voters);
const CALLERS = Number(args.callers);
if (!Number.isInteger(VOTERS) || VOTERS < 1000 || VOTERS > 2_000_000) throw new Error('--voters: a whole number from 1,000 to 2,000,000');
if (!Number.isInteger(CALLERS) || CALLERS < 1 || CALLERS > 64) throw new Error('--callers: a whole number from 1 to 64');
/** Requests of the load without an import; the load during one stops when the import ends, or at most at this many requests. */
const BASELINE_REQUESTS = 4000;
const MAX_REQUESTS = 100_000;
const SIDE = 8;
const STATIONS_PER_CENTRE = 4;

const runId = `sti${Date.now().toString(36)}`;
const workDir = mkdtempSync(join(tmpdir(), 'kalata-bench-import-'));
chmodSync(workDir, 0o755);
const builtDir = join(root, '.tmp', runId);
process.on('exit', () => {
  rmSync(builtDir, { recursive: true, force: true });
  rmSync(workDir, { recursive: true, force: true });
});

const centreOf = (i: number) => {
  const c = i % SIDE ** 4;
  return `B-${1 + Math.floor(c / SIDE ** 3)}-${1 + (Math.floor(c / SIDE ** 2) % SIDE)}-${1 + (Math.floor(c / SIDE) % SIDE)}-${1 + (c % SIDE)}`;
};
const nina = (i: number) => `FICT${String(i).padStart(11, '0')}`;

function* stationLines(): Generator<string> {
  yield 'centre_code,region,cercle,commune,centre,address,station,hours';
  for (let c = 0; c < SIDE ** 4; c++) {
    const [r, ce, m, k] = centreOf(c).slice(2).split('-');
    for (let s = 1; s <= STATIONS_PER_CENTRE; s++) yield `${centreOf(c)},Région ${r} (fictive),Cercle ${r}.${ce},Commune ${r}.${ce}.${m},École ${k} (fictive),Quartier ${k},${s},08h-18h`;
  }
}
function* voterLines(n: number): Generator<string> {
  yield 'nina,centre_code,station';
  for (let i = 0; i < n; i++) yield `${nina(i)},${centreOf(i)},${1 + (Math.floor(i / SIDE ** 4) % STATIONS_PER_CENTRE)}`;
}
async function writeLines(file: string, lines: Iterable<string>): Promise<number> {
  const out = createWriteStream(file);
  for (const line of lines) if (!out.write(`${line}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  return statSync(file).size;
}

/** Peak RSS of a process while it runs: VmHWM, read until it exits (it only grows). */
function watchPeak(pid: number): { stop: () => number } {
  let peak = 0;
  const read = () => {
    try {
      peak = Math.max(peak, memoryMbOf(pid, 'VmHWM'));
    } catch {
      // exited
    }
  };
  read();
  const timer = setInterval(read, 20);
  return {
    stop: () => {
      clearInterval(timer);
      read();
      return peak;
    },
  };
}

const kalata = kalataEnvironment({ runId, workDir, logLevel: 'warn' });
const { secret } = kalata;
const env = (databaseUrl: string, redisUrl: string, port = 0): NodeJS.ProcessEnv =>
  kalata.env(port, { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, RATE_LIMIT_PER_PHONE: '0' });

/** `stations import FILE` as deployed; resolves its wall time and peak RSS. */
async function cliImport(built: string, file: string, databaseUrl: string, redisUrl: string, replace = false) {
  const started = performance.now();
  const child = spawn(process.execPath, ['--max-old-space-size=128', '--enable-source-maps', join(built, 'src/main/stations.js'), 'import', file, ...(replace ? ['--replace'] : [])], {
    cwd: root,
    env: env(databaseUrl, redisUrl),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const peak = watchPeak(child.pid!);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const peakRssMb = peak.stop();
  if (code !== 0) throw new Error(`stations import ${file} failed (${code}):\n${output}`);
  return { wallSeconds: Number(((performance.now() - started) / 1000).toFixed(1)), peakRssMb, output: output.trim() };
}

interface LoadStats {
  requests: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0);

/**
 * USSD callers, one conversation after another (language, "where to vote",
 * "by NINA", a NINA: the last step is a database lookup), until `stop()` says
 * so or `maxRequests` were sent.
 */
async function ussdLoad(url: string, maxRequests: number, stop: () => boolean, phoneBase: number): Promise<LoadStats> {
  const latencies: number[] = [];
  let sent = 0;
  let errors = 0;
  let calls = 0;
  const caller = async () => {
    while (sent < maxRequests && !stop()) {
      const call = ++calls;
      const session = `${runId}-${phoneBase}-${call}`;
      const phone = `+2237${String(phoneBase + call).padStart(7, '0')}`;
      for (const text of ['', '1', '1*3', '1*3*1', `1*3*1*${nina(call % VOTERS)}`]) {
        if (sent >= maxRequests) break;
        sent += 1;
        const body = new URLSearchParams({ sessionId: session, phoneNumber: phone, serviceCode: '*384*123#', networkCode: '99999', text }).toString();
        const t = performance.now();
        try {
          const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
          const reply = await res.text();
          if (res.status !== 200 || !/^(CON|END) /.test(reply)) errors += 1;
        } catch {
          errors += 1;
        }
        latencies.push(performance.now() - t);
      }
    }
  };
  await Promise.all(Array.from({ length: CALLERS }, caller));
  latencies.sort((a, b) => a - b);
  const r = (x: number) => Number(x.toFixed(1));
  return { requests: latencies.length, errors, p50: r(percentile(latencies, 50)), p90: r(percentile(latencies, 90)), p99: r(percentile(latencies, 99)), max: r(latencies.at(-1) ?? 0) };
}

console.log(`station import bench: ${VOTERS.toLocaleString('en')} voters, ${cpus().length} CPUs, Node ${process.version}, ${CALLERS} USSD callers`);
const built = await buildDist(root, join(builtDir, 'dist'));
const redis = await startLocalRedis({ dir: join(workDir, 'redis'), persist: false });
const postgres = await startLocalPostgres({ dir: join(workDir, 'pg'), durable: true });
try {
  const stationsFile = join(workDir, 'stations.csv');
  const votersFile = join(workDir, 'voters.csv');
  const stationsBytes = await writeLines(stationsFile, stationLines());
  const votersBytes = await writeLines(votersFile, voterLines(VOTERS));
  console.log(`files: stations ${(stationsBytes / 1e6).toFixed(1)} MB (${(SIDE ** 4 * STATIONS_PER_CENTRE).toLocaleString('en')} rows), voters ${(votersBytes / 1e6).toFixed(1)} MB`);

  // 1. The command.
  const cliUrl = await postgres.createDatabase('cli');
  const cli = {
    stations: await cliImport(built, stationsFile, cliUrl, redis.url),
    voters: await cliImport(built, votersFile, cliUrl, redis.url),
    votersAgain: await cliImport(built, votersFile, cliUrl, redis.url, true),
  };
  for (const [name, r] of Object.entries(cli)) console.log(`cli ${name}: ${r.wallSeconds} s, peak RSS ${r.peakRssMb} MB — ${r.output}`);

  // 2. The console, web and worker in one process (npm start).
  const consoleUrl = await postgres.createDatabase('console');
  const db = await createDatabase({ url: consoleUrl });
  await migrateToLatest(db);
  const admin = await addUser(db, 'bench-admin', 'admin', randomBytes(12).toString('hex'));
  const session = await openSession(db, admin, 3600_000);
  const port = await findFreePort();
  const server = await spawnManaged(process.execPath, scriptNodeArgs(root, 'start', built), { cwd: root, env: env(consoleUrl, redis.url, port), stopSignal: 'SIGTERM' });
  try {
    for (const deadline = Date.now() + 30_000; !(await acceptsConnections(port)); ) {
      if (server.exitInfo || Date.now() > deadline) throw new Error(`npm start did not listen:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const base = `http://127.0.0.1:${port}`;
    const headers = { cookie: `__Host-kalata=${session.token}`, 'x-csrf-token': session.csrfToken, 'content-type': 'text/csv' };
    const uploadAndWait = async (file: string, during?: (finished: () => boolean) => Promise<void>) => {
      const started = performance.now();
      const res = await fetch(`${base}/stations/import`, { method: 'POST', headers, body: Readable.toWeb(createReadStream(file)) as ReadableStream, duplex: 'half' } as RequestInit);
      const uploadedSeconds = (performance.now() - started) / 1000;
      if (res.status !== 202) throw new Error(`upload refused: ${res.status} ${await res.text()}`);
      const { id } = (await res.json()) as { id: string };
      let view: Record<string, unknown> = {};
      const poll = async () => {
        for (let i = 0; i < 6000 && !view.finished; i++) {
          view = (await (await fetch(`${base}/stations/imports/${id}`, { headers: { cookie: headers.cookie } })).json()) as Record<string, unknown>;
          if (!view.finished) await new Promise((r) => setTimeout(r, 100));
        }
      };
      await Promise.all([poll(), during?.(() => Boolean(view.finished))]);
      if (view.status !== 'done') throw new Error(`import ${id} ended as ${JSON.stringify(view)}`);
      return { wallSeconds: Number(((performance.now() - started) / 1000).toFixed(1)), uploadSeconds: Number(uploadedSeconds.toFixed(1)), message: String(view.message) };
    };
    const ussd = `${base}/ussd/africastalking/${secret}`;
    await uploadAndWait(stationsFile);
    await ussdLoad(ussd, 500, () => false, 1_000_000); // warm-up
    const idleRssMb = memoryMbOf(server.child.pid!, 'VmRSS');
    const baseline = await ussdLoad(ussd, BASELINE_REQUESTS, () => false, 2_000_000);
    const hwmBefore = memoryMbOf(server.child.pid!, 'VmHWM');
    let during: LoadStats | undefined;
    let maxRssMb = 0;
    const sampler = setInterval(() => (maxRssMb = Math.max(maxRssMb, memoryMbOf(server.child.pid!, 'VmRSS'))), 50);
    // The load runs from the upload's start until the import is done.
    const imported = await uploadAndWait(votersFile, async (finished) => {
      during = await ussdLoad(ussd, MAX_REQUESTS, finished, 3_000_000);
    }).finally(() => clearInterval(sampler));
    const consoleRun = { ...imported, idleRssMb, maxRssDuringImportMb: maxRssMb, peakRssBeforeMb: hwmBefore, peakRssAfterMb: memoryMbOf(server.child.pid!, 'VmHWM') };
    console.log(`console voters: ${consoleRun.wallSeconds} s from the first byte to done (upload ${consoleRun.uploadSeconds} s) — ${consoleRun.message}`);
    console.log(`console process RSS: ${idleRssMb} MB idle, at most ${maxRssMb} MB during the import; VmHWM ${hwmBefore} MB before, ${consoleRun.peakRssAfterMb} MB after`);
    console.log(`USSD latency (ms)     requests  errors  p50    p90    p99    max`);
    for (const [name, s] of [['without import', baseline], ['during import', during!]] as const) {
      console.log(`  ${name.padEnd(18)}  ${String(s.requests).padStart(8)}  ${String(s.errors).padStart(6)}  ${String(s.p50).padEnd(6)} ${String(s.p90).padEnd(6)} ${String(s.p99).padEnd(6)} ${s.max}`);
    }
    const results = { runId, voters: VOTERS, votersBytes, cpus: cpus().length, node: process.version, callers: CALLERS, cli, console: consoleRun, ussd: { baseline, during } };
    mkdirSync(join(root, 'bench', 'results'), { recursive: true });
    writeFileSync(join(root, 'bench', 'results', `station-import-${runId}.json`), `${JSON.stringify(results, null, 2)}\n`);
    await db.destroy();
  } finally {
    await server.stop();
  }
} finally {
  await postgres.stop();
  await redis.stop();
}
