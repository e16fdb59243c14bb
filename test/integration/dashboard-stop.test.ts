/**
 * A process that begins to stop (SIGTERM: serve.ts calls ctx.beginStop())
 * ends its dashboard streams at once: an open stream would otherwise hold the
 * server's close until the 5 s cut, and the browser's EventSource reconnects
 * to a process that runs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { addUser, openSession } from '../../src/store/user-store.js';
import { SESSION_TTL_MS } from '../../src/web/console/console-auth.js';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('dashboard-stop', { context: { worker: false } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('the dashboard stream when the process stops', () => {
  it('ends as soon as the process begins to stop, without telling the browser its session is over', async () => {
    const user = await addUser(h.ctx.db, 'awa-stop', 'operator', 'a-long-test-password');
    const session = await openSession(h.ctx.db, user, SESSION_TTL_MS);
    const res = await fetch(`${h.base}/api/dashboard/events`, { headers: { accept: 'text/event-stream', cookie: `kalata=${session.token}` } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/^retry: \d+/);

    const asked = Date.now();
    h.ctx.beginStop();
    // The stream ends (done), with no `end` frame: that would tell the browser its session is over.
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(Date.now() - asked).toBeLessThan(1000);
    expect(rest).not.toMatch(/event: end/);
    expect(h.ctx.stopping.aborted).toBe(true);
  });
});
