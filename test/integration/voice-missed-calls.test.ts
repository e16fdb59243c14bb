/**
 * A missed call ("bip") to the voice line's call-back number (issue 17):
 * rejected at once (`<Reject/>`, free for the caller) and called back
 * through Africa's Talking's voice API, which is mocked with nock (its
 * request and answer as AT's SDK and docs give them: docs/at-voice-protocol.md
 * §4.1; the answer's shape is the laravel SDK's recorded fixture). When the
 * citizen picks up, AT posts `direction=Outbound` and the menus are served.
 * Repeats of one ring call back once; a number that sent STOP is never
 * called; a number is called back a few times an hour at most.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pseudonymizePhone } from '../../src/privacy/phone.js';
import { startHarness, type Harness } from '../support/harness.js';
import { voiceCaller } from '../support/voice-at.js';
import { waitFor } from '../support/wait.js';

// As in sms.test.ts: nock 15.0.0 breaks the fetch() POSTs it lets through on Node 20, and the caller
// posts with fetch; fetch is kept as it was, and nock intercepts node:http, which the SDK (axios) uses.
const realFetch = globalThis.fetch;
const { default: nock } = await import('nock');
globalThis.fetch = realFetch;

const VOICE = 'https://voice.sandbox.africastalking.com';
const HOTLINE = '+22320200099';
const placed: Record<string, string>[] = [];

let h: Harness;
beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  nock(VOICE)
    .persist()
    .post('/call')
    .reply(async (req: Request) => {
      // nock 15 hands the reply a fetch Request (as in sms.test.ts).
      const form = Object.fromEntries(new URLSearchParams(await req.text()));
      placed.push({ ...form, apikey: req.headers.get('apikey') ?? '' });
      return [201, { entries: [{ phoneNumber: form.to, status: form.to === '+22376000404' ? 'InvalidPhoneNumber' : 'Queued', sessionId: `ATVId_cb${placed.length}` }], errorMessage: 'None' }];
    });
  h = await startHarness('voice missed calls', {
    env: { AT_USERNAME: 'sandbox', AT_API_KEY: 'test-key', VOICE_CALLBACK_NUMBERS: HOTLINE, VOICE_CALLBACKS_PER_HOUR: '2' },
    context: { worker: true, missedCallRepeatMs: 400, voiceCallbackBackoffMs: 50 },
  });
}, 60_000);
afterAll(async () => {
  await h?.close();
  nock.cleanAll();
  nock.restore();
  nock.enableNetConnect();
});

const ring = (number: string, n: number) => voiceCaller(h.base, { sessionId: `ATVId_ring${n}${Date.now()}`, callerNumber: number, destinationNumber: HOTLINE });
const callsTo = (number: string) => placed.filter((p) => p.to === number);

describe('a missed call', () => {
  it('is rejected, then called back from the hotline number; the answered call gets the menus', async () => {
    const first = await ring('+22376000101', 1).start();
    expect(first.xml).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Reject/></Response>');
    await waitFor('a call to +22376000101', async () => callsTo('+22376000101').length, (n) => n === 1, 5000);
    expect(callsTo('+22376000101')[0]).toMatchObject({ username: 'sandbox', from: HOTLINE, to: '+22376000101', apikey: 'test-key', clientRequestId: expect.stringMatching(/^cb-/) });

    // AT calls the citizen; the answered call comes to the same callback, Outbound.
    const back = voiceCaller(h.base, { sessionId: 'ATVId_cb1', callerNumber: '+22376000101', destinationNumber: HOTLINE, direction: 'Outbound' });
    const menu = await back.start();
    expect(menu.said).toContain('Français, tapez un.');
    // No number in the logs, nor in the queued job.
    expect(h.logs.join('')).not.toContain('76000101');
    const jobs = await h.ctx.redis.keys(`${h.ctx.redisPrefix}bull:voice-callback:*`);
    for (const key of jobs) {
      const type = await h.ctx.redis.type(key);
      if (type === 'hash') expect(JSON.stringify(await h.ctx.redis.hgetall(key))).not.toContain('76000101');
    }
  });

  it('is called back once for repeats of one ring, and a few times an hour at most', async () => {
    const number = '+22376000202';
    await Promise.all([1, 2, 3].map((n) => ring(number, 10 + n).start()));
    await waitFor('the call-back', async () => callsTo(number).length, (n) => n >= 1, 5000);
    await new Promise((r) => setTimeout(r, 500));
    expect(callsTo(number)).toHaveLength(1);
    await ring(number, 20).start();
    await waitFor('the call-back', async () => callsTo(number).length, (n) => n === 2, 5000);
    await new Promise((r) => setTimeout(r, 500));
    // A third missed call in the hour: rejected, not called back (VOICE_CALLBACKS_PER_HOUR=2).
    const third = await ring(number, 30).start();
    expect(third.actions.map((a) => a.tag)).toEqual(['Reject']);
    await new Promise((r) => setTimeout(r, 700));
    expect(callsTo(number)).toHaveLength(2);
  });

  it('is never called back for a number that sent STOP', async () => {
    const number = '+22376000303';
    await h.ctx.db.insertInto('sms_optouts').values({ phone_hash: pseudonymizePhone(h.ctx.secrets.phoneHashKey, number), opted_out_at: new Date() }).execute();
    await ring(number, 40).start();
    await new Promise((r) => setTimeout(r, 800));
    expect(callsTo(number)).toHaveLength(0);
  });

  it('is not tried again when AT refuses the number for good', async () => {
    await ring('+22376000404', 50).start();
    await waitFor('a call to +22376000404', async () => callsTo('+22376000404').length, (n) => n === 1, 5000);
    await new Promise((r) => setTimeout(r, 500));
    expect(callsTo('+22376000404')).toHaveLength(1);
  });

  it('answers other numbers\' calls, and calls after the first request, as the menus', async () => {
    const direct = voiceCaller(h.base, { sessionId: `ATVId_direct${Date.now()}`, callerNumber: '+22376000505', destinationNumber: '+22320200000' });
    expect((await direct.start()).said).toContain('Français');
  });
});
