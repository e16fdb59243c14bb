/**
 * The load generator, run as its own process so that it never shares an event
 * loop with the server it measures. It drives autocannon with whole
 * conversations: each connection plays callers one after another, every
 * call a new session id and a new phone number, and checks every answer.
 *
 *   node --import tsx bench/load/ussd-load.ts '{"urls":["http://127.0.0.1:4100/ussd"],"mix":"kalata",...}'
 *
 * Prints one JSON line: throughput, latency percentiles, errors, and the
 * counts the orchestrator needs to check the records.
 */
import autocannon from 'autocannon';
import { startCpuCount, type CpuProbe } from '../proc.js';
import { atText, INFO_TURNS, TURNS, VOICE_TURNS, voiceFields, type Turn } from './conversations.js';

/** Kalata's apologies (locales/fr/common.json): a caller turned away, not a wrong screen. */
const APOLOGY = /^END (Service indisponible|Trop de demandes)/;

export interface LoadOptions {
  urls: string[];
  /** kalata: the realistic mix on the real flows; info: a plain 4-step information call; voice: the voice line's; menu: a three-level menu (the references) */
  mix: 'kalata' | 'info' | 'voice' | 'menu';
  connections: number;
  /** seconds */
  duration: number;
  /** session ids start with it, so the records of this run can be counted */
  runId: string;
  /** the first phone number's last 7 digits (each call takes the next one) */
  phoneBase: number;
  /** processes whose CPU time is counted while the load runs (servers, PostgreSQL, Redis) */
  cpuProbes?: CpuProbe[];
}

export interface LoadResult {
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  /** requests sent and answered, as counted here */
  sent: number;
  answered: number;
  /** answers that were not what the screen must show (an apology counts here) */
  wrongAnswers: number;
  /** autocannon's own errors: timeouts, resets, non-2xx */
  errors: number;
  timeouts: number;
  non2xx: number;
  /** calls begun (first request answered), steps answered, reports confirmed */
  callsAnswered: number;
  stepsAnswered: number;
  reportsConfirmed: number;
  samplesOfWrongAnswers: string[];
  /** of the wrong answers, Kalata's apologies (overload, deadline); absent in older results */
  apologies?: number;
  /** requests not sent because the caller had hung up on an early END (health-page requests took their place) */
  hungUp?: number;
  durationSeconds: number;
  /** share of one core each probed process used while the load ran, percent; `load` is this generator */
  cpuPercent: Record<string, number>;
}

/** The three-level menu both references serve: language, home, one choice, END. */
const MENU_TURNS: Turn[] = [0, 1, 2, 3].map((index) => ({
  conversation: {
    name: 'menu',
    inputs: ['1', '1', '2'],
    expect: [/^CON Kalata/, /^CON Kalata/, /^CON /, /^(CON|END) /],
  },
  index,
}));

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const turns = opts.mix === 'kalata' ? TURNS : opts.mix === 'info' ? INFO_TURNS : opts.mix === 'voice' ? VOICE_TURNS : MENU_TURNS;
  let calls = 0;
  const counts = { sent: 0, answered: 0, wrong: 0, apologies: 0, hungUp: 0, callsAnswered: 0, reports: 0 };
  const samples: string[] = [];
  const path = new URL(opts.urls[0]!).pathname;
  const requests = turns.map((turn) => ({
    method: 'POST' as const,
    path,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    setupRequest: (req: autocannon.Request, ctx: object) => {
      const context = ctx as Record<string, string>;
      if (turn.index === 0) {
        calls += 1;
        context.session = `${opts.runId}-${calls}`;
        context.phone = `+2237${String(opts.phoneBase + calls).padStart(7, '0')}`;
        delete context.hungUp;
      }
      if (context.hungUp) {
        // The caller got an END (an apology) before the end of the call: a person hangs up, and sends
        // no more keys. The connection asks for the health page instead, counted apart, until the next call.
        return { ...req, method: 'GET' as const, path: '/healthz', body: '', headers: {} };
      }
      counts.sent += 1;
      req.body = new URLSearchParams(
        opts.mix === 'voice'
          ? { isActive: '1', sessionId: context.session!, direction: 'Inbound', callerNumber: context.phone!, destinationNumber: '+22320200000', ...voiceFields(turn) }
          : { sessionId: context.session!, serviceCode: '*384*123#', phoneNumber: context.phone!, networkCode: '61001', text: atText(turn) },
      ).toString();
      return req;
    },
    onResponse: (status: number, body: string, ctx: object) => {
      const context = ctx as Record<string, string>;
      if (context.hungUp) {
        counts.hungUp += 1;
        return;
      }
      counts.answered += 1;
      const ok = status === 200 && turn.conversation.expect[turn.index]!.test(body);
      if (!ok) {
        counts.wrong += 1;
        if (body.startsWith('END ') && turn.index < turn.conversation.expect.length - 1) context.hungUp = '1';
        if (status === 200 && APOLOGY.test(body)) counts.apologies += 1;
        if (samples.length < 5) samples.push(`${turn.conversation.name}#${turn.index} ${status}: ${body.slice(0, 120)}`);
        return;
      }
      if (turn.index === 0) counts.callsAnswered += 1;
      if (body.startsWith('END Merci. Votre référence') || body.includes('>Merci. Votre référence:')) counts.reports += 1;
    },
  }));

  const cpuBefore = process.cpuUsage();
  const countCpu = startCpuCount(opts.cpuProbes ?? []);
  const result = await autocannon({
    // Several URLs share the connections out (autocannon 9; the types say one).
    url: opts.urls as unknown as string,
    connections: opts.connections,
    duration: opts.duration,
    pipelining: 1,
    timeout: 10,
    requests,
  });
  const cpuPercent = countCpu();
  const own = process.cpuUsage(cpuBefore);
  cpuPercent.load = Math.round((own.user + own.system) / 1e4 / Math.max(result.duration, 0.001));
  const l = result.latency;
  return {
    requestsPerSecond: Math.round((result.requests.total - counts.hungUp) / Math.max(result.duration, 0.001)),
    latencyMs: { p50: l.p50, p90: l.p90, p99: l.p99, p999: l.p99_9, max: l.max, mean: l.average },
    sent: counts.sent,
    answered: counts.answered,
    wrongAnswers: counts.wrong,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    callsAnswered: counts.callsAnswered,
    stepsAnswered: counts.answered - counts.wrong,
    reportsConfirmed: counts.reports,
    samplesOfWrongAnswers: samples,
    apologies: counts.apologies,
    hungUp: counts.hungUp,
    durationSeconds: result.duration,
    cpuPercent,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
  console.log(JSON.stringify(await runLoad(opts)));
}
