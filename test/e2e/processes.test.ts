/**
 * Several processes sharing one Redis and one PostgreSQL, as in a scaled-out
 * deployment: two web processes (no sticky sessions) and one SMS worker, as
 * real child processes started like `npm run start:web` / `start:worker`.
 */
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { removeBuilt } from '../support/built.js';
import { freshDatabase, freshRedisPrefix } from '../support/databases.js';
import { startHoldingProxy, type HoldingProxy } from '../support/holding-proxy.js';
import { waitFor } from '../support/wait.js';
import { startProcess as startKalataProcess, stopAll, type Proc } from '../support/processes.js';


let databaseUrl: string;
/** what every process of this file runs with */
let env: Record<string, string>;
const procs: Proc[] = [];
const proxies: HoldingProxy[] = [];

const startProcess = (script: 'start:web' | 'start:worker', env: Record<string, string>, ready: RegExp) => startKalataProcess(procs, script, env, ready);

async function at(base: string, fields: Record<string, string>): Promise<string> {
  const res = await fetch(`${base}/ussd/africastalking`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  expect(res.status).toBe(200);
  return res.text();
}

beforeAll(async () => {
  databaseUrl = await freshDatabase('processes');
  env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.TEST_REDIS_URL!,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'kalata-procs-')),
    PHONE_HASH_KEY: 'p'.repeat(40),
    DATA_ENCRYPTION_KEY: 'ab'.repeat(32),
    LOG_LEVEL: 'warn',
    PORT: '0',
    // Each test run gets its own keys in the shared test Redis.
    REDIS_PREFIX: `${freshRedisPrefix('procs')}:`,
  };
  // A cold start, all at once on an empty database: the migrations (and the key fingerprints) are raced for.
  await Promise.all([startProcess('start:web', env, /A first call/), startProcess('start:web', env, /A first call/), startProcess('start:worker', env, /SMS worker running/)]);
}, 120_000);

afterAll(async () => {
  await stopAll(procs);
  await Promise.all(proxies.map((p) => p.close()));
  removeBuilt();
});

describe('a cold start of three processes at once on an empty database', () => {
  it('brings every process up, with each migration run once and one fingerprint per key', async () => {
    expect(procs.map((p) => p.child.exitCode)).toEqual([null, null, null]);
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { migrations } = await import('../../migrations/index.js');
      const ran = await client.query('select name from kysely_migration order by name');
      expect(ran.rows.map((r: { name: string }) => r.name)).toEqual(Object.keys(migrations).sort());
      const fingerprints = await client.query('select name from key_fingerprints order by name');
      expect(fingerprints.rows.map((r: { name: string }) => r.name)).toEqual(['DATA_ENCRYPTION_KEY', 'PHONE_HASH_KEY']);
    } finally {
      await client.end();
    }
  });
});

describe('two web processes and a worker', () => {
  it('serve one conversation alternately: correct screens, one record, its SMS sent once', async () => {
    const [a, b] = procs.filter((p) => p.base).map((p) => p.base!);
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(a).not.toBe(b);
    const call = { sessionId: 'ATUid_two_processes', serviceCode: '*384*123#', phoneNumber: '+22376300001' };
    const inputs = ['1', '2', '1', '1', '1', '5', 'Ségou*Pelengana', 'On achète des cartes', '1'];
    const replies: string[] = [await at(a!, { ...call, text: '' })];
    const typed: string[] = [];
    for (const [i, input] of inputs.entries()) {
      typed.push(input);
      replies.push(await at(i % 2 === 0 ? b! : a!, { ...call, text: typed.join('*') }));
    }
    expect(replies[1]).toMatch(/^CON Kalata: infos sur le vote/);
    expect(replies[7]).toMatch(/^CON Décrivez/);
    expect(replies[8]).toMatch(/^CON Envoyer ce signalement\? Achat de votes, Ségou\./);
    expect(replies[9]).toMatch(/^END Merci\. Votre référence: KA-/);
    const ref = /KA-[0-9A-Z]{7}/.exec(replies[9]!)![0];

    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const calls = await client.query('select id, steps, outcome from calls where gateway_session_id = $1', [call.sessionId]);
      expect(calls.rows).toEqual([{ id: expect.any(String), steps: 10, outcome: 'completed' }]);
      const steps = await client.query('select count(*)::int as n from call_steps where call_id = $1', [calls.rows[0].id]);
      expect(steps.rows[0].n).toBe(10);
      const reports = await client.query("select fields->>'place' as place from reports where ref = $1", [ref]);
      expect(reports.rows).toEqual([{ place: 'Ségou*Pelengana' }]);
      // The worker process sends the follow-up (dry-run here), exactly once.
      let sms: { status: string }[] = [];
      for (let i = 0; i < 100; i++) {
        sms = (await client.query('select status from sms_outbox where ref = $1', [ref])).rows;
        if (sms[0]?.status === 'dry_run') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(sms).toEqual([{ status: 'dry_run' }]);
    } finally {
      await client.end();
    }
  });

  it('keep racing replays of many calls consistent across both processes', async () => {
    const [a, b] = procs.filter((p) => p.base).map((p) => p.base!);
    const sessions = Array.from({ length: 20 }, (_, i) => ({ sessionId: `ATUid_race_${i}`, serviceCode: '*384*123#', phoneNumber: `+223763${String(10000 + i)}` }));
    const expected = [/^CON Kalata\. Langue/, /^CON Kalata: infos sur le vote/, /^CON Comment voter/, /^CON Les bureaux sont ouverts/, /0\. Retour 00\. Accueil$/];
    await Promise.all(
      sessions.map(async (call) => {
        const typed: string[] = [];
        for (const [i, input] of ['', '1', '1', '3', '98'].entries()) {
          if (input) typed.push(input);
          const text = typed.join('*');
          // Each step arrives three times at once, on both processes.
          const replies = await Promise.all([at(a!, { ...call, text }), at(b!, { ...call, text }), at(a!, { ...call, text })]);
          expect(new Set(replies).size).toBe(1);
          expect(replies[0]).toMatch(expected[i]!);
        }
      }),
    );
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const rows = await client.query("select c.steps, count(s.seq)::int as n from calls c join call_steps s on s.call_id = c.id where c.gateway_session_id like 'ATUid_race_%' group by c.id");
      expect(rows.rows).toHaveLength(20);
      for (const r of rows.rows) expect(r).toEqual({ steps: 5, n: 5 });
    } finally {
      await client.end();
    }
  });
});

