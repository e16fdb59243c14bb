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
import { runSmsWorker } from './sms-worker-run.js';
import { smscEnv, startTestSmsc } from '../test/support/smsc.js';

const total = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 16);
const window = Number(process.argv[4] ?? 10);

const smsc = await startTestSmsc();
const { seconds, sentRows } = await runSmsWorker({
  name: 'smpp',
  total,
  concurrency,
  env: { ...smscEnv(smsc), SMPP_WINDOW: String(window) },
});
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
    sentRows,
  }),
);
await smsc.close();
