/**
 * Load shedding (MAX_TURNS_IN_FLIGHT, src/runtime/call-runtime.ts): with the
 * process full, a new call gets the apology at once instead of waiting its
 * turn (a gateway gives up after a few seconds and the caller then sees
 * nothing); calls in progress keep going until the whole limit is reached.
 * Turns are kept in flight here by holding a call's lock in Redis, as a slow
 * step of the same call would.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('load shedding', { env: { MAX_TURNS_IN_FLIGHT: '4' } });
});
afterAll(async () => {
  await h.close();
});

const APOLOGY = 'END Service indisponible. Rappelez dans quelques minutes. Merci.';
const request = (sessionId: string, phoneNumber: string, text: string) => h.at({ sessionId, phoneNumber, serviceCode: '*384*123#', networkCode: '61001', text });

/** Whether `p` has settled by now (after the event loop has had a turn). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 50));
  return done;
}

describe('MAX_TURNS_IN_FLIGHT=4', () => {
  it('with 4 turns in flight, turns a new call and a fifth turn away at once, then serves again', async () => {
    expect((await request('shed-held', '+22376000301', '')).body).toMatch(/^CON Kalata\. Langue/);
    // Another process holds this call's lock: its next steps wait (up to 2 s) in flight.
    const lock = `${h.ctx.redisPrefix}ussd:africastalking:shed-held:lock`;
    await h.ctx.redis.set(lock, 'someone-else', 'PX', 5000);
    const held = [1, 2, 3, 4].map(() => request('shed-held', '+22376000301', '1'));
    await new Promise((r) => setTimeout(r, 300));

    // Half the limit is enough to turn a new call away; a call in progress needs all of it.
    const opening = await request('shed-new', '+22376000302', '');
    const fifth = await request('shed-other', '+22376000303', '1');
    expect([opening, fifth]).toEqual([
      { status: 200, body: APOLOGY },
      { status: 200, body: APOLOGY },
    ]);
    // Answered while the four were still waiting.
    expect(await settled(Promise.all(held))).toBe(false);

    await h.ctx.redis.del(lock);
    const replies = await Promise.all(held);
    // One of them stepped the call, the others were replays of it: all the same screen.
    expect(new Set(replies.map((r) => r.body)).size).toBe(1);
    expect(replies[0]!.body).toMatch(/^CON Kalata: infos sur le vote/);

    // Nothing in flight: a new call is served.
    expect((await request('shed-after', '+22376000304', '')).body).toMatch(/^CON Kalata\. Langue/);
    const metrics = await h.ctx.metrics.registry.getSingleMetricAsString('kalata_turns_shed_total');
    expect(metrics).toMatch(/kalata_turns_shed_total\{kind="opening"\} 1/);
    expect(metrics).toMatch(/kalata_turns_shed_total\{kind="continuing"\} 1/);
    expect(h.logs.join('')).toMatch(/overloaded: turns answered with the apology/);
  });
});