describe('a web process killed (SIGKILL) right after a reply', () => {
  it('loses nothing the reply promised: the report behind the reference is there', async () => {
    const web = procs.filter((p) => p.base);
    const victim = web[1]!;
    const call = { sessionId: 'ATUid_sigkill', serviceCode: '*384*123#', phoneNumber: '+22376300099' };
    const typed: string[] = [];
    let last = await at(victim.base!, { ...call, text: '' });
    for (const input of ['1', '2', '1', '1', '1', '5', 'Kati', 'Urne bourrée', '1']) {
      typed.push(input);
      last = await at(victim.base!, { ...call, text: typed.join('*') });
    }
    victim.child.kill('SIGKILL');
    const ref = /KA-[0-9A-Z]{7}/.exec(last)![0];
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const rows = await client.query('select ref from reports where ref = $1', [ref]);
      expect(rows.rows).toEqual([{ ref }]);
      const sms = await client.query('select count(*)::int as n from sms_outbox where ref = $1', [ref]);
      expect(sms.rows[0].n).toBe(1);
    } finally {
      await client.end();
    }
  });
});

/** The statement that writes a turn with a fraud report: its reports are a JSON parameter. */
const REPORT_STATEMENT = /"ref":"KA-[0-9A-Z]{7}"/;
/** Language, report, SMS, type, region, place, description: the next input ('1') sends the report. */
const TO_CONFIRM = ['1', '2', '1', '1', '1', '5', 'Kati', 'Urne bourrée'];
/**
 * How long a broken process (one that replied before its commit) is given to
 * show it while the commit is held. Not a limit on the passing run, which
 * cannot reply until the release; under the database's 2.5 s query timeout.
 */
const GRACE_MS = 1000;

/** A web process whose PostgreSQL is reached through a holding proxy. */
async function slowDatabaseWeb(): Promise<{ web: Proc; proxy: HoldingProxy }> {
  const proxy = await startHoldingProxy(Number(new URL(databaseUrl).port));
  proxies.push(proxy);
  const viaProxy = new URL(databaseUrl);
  viaProxy.port = String(proxy.port);
  const web = await startProcess('start:web', { ...env, DATABASE_URL: viaProxy.toString() }, /A first call/);
  return { web, proxy };
}

/** Plays a call up to the report's confirmation screen; returns the fields for the next request. */
async function toConfirmation(base: string, sessionId: string, phoneNumber: string): Promise<Record<string, string>> {
  const call = { sessionId, serviceCode: '*384*123#', phoneNumber };
  const typed: string[] = [];
  await at(base, { ...call, text: '' });
  let last = '';
  for (const input of TO_CONFIRM) {
    typed.push(input);
    last = await at(base, { ...call, text: typed.join('*') });
  }
  expect(last).toMatch(/^CON Envoyer ce signalement\?/);
  return { ...call, text: [...typed, '1'].join('*') };
}

/** Sends a request and notes in `events` when its reply arrives. */
function send(base: string, fields: Record<string, string>, events: string[]): Promise<{ status: number; body: string }> {
  return fetch(`${base}/ussd/africastalking`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() }).then(async (res) => {
    const body = await res.text();
    events.push('reply');
    return { status: res.status, body };
  });
}

