/**
 * Menus as versioned content, in a scaled-out deployment (issue 16): two web
 * processes and an SMS worker, real child processes on one PostgreSQL and
 * one Redis, all started at once on an empty database. An admin publishes an
 * edit with `npm run flows -- publish`: both web processes show it, and the
 * worker words its SMS with it, within 3 s. A call that spans the publish
 * keeps the version it started on, whichever process serves it. An invalid
 * publish changes nothing; a rollback reaches every process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { removeBuilt } from '../support/built.js';
import { contentCopy } from '../support/content.js';
import { freshDatabase, freshRedisPrefix } from '../support/databases.js';
import { waitFor } from '../support/wait.js';
import { startProcess as startKalataProcess, stopAll, type Proc } from '../support/processes.js';


const procs: Proc[] = [];
let env: Record<string, string>;
let client: pg.Client;

const startProcess = (script: 'start:web' | 'start:worker', ready: RegExp) => startKalataProcess(procs, script, env, ready);

async function at(base: string, sessionId: string, text: string, phoneNumber = '+22376400001'): Promise<string> {
  const post = () => fetch(`${base}/ussd/africastalking`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ sessionId, serviceCode: '*384*123#', phoneNumber, text }).toString() });
  // A kept-alive socket the server closed just as it was reused resets (ECONNRESET) or is found closed
  // (undici's UND_ERR_SOCKET) before the request is read: sent again, once, after 50 ms (time for this
  // process to see any other socket the server closed), on a new socket; a replay of a step already
  // taken gets its stored reply. A process that died fails again, and says why.
  const cause = (err: unknown) => (err as { cause?: { code?: string } }).cause?.code;
  const again = () => new Promise((resolve) => setTimeout(resolve, 50)).then(post);
  const res = await post().catch((err: unknown) => (['ECONNRESET', 'UND_ERR_SOCKET'].includes(cause(err) ?? '') ? again() : Promise.reject(err))).catch((err: unknown) => {
    throw new Error(`${(err as Error).message} [${cause(err) ?? 'no code'}] (${base}); the processes said:\n${procs.map((p) => `[exit ${p.child.exitCode ?? p.child.signalCode}] ${p.output}`).join('\n')}`);
  });
  expect(res.status).toBe(200);
  return res.text();
}

/**
 * `npm run flows -- …` as an admin types it on one of the servers. Run without blocking this process: a
 * spawnSync froze the test's event loop for seconds, long enough for the web processes to close their
 * idle kept-alive sockets unseen, and the next requests then went out on dead sockets (ECONNRESET, twice).
 */
function flowsCommand(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/flows.ts', ...args], { env: { ...process.env, ...env, KALATA_AUTHOR: 'fatou' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The home screen a new caller sees on `base` after choosing French. */
let calls = 0;
async function homeScreen(base: string): Promise<string> {
  // A new caller each time: no call to resume, no rate limit reached.
  const n = ++calls;
  const id = `ATUid_content_new_${n}`;
  const phone = `+2237650${String(n).padStart(4, '0')}`;
  await at(base, id, '', phone);
  return at(base, id, '1', phone);
}

let webA: string;
let webB: string;

beforeAll(async () => {
  const content = contentCopy();
  env = {
    DATABASE_URL: await freshDatabase('content_live'),
    REDIS_URL: process.env.TEST_REDIS_URL!,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'kalata-content-procs-')),
    PHONE_HASH_KEY: 'c'.repeat(40),
    DATA_ENCRYPTION_KEY: 'cd'.repeat(32),
    LOG_LEVEL: 'warn',
    PORT: '0',
    REDIS_PREFIX: `${freshRedisPrefix('content-live')}:`,
    ...content,
  };
  await Promise.all([startProcess('start:web', /A first call/), startProcess('start:web', /A first call/), startProcess('start:worker', /SMS worker running/)]);
  [webA, webB] = procs.filter((p) => p.base).map((p) => p.base!) as [string, string];
  client = new pg.Client({ connectionString: env.DATABASE_URL });
  await client.connect();
}, 120_000);

afterAll(async () => {
  await client?.end();
  await stopAll(procs);
  removeBuilt();
});

