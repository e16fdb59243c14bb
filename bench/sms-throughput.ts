/**
 * SMS worker throughput: messages per second through one worker, through the
 * real africastalking SDK, with the gateway answered in-process by nock
 * (nothing leaves the machine). Real Redis and PostgreSQL, started here.
 *
 *   node --import tsx bench/sms-throughput.ts [messages=2000] [concurrency=16]
 */
import nock from 'nock';

const total = Number(process.argv[2] ?? 2000);
const concurrency = Number(process.argv[3] ?? 16);

let calls = 0;
nock.disableNetConnect();
nock.enableNetConnect(/127\.0\.0\.1|localhost/);
nock('https://api.sandbox.africastalking.com')
  .persist()
  .post('/version1/messaging')
  .reply(201, () => {
    calls += 1;
    return { SMSMessageData: { Message: 'Sent to 1/1', Recipients: [{ statusCode: 101, number: '+22376000000', status: 'Success', cost: 'XOF 25', messageId: `ATXid_${calls}` }] } };
  });

// Loaded after nock, so that the SDK's HTTP client is the intercepted one.
const { runSmsWorker } = await import('./sms-worker-run.js');
const { seconds, sentRows } = await runSmsWorker({ name: 'sms', total, concurrency, env: { AT_USERNAME: 'sandbox', AT_API_KEY: 'bench' } });
console.log(JSON.stringify({ messages: total, concurrency, seconds: Number(seconds.toFixed(2)), perSecond: Math.round(total / seconds), gatewayCalls: calls, sentRows }));
nock.cleanAll();
nock.restore();
