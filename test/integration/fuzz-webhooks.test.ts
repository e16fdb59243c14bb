/**
 * Arbitrary bodies against both USSD adapters and both SMS callbacks: every
 * answer is a 2xx with CON/END (or the gateway's JSON) or a 4xx with a plain
 * reason, never a 5xx, and the process stays healthy.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('fuzz', { env: { RATE_LIMIT_PER_PHONE: '0' } });
});
afterAll(() => h.close());

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', '*', '**', '1*', '#', '1*2*3', '\u0000', 'A*B', '=1+1', '<script>', '+22376000000', '00223', ' 22376000000', 'x'.repeat(300)),
);
const phone = fc.oneof(fc.constantFrom('+22376000080', '76000080', '0022376000080', '+33612345678', '', 'abc'), fc.string({ maxLength: 20 }));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

async function post(path: string, body: string, type: string) {
  const res = await fetch(`${h.base}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
  return { status: res.status, body: await res.text() };
}

function formOf(fields: Record<string, string | undefined>, extra: [string, string][]): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) p.append(k, v);
  for (const [k, v] of extra) p.append(k, v);
  return p.toString();
}

describe('fuzzing the webhooks', () => {
  it("Africa's Talking USSD: CON/END or a plain 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        maybe(fc.oneof(fc.constantFrom('fz-1', 'fz-2'), fc.string({ maxLength: 40 }))),
        maybe(phone),
        maybe(fc.constantFrom('*384*123#', '', 'x')),
        maybe(text),
        fc.array(fc.tuple(fc.constantFrom('sessionId', 'text', 'junk'), fc.string({ maxLength: 10 })), { maxLength: 2 }),
        async (sessionId, phoneNumber, serviceCode, t, extra) => {
          const res = await post('/ussd/africastalking', formOf({ sessionId, phoneNumber, serviceCode, text: t }, extra), 'application/x-www-form-urlencoded');
          if (res.status === 200) expect(res.body).toMatch(/^(CON|END) /);
          else expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(500);
          expect(res.body).not.toMatch(/\n\s+at /);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('Hubtel USSD: JSON Response/Release or a plain 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record(
            {
              SessionId: fc.oneof(fc.constantFrom('hz-1', 'hz-2'), fc.string({ maxLength: 20 })),
              Mobile: phone,
              ServiceCode: fc.constantFrom('*384*123#', '*384*123*1#', ''),
              Type: fc.constantFrom('Initiation', 'Response', 'release', 'Timeout', 'nope'),
              Message: text,
              Sequence: fc.oneof(fc.integer({ min: -2, max: 20 }), fc.string({ maxLength: 4 })),
              ClientState: fc.string({ maxLength: 150 }),
            },
            { requiredKeys: [] },
          ),
          fc.anything(),
        ),
        async (body) => {
          const res = await post('/ussd/hubtel', JSON.stringify(body) ?? 'null', 'application/json');
          if (res.status === 200) expect(JSON.parse(res.body)).toMatchObject({ Type: expect.stringMatching(/^(Response|Release)$/) });
          else expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('SMS callbacks: 200 or a plain 4xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/sms/africastalking/inbound', '/sms/africastalking/delivery'),
        fc.record({ id: maybe(fc.string({ maxLength: 30 })), from: maybe(phone), text: maybe(text), status: maybe(fc.constantFrom('Success', 'Failed', 'Weird', '')), failureReason: maybe(fc.string({ maxLength: 20 })), date: maybe(fc.constantFrom('2026-11-24 05:00:00', '2026-11-24T05:00:00Z', 'yesterday', '')) }, { requiredKeys: [] }),
        async (path, fields) => {
          const res = await post(path, formOf(fields, []), 'application/x-www-form-urlencoded');
          expect(res.status).toBeLessThan(500);
          if (res.status !== 200) expect(res.status).toBeGreaterThanOrEqual(400);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('leaves the process healthy', async () => {
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
    expect((await fetch(`${h.base}/readyz`)).status).toBe(200);
  });
});