/** Resolves after `ms`, or as soon as `events` holds something. */
async function graceOrEvent(events: string[], ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (events.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

async function reportsOfCall(sessionId: string): Promise<{ steps: number; refs: string[] }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const call = await client.query('select id, steps from calls where gateway_session_id = $1', [sessionId]);
    const reports = await client.query('select ref from reports where call_id = $1', [call.rows[0].id]);
    return { steps: call.rows[0].steps, refs: reports.rows.map((r: { ref: string }) => r.ref) };
  } finally {
    await client.end();
  }
}

const exited = (p: Proc) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve({ code: p.child.exitCode, signal: p.child.signalCode });
    p.child.once('exit', (code, signal) => resolve({ code, signal }));
  });

const refuses = (base: string) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(Number(new URL(base).port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });

describe('a web process whose database is slow (the report statement held by a proxy)', () => {
  it('answers the caller only after PostgreSQL has answered the statement that records the report', async () => {
    const { web, proxy } = await slowDatabaseWeb();
    const sessionId = 'ATUid_slow_commit';
    const last = await toConfirmation(web.base!, sessionId, '+22376300101');
    const events: string[] = [];
    const holding = proxy.holdNext(REPORT_STATEMENT);
    const reply = send(web.base!, last, events);
    await holding;
    await graceOrEvent(events, GRACE_MS);
    expect(events).toEqual([]); // no reply while the report's statement waits
    await proxy.release().then(() => events.push('statement answered'));
    const { status, body } = await reply;
    expect(events).toEqual(['statement answered', 'reply']);
    expect(status).toBe(200);
    const ref = /^END Merci\. Votre référence: (KA-[0-9A-Z]{7})/.exec(body)?.[1];
    expect(ref).toBeDefined();
    expect(await reportsOfCall(sessionId)).toEqual({ steps: 10, refs: [ref] });
  });

  it('killed (SIGKILL) in the middle of that commit: the caller holds no reference, and no report was half-written', async () => {
    const { web, proxy } = await slowDatabaseWeb();
    const sessionId = 'ATUid_kill_mid_commit';
    const last = await toConfirmation(web.base!, sessionId, '+22376300102');
    const events: string[] = [];
    const holding = proxy.holdNext(REPORT_STATEMENT);
    const reply = send(web.base!, last, events).catch((err: Error) => ({ status: 0, body: `(${err.message})` }));
    await holding;
    await graceOrEvent(events, GRACE_MS);
    expect(events).toEqual([]);
    web.child.kill('SIGKILL');
    expect(await exited(web)).toEqual({ code: null, signal: 'SIGKILL' });
    const answer = await reply;
    // The caller got no answer, so no reference; the gateway would tell them the call failed.
    expect(answer.status).toBe(0);
    expect(answer.body).not.toMatch(/KA-/);
    // The proxy sees the dead process's connection close: what it held is dropped, never sent.
    await proxy.heldClosed();
    await expect(proxy.release()).rejects.toThrow('closed its connection');
    // The turn was never recorded: the first nine steps are, without a report.
    expect(await reportsOfCall(sessionId)).toEqual({ steps: 9, refs: [] });
  });
});

describe('a web process told to stop (SIGTERM) with a request in flight', () => {
  it('refuses new connections, finishes that request with its reply and its commit, then exits 0', async () => {
    const { web, proxy } = await slowDatabaseWeb();
    const sessionId = 'ATUid_sigterm_in_flight';
    const last = await toConfirmation(web.base!, sessionId, '+22376300103');
    const events: string[] = [];
    const holding = proxy.holdNext(REPORT_STATEMENT);
    const reply = send(web.base!, last, events);
    await holding;
    const exit = exited(web);
    web.child.kill('SIGTERM');
    // serve.ts: server.close() stops listening at once; the requests in flight finish.
    await waitFor('the stopping process to refuse new connections', () => refuses(web.base!), (refused) => refused);
    expect(web.child.exitCode).toBeNull();
    expect(events).toEqual([]);
    await proxy.release().then(() => events.push('statement answered'));
    const { status, body } = await reply;
    expect(events).toEqual(['statement answered', 'reply']);
    expect(status).toBe(200);
    const ref = /^END Merci\. Votre référence: (KA-[0-9A-Z]{7})/.exec(body)?.[1];
    expect(ref).toBeDefined();
    const began = performance.now();
    expect(await exit).toEqual({ code: 0, signal: null });
    console.log(`SIGTERM: exited ${Math.round(performance.now() - began)} ms after its last reply`);
    expect(await reportsOfCall(sessionId)).toEqual({ steps: 10, refs: [ref] });
  });
});
