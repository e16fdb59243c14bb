/**
 * `WEB_CONCURRENCY=2 npm run start:web`: two web processes on one port
 * (node:cluster). A call's steps, each on a new connection, are served
 * whichever process takes them; a process that dies is replaced; SIGTERM stops
 * them all. Without DATABASE_URL and REDIS_URL it refuses to start.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { builtScriptArgs, removeBuilt } from '../support/built.js';
import { freshDatabase, freshRedisPrefix } from '../support/databases.js';
import { startProcess, stopAll, type Proc } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

const procs: Proc[] = [];
let primary: Proc;
let port: string;

/** The live processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** One AT request on a connection of its own, so that the cluster may give it to either process. */
function at(fields: Record<string, string>): Promise<string> {
  const body = new URLSearchParams(fields).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/ussd/africastalking', method: 'POST', agent: false, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function call(sessionId: string, phoneNumber: string): Promise<string[]> {
  const replies: string[] = [];
  for (const text of ['', '1', '1*1', '1*1*3']) replies.push(await at({ sessionId, phoneNumber, serviceCode: '*384*123#', networkCode: '61001', text }));
  return replies;
}

const env = async () => ({
  DATABASE_URL: await freshDatabase('web concurrency'),
  REDIS_URL: process.env.TEST_REDIS_URL!,
  DATA_DIR: mkdtempSync(join(tmpdir(), 'kalata-cluster-')),
  PHONE_HASH_KEY: 'q'.repeat(40),
  DATA_ENCRYPTION_KEY: 'cd'.repeat(32),
  LOG_LEVEL: 'info',
  PORT: '0',
  REDIS_PREFIX: `${freshRedisPrefix('cluster')}:`,
  WEB_CONCURRENCY: '2',
});

beforeAll(async () => {
  primary = await startProcess(procs, 'start:web', await env(), /Kalata is running on[\s\S]*Kalata is running on/);
  port = /running on http:\/\/localhost:(\d+)/.exec(primary.output)![1]!;
}, 120_000);

afterAll(async () => {
  await stopAll(procs);
  removeBuilt();
});

describe('WEB_CONCURRENCY=2', () => {
  it('runs two web processes on one port, and a call goes through whichever takes each step', async () => {
    const ports = [...primary.output.matchAll(/running on http:\/\/localhost:(\d+)/g)].map((m) => m[1]);
    expect(ports).toEqual([port, port]);
    expect(childrenOf(primary.child.pid!)).toHaveLength(2);
    const replies = await call('cluster-1', '+22376000201');
    expect(replies[0]).toMatch(/^CON Kalata\. Langue/);
    expect(replies[3]).toMatch(/^CON Les bureaux sont ouverts/);
  });

  it('starts another process when one dies, and keeps answering', async () => {
    const [first] = childrenOf(primary.child.pid!);
    process.kill(first!, 'SIGKILL');
    await waitFor('a third process started', async () => [...primary.output.matchAll(/Kalata is running on/g)].length, (n) => n === 3, 30_000);
    expect(primary.output).toMatch(/web process exited: starting another/);
    expect(childrenOf(primary.child.pid!)).toHaveLength(2);
    expect((await call('cluster-2', '+22376000202'))[3]).toMatch(/^CON Les bureaux sont ouverts/);
  }, 60_000);

  it('stops every process on SIGTERM', async () => {
    const children = childrenOf(primary.child.pid!);
    const exit = new Promise<number | null>((resolve) => primary.child.once('exit', (code) => resolve(code)));
    primary.child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(children.filter((pid) => readdirSync('/proc').includes(String(pid)))).toEqual([]);
  }, 30_000);

  it('refuses to start without DATABASE_URL and REDIS_URL, in one line', async () => {
    const args = await builtScriptArgs('start:web');
    const run = spawnSync(process.execPath, args, { env: { ...process.env, WEB_CONCURRENCY: '2', DATABASE_URL: '', REDIS_URL: '', DATA_DIR: mkdtempSync(join(tmpdir(), 'kalata-cluster-')) }, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('kalata: WEB_CONCURRENCY above 1 needs DATABASE_URL and REDIS_URL (or REDIS_SENTINELS): the embedded database and Redis belong to one process');
  }, 60_000);
});
