/**
 * The lean path for AT's USSD callback (src/web/telco-fast-path.ts): it
 * takes only the plain request, and hands everything else to Express, which
 * answers as before. First on a small app whose Express route says so, then
 * on the real app: a call played through each path gets the same screens
 * and the same records.
 */
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { sql } from 'kysely';
import { withTelcoFastPath, type FastRoute } from '../../src/web/telco-fast-path.js';
import { startHarness, type Harness } from '../support/harness.js';

interface Sent {
  status: number;
  body: string;
}

/** A raw HTTP request: the headers exactly as given (fetch would add or fix some). */
function send(base: string, path: string, body: string | Buffer[], headers: Record<string, string>, method = 'POST'): Promise<Sent> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    // A string body goes with its length declared, as gateways send it; chunks without one.
    const length = typeof body === 'string' && method !== 'GET' ? { 'content-length': String(Buffer.byteLength(body)) } : {};
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers: { ...length, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    if (Array.isArray(body)) for (const chunk of body) req.write(chunk);
    else req.write(body);
    req.end();
  });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('which requests the lean path takes', () => {
  let server: Server;
  let base: string;
  const seen: { form: Record<string, string | string[]>; address: string | undefined }[] = [];
  const route: FastRoute = {
    path: '/hook',
    limits: { bytes: 64, parameters: 3 },
    answer: async (form, address) => {
      seen.push({ form: { ...form }, address });
      if (form.fail) throw new Error('boom');
      return { status: 200, text: `fast ${JSON.stringify(form)}` };
    },
  };

  beforeAll(async () => {
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(express.urlencoded({ extended: false, limit: 64 }));
    app.all(['/hook', '/hook/:secret'], (req, res) => {
      res.status(req.params.secret === 's3cret' ? 200 : 404).type('text/plain').send(`express ${req.method} ${req.params.secret}`);
    });
    app.use((err: { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(err.status ?? 500).type('text/plain').send('express error');
    });
    server = withTelcoFastPath(app, [route], 's3cret').listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reads a plain form itself: a repeated field is a list, + is a space, UTF-8 is decoded', async () => {
    const res = await send(base, '/hook/s3cret', 'a=1&a=2&b=S%C3%A9gou+centre', { ...FORM, 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' });
    expect(res).toEqual({ status: 200, body: `fast ${JSON.stringify({ a: ['1', '2'], b: 'Ségou centre' })}` });
  });

  it("reads the sender's address with Express's trust proxy", async () => {
    seen.length = 0;
    await send(base, '/hook/s3cret', 'a=1', { ...FORM, 'x-forwarded-for': '198.51.100.7' });
    // The peer is loopback, trusted: the forwarded address is the sender's, as req.ip says.
    expect(seen[0]!.address).toBe('198.51.100.7');
  });

  it('hands to Express a wrong secret, another method, a query string, another type or charset, an encoding, a large declared body', async () => {
    seen.length = 0;
    const cases: [string, string, Record<string, string>, string][] = [
      ['/hook/wrong', 'a=1', FORM, 'POST'],
      ['/hook/s3cret', '', {}, 'GET'],
      ['/hook/s3cret?x=1', 'a=1', FORM, 'POST'],
      ['/hook/s3cret', '{"a":1}', { 'content-type': 'application/json' }, 'POST'],
      ['/hook/s3cret', 'a=1', { 'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1' }, 'POST'],
      ['/hook/s3cret', 'a=1', { ...FORM, 'content-encoding': 'gzip' }, 'POST'],
      ['/hook/s3cret', 'a='.padEnd(100, 'x'), FORM, 'POST'],
      ['/hook', 'a=1', FORM, 'POST'],
    ];
    for (const [path, body, headers, method] of cases) {
      const res = await send(base, path, body, headers, method);
      expect({ path, method, headers, body: res.body.startsWith('express') }).toEqual({ path, method, headers, body: true });
    }
    expect(seen).toEqual([]);
  });

  it('refuses a body that grows past the limit while read, and too many fields, with plain reasons', async () => {
    // Sent in chunks, without a declared length: only reading finds it too large.
    const chunked = await send(base, '/hook/s3cret', [Buffer.from('a=1&b='), Buffer.from('x'.repeat(100))], { ...FORM, 'transfer-encoding': 'chunked' });
    expect(chunked).toEqual({ status: 413, body: 'request body too large' });
    const fields = await send(base, '/hook/s3cret', 'a=1&b=2&c=3&d=4', FORM);
    expect(fields).toEqual({ status: 413, body: 'request body cannot be read' });
    const three = await send(base, '/hook/s3cret', 'a=1&b=2&c=3', FORM);
    expect(three.status).toBe(200);
  });

  it('answers 500 with a plain reason when the answer fails, and an empty body is an empty form', async () => {
    expect(await send(base, '/hook/s3cret', 'fail=1', FORM)).toEqual({ status: 500, body: 'internal error' });
    expect(await send(base, '/hook/s3cret', '', FORM)).toEqual({ status: 200, body: 'fast {}' });
  });
});

describe('the real app: a call through the lean path and one through Express', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('telco fast path', { env: { WEBHOOK_SECRET: 'fast-path-secret-0123456789' } });
  });
  afterAll(async () => {
    await h.close();
  });

  /** Plays one call; `charset` iso-8859-1 (ASCII inputs read the same) sends it through Express. */
  async function play(sessionId: string, phone: string, charset: 'utf-8' | 'iso-8859-1') {
    const replies: Sent[] = [];
    const typed: string[] = [];
    // Voting info with its "more" page, back home, then a fraud report with free text.
    const inputs = ['1', '1', '3', '98', '00', '2', '1', '1', '1', '1', 'Kati centre', 'Cartes achetees', '1'];
    for (let i = 0; i <= inputs.length; i++) {
      const body = new URLSearchParams({ sessionId, phoneNumber: phone, serviceCode: '*384*123#', networkCode: '61001', text: typed.join('*') }).toString();
      replies.push(await send(h.base, '/ussd/africastalking/fast-path-secret-0123456789', body, { 'content-type': `application/x-www-form-urlencoded; charset=${charset}` }));
      if (i < inputs.length) typed.push(inputs[i]!);
    }
    return replies;
  }

  it('gets the same screens and leaves the same records', async () => {
    const fast = await play('fast-path-1', '+22376000101', 'utf-8');
    const slow = await play('fast-path-2', '+22376000102', 'iso-8859-1');
    const ref = /KA-[0-9A-Z]{7}/g;
    expect(fast.map((r) => ({ ...r, body: r.body.replace(ref, 'KA-…') }))).toEqual(slow.map((r) => ({ ...r, body: r.body.replace(ref, 'KA-…') })));
    expect(fast.at(-1)!.body).toMatch(/^END Merci\. Votre référence: KA-/);
    const rows = await sql<{ gateway_session_id: string; steps: number; outcome: string; written: string; reports: string }>`
      select c.gateway_session_id, c.steps, c.outcome,
             (select count(*) from call_steps s where s.call_id = c.id) as written,
             (select count(*) from reports r where r.call_id = c.id) as reports
      from calls c where c.gateway_session_id in ('fast-path-1', 'fast-path-2') order by 1`.execute(h.ctx.db);
    expect(rows.rows.map((r) => ({ ...r, gateway_session_id: undefined, written: Number(r.written), reports: Number(r.reports) }))).toEqual([
      { gateway_session_id: undefined, steps: 14, outcome: rows.rows[0]!.outcome, written: 14, reports: 1 },
      { gateway_session_id: undefined, steps: 14, outcome: rows.rows[0]!.outcome, written: 14, reports: 1 },
    ]);
  });

  it('keeps the strict answers: a wrong secret 404, a bad field 400, a bad type 415', async () => {
    const body = 'sessionId=x&phoneNumber=%2B22376000103&serviceCode=*384*123%23&text=';
    expect((await send(h.base, '/ussd/africastalking/wrong', body, FORM)).status).toBe(404);
    expect(await send(h.base, '/ussd/africastalking/fast-path-secret-0123456789', 'sessionId=x&serviceCode=*384*123%23', FORM)).toEqual({ status: 400, body: 'phoneNumber is missing' });
    expect((await send(h.base, '/ussd/africastalking/fast-path-secret-0123456789', body, { 'content-type': 'text/plain' })).status).toBe(415);
  });
});