describe('a publish on the command line, in a deployment of three processes', () => {
  it('imported the files as version 1, once, although three processes started at once', async () => {
    const versions = await client.query('select id, author from content_versions order by id');
    expect(versions.rows).toEqual([{ id: '1', author: 'fichiers au démarrage' }]);
    expect(await homeScreen(webA)).toMatch(/^CON Kalata: infos sur le vote/);
  });

  it('reaches both web processes and the worker within 3 s; a call in progress keeps its version', async () => {
    // A caller is on the language screen when the admin publishes.
    await at(webA, 'ATUid_content_spanning', '');
    const dir = mkdtempSync(join(tmpdir(), 'kalata-edit-'));
    expect((await flowsCommand(['export', '1', dir])).status).toBe(0);
    const main = join(dir, 'locales', 'fr', 'main.json');
    writeFileSync(main, readFileSync(main, 'utf8').replace('"title": "Kalata: infos sur le vote"', '"title": "Kalata: tout sur le vote"'));
    const report = join(dir, 'locales', 'fr', 'report.json');
    writeFileSync(report, readFileSync(report, 'utf8').replace('Kalata: message {{ref}} enregistré.', 'Kalata: message {{ref}} bien reçu.'));
    const published = await flowsCommand(['publish', '--dir', dir, '--note', 'titre et accusé de réception']);
    expect([published.status, published.stderr]).toEqual([0, '']);
    const at0 = Date.now();
    await waitFor('web A to show the edit', () => homeScreen(webA), (s) => s.startsWith('CON Kalata: tout sur le vote'), 3000);
    await waitFor('web B to show the edit', () => homeScreen(webB), (s) => s.startsWith('CON Kalata: tout sur le vote'), 3000);
    const seenIn = Date.now() - at0;
    // The spanning call goes on on the other process, on the version it started on.
    expect(await at(webB, 'ATUid_content_spanning', '1')).toMatch(/^CON Kalata: infos sur le vote/);
    // A report filed now: the worker words its SMS as the new version does.
    const inputs = ['1', '2', '1', '1', '1', '5', 'Ségou*Pelengana', 'On achète des cartes', '1'];
    let reply = await at(webA, 'ATUid_content_report', '', '+22376400002');
    for (let i = 1; i <= inputs.length; i++) reply = await at(i % 2 ? webB : webA, 'ATUid_content_report', inputs.slice(0, i).join('*'), '+22376400002');
    const ref = /KA-[0-9A-Z]{7}/.exec(reply)![0];
    const text = await waitFor('the SMS worded by the worker', async () => (await client.query('select text from sms_outbox where ref = $1', [ref])).rows[0]?.text as string | undefined, (t) => !!t, 10_000);
    expect(text).toBe(`Kalata: message ${ref} bien reçu. Gardez cette référence. Envoyez STOP pour ne plus recevoir de SMS.`);
    console.log(`publish seen on both web processes ${seenIn} ms after the command returned`);
    expect(seenIn).toBeLessThan(3000);
  }, 60_000);

  it('refuses an invalid publish: file:line:col, exit 1, every process unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kalata-bad-'));
    expect((await flowsCommand(['export', '2', dir])).status).toBe(0);
    const flow = join(dir, 'flows', 'main.yaml');
    writeFileSync(flow, readFileSync(flow, 'utf8').replace(/next: (\w+)/, 'next: nowhere_at_all'));
    const refused = await flowsCommand(['publish', '--dir', dir]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^flows\/main\.yaml:\d+:\d+ /m);
    expect((await client.query('select count(*)::int as n from content_versions')).rows[0].n).toBe(2);
    expect(await homeScreen(webB)).toMatch(/^CON Kalata: tout sur le vote/);
  }, 60_000);

  it('rolls back on every process', async () => {
    const rolledBack = await flowsCommand(['rollback', '1']);
    expect(rolledBack.status).toBe(0);
    await waitFor('web A back on version 1', () => homeScreen(webA), (s) => s.startsWith('CON Kalata: infos sur le vote'), 3000);
    await waitFor('web B back on version 1', () => homeScreen(webB), (s) => s.startsWith('CON Kalata: infos sur le vote'), 3000);
    const versions = (await flowsCommand(['versions'])).stdout.trimEnd().split('\n');
    expect(versions[0]).toMatch(/^ {5}2 .* fatou \(ligne de commande\) {2}titre et accusé de réception$/);
    expect(versions[1]).toMatch(/^\* {4}1 .* fichiers au démarrage {2}import des fichiers flows\/ et locales\/$/);
  }, 60_000);
});
