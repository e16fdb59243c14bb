/**
 * The surge's load (setup s), open-loop: callers arrive at a fixed rate
 * whatever the server's speed, as on election day, instead of connections
 * that wait for their answer before sending more (autocannon's model, where a
 * slow server slows its own load down). Each caller plays a call of the
 * realistic mix, key after key as soon as the screen is there, and hangs up
 * on an END (an apology included). Latency is counted from the moment a
 * request was due, so time spent waiting for a free connection counts too.
 *
 *   node --import tsx bench/load/surge-load.ts '{"url":"http://127.0.0.1:4100/ussd/...","callsPerSecond":400,...}'
 *
 * Prints one JSON line, in the shape of ussd-load.ts's result. Calls still
 * going when the time is up are played to their end, so the record check is
 * exact.
 */
import { Agent, request } from 'node:http';
import { startCpuCount, type CpuProbe } from '../proc.js';
import { atText, CONVERSATIONS, type Conversation } from './conversations.js';
import type { LoadResult } from './ussd-load.js';

export interface SurgeOptions {
  url: string;
  /** callers arriving per second */
  callsPerSecond: number;
  /** seconds during which callers arrive */
  duration: number;
  runId: string;
  phoneBase: number;
  /** connections open at most (a gateway's pool); further requests wait for one */
  maxConnections: number;
  /** a request unanswered after this long is an error (a gateway gives up) */
  timeoutMs: number;
  cpuProbes?: CpuProbe[];
}

const APOLOGY = /^END (Service indisponible|Trop de demandes)/;

function post(agent: Agent, url: URL, body: string, timeoutMs: number): Promise<{ status: number; text: string } | 'timeout' | 'error'> {
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
        // From the moment it is due, waiting for a connection included.
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', () => resolve('error'));
      },
    );
    req.on('error', (err) => resolve(err.name === 'AbortError' || err.name === 'TimeoutError' ? 'timeout' : 'error'));
    req.end(body);
  });
}

export async function runSurge(opts: SurgeOptions): Promise<LoadResult> {
  const url = new URL(opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.maxConnections });
  const counts = { sent: 0, answered: 0, wrong: 0, apologies: 0, hungUp: 0, errors: 0, timeouts: 0, non2xx: 0, callsAnswered: 0, reports: 0 };
  const latencies: number[] = [];
  const samples: string[] = [];

  async function call(n: number, conversation: Conversation): Promise<void> {
    const session = `${opts.runId}-${n}`;
    const phone = `+2237${String(opts.phoneBase + n).padStart(7, '0')}`;
    for (let index = 0; index < conversation.expect.length; index++) {
      const text = atText({ conversation, index });
      const body = new URLSearchParams({ sessionId: session, serviceCode: '*384*123#', phoneNumber: phone, networkCode: '61001', text }).toString();
      const due = performance.now();
      counts.sent += 1;
      const res = await post(agent, url, body, opts.timeoutMs);
      if (res === 'timeout' || res === 'error') {
        counts[res === 'timeout' ? 'timeouts' : 'errors'] += 1;
        counts.hungUp += conversation.expect.length - index - 1;
        return;
      }
      latencies.push(performance.now() - due);
      counts.answered += 1;
      if (res.status !== 200) counts.non2xx += 1;
      if (res.status !== 200 || !conversation.expect[index]!.test(res.text)) {
        counts.wrong += 1;
        if (APOLOGY.test(res.text)) counts.apologies += 1;
        if (samples.length < 5) samples.push(`${conversation.name}#${index} ${res.status}: ${res.text.slice(0, 120)}`);
        // An END before the call's end: the caller hangs up; anything else, the caller gives up too.
        counts.hungUp += conversation.expect.length - index - 1;
        return;
      }
      if (index === 0) counts.callsAnswered += 1;
      if (res.text.startsWith('END Merci. Votre référence')) counts.reports += 1;
    }
  }

  const countCpu = startCpuCount(opts.cpuProbes ?? []);
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  const calls: Promise<void>[] = [];
  let started = 0;
  // Every 10 ms, the callers due by now: a steady arrival rate, not bursts of a second.
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = (performance.now() - began) / 1000;
      const due = Math.min(Math.floor(elapsed * opts.callsPerSecond), Math.floor(opts.duration * opts.callsPerSecond));
      while (started < due) {
        started += 1;
        calls.push(call(started, CONVERSATIONS[(started - 1) % CONVERSATIONS.length]!));
      }
      if (elapsed >= opts.duration) {
        clearInterval(tick);
        resolve();
      }
    }, 10);
  });
  await Promise.all(calls);
  const seconds = (performance.now() - began) / 1000;
  const cpuPercent = countCpu();
  const own = process.cpuUsage(cpuBefore);
  cpuPercent.load = Math.round((own.user + own.system) / 1e4 / seconds);
  agent.destroy();
  latencies.sort((x, y) => x - y);
  const at = (q: number) => (latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!) : 0);
  return {
    requestsPerSecond: Math.round(counts.answered / seconds),
    latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: at(1), mean: Math.round(latencies.reduce((a, b) => a + b, 0) / Math.max(latencies.length, 1)) },
    sent: counts.sent,
    answered: counts.answered,
    wrongAnswers: counts.wrong,
    apologies: counts.apologies,
    hungUp: counts.hungUp,
    errors: counts.errors + counts.timeouts,
    timeouts: counts.timeouts,
    non2xx: counts.non2xx,
    callsAnswered: counts.callsAnswered,
    stepsAnswered: counts.answered - counts.wrong,
    reportsConfirmed: counts.reports,
    samplesOfWrongAnswers: samples,
    durationSeconds: Math.round(seconds * 100) / 100,
    cpuPercent,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = JSON.parse(process.argv[2] ?? '{}') as SurgeOptions;
  console.log(JSON.stringify(await runSurge(opts)));
}
