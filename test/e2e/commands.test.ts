/**
 * The README's commands as a newcomer runs them: `npm start` on embedded
 * defaults (PGlite and a private redis-server), `npm run flows:check` and
 * `npm run simulate`, as real child processes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { builtScriptArgs, removeBuilt } from '../support/built.js';

/** What the npm scripts run, without npm between us and the signals: the commands under tsx, the servers on built code. */
const node = process.execPath;
const withTsx = (script: string, args: string[] = []) => ['--import', 'tsx', script, ...args];
const quietEnv = { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'development' };

function run(script: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(node, withTsx(script, args), { env: { ...quietEnv, ...env }, encoding: 'utf8', timeout: 60_000 });
}

describe('npm start on embedded defaults', () => {
  let child: ChildProcess;
  let output = '';
  let base = '';
  const dataDir = mkdtempSync(join(tmpdir(), 'kalata-start-'));

  beforeAll(async () => {
    child = spawn(node, await builtScriptArgs('start'), {
      env: { ...quietEnv, PORT: '0', DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 45_000;
    while (!/A first call/.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`npm start did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    base = /running on (http:\/\/localhost:\d+)/.exec(output)![1]!;
  }, 60_000);

  afterAll(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    removeBuilt();
  });

  it('prints the callback URL and a ready-to-paste curl command', () => {
    expect(output).toMatch(/USSD callback \(Africa's Talking\): POST http:\/\/localhost:\d+\/ussd\/africastalking/);
    expect(output).toMatch(/database: embedded PGlite in .*pglite/);
    expect(output).toMatch(/redis: private redis-server at redis:\/\/127\.0\.0\.1:\d+/);
    expect(output).toMatch(/curl -s http:\/\/localhost:\d+\/ussd\/africastalking --data-urlencode sessionId=demo-1/);
  });

  it('answers the printed curl call, and is ready', async () => {
    const body = new URLSearchParams({ sessionId: 'demo-1', serviceCode: '*384*123#', phoneNumber: '+22376000000', text: '' });
    const res = await fetch(`${base}/ussd/africastalking`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^CON Kalata\. Langue \/ Kan:/);
    const ready = await fetch(`${base}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { redis: 'ok', database: 'ok' } });
  });

  it('refuses a command on its embedded database while it runs (a second process would corrupt it), then allows it once stopped', () => {
    const busy = run('src/main/stations.ts', ['summary'], { DATA_DIR: dataDir, DATABASE_URL: '' });
    expect(busy.status).toBe(1);
    expect(busy.stderr.trim()).toMatch(/^kalata: the embedded database in .*pglite is open in another process \(pid \d+, probably npm start\): stop it first/);
  });

  it('stops cleanly on SIGTERM, taking its redis-server with it', async () => {
    const redisPort = Number(/redis:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
    const net = await import('node:net');
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(redisPort, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    // Stopped: the database is free for commands again.
    const free = run('src/main/stations.ts', ['summary'], { DATA_DIR: dataDir, DATABASE_URL: '' });
    expect([free.status, free.stdout.trim()]).toEqual([0, 'no polling stations imported yet']);
  });
});

describe('npm run flows:check', () => {
  it('passes on the shipped flows and prints the screen report', () => {
    const r = run('src/main/flows-check.ts', []);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Screens \(limits: 182 GSM-7, 80 UCS-2\):/);
    expect(r.stdout).toMatch(/longest screen \(bm, standard spelling\): /);
    expect(r.stdout).toMatch(/0 error\(s\), \d+ warning\(s\)\n$/);
  });

  it('exits 1 with file:line:col on a broken flow, and the server refuses to start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kalata-flows-'));
    cpSync('flows', join(dir, 'flows'), { recursive: true });
    writeFileSync(join(dir, 'flows', 'vote.yaml'), 'id: vote\nstart: menu\nnodes:\n  menu:\n    type: menu\n    text: menu.title\n    options:\n      - { label: menu.register, next: nowhere }\n');
    const env = { FLOWS_DIR: join(dir, 'flows'), LOCALES_DIR: 'locales' };
    const check = run('src/main/flows-check.ts', [], env);
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(/vote\.yaml:8:\d+ target "vote\.nowhere" does not exist/);
    const start = run('src/main/web.ts', [], { ...env, PORT: '0', DATA_DIR: dir });
    expect(start.status).toBe(1);
    expect(start.stderr).toMatch(/^kalata: \d+ problem\(s\) in the flows:/);
    expect(start.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('stops on an invalid setting with one line naming it', () => {
    const r = run('src/main/flows-check.ts', [], { USSD_MAX_CHARS_GSM7: 'lots' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^kalata: invalid USSD_MAX_CHARS_GSM7="lots": /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('npm run simulate', () => {
  it('plays a scripted conversation in Bambara', () => {
    const r = run('src/main/simulate.ts', ['--lang', 'bm', '1', '3']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/│ Kalata\n│ 1\. Wote cogo/);
    expect(r.stdout).toMatch(/> 3\n.*CON · \d+ UCS-2\n│ Wote biro bɛ da wuli/);
  });

  it('starts at a named flow and refuses an unknown one', () => {
    expect(run('src/main/simulate.ts', ['--lang', 'fr', '--flow', 'report']).stdout).toMatch(/Signaler une fraude\. L'appel est enregistré/);
    const bad = run('src/main/simulate.ts', ['--flow', 'nope']);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe('kalata: no flow "nope"; flows: callback, main, report, stations, vote');
  });
});

describe('npm run users', () => {
  it('adds, lists and disables accounts on a fresh embedded database', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kalata-users-'));
    const env = { DATA_DIR: dataDir, DATABASE_URL: '' };
    const add = run('src/main/users.ts', ['add', 'awa', '--role', 'operator'], { ...env, KALATA_PASSWORD: 'a-long-enough-password' });
    expect([add.status, add.stdout.trim()]).toEqual([0, 'awa added (operator)']);
    const short = run('src/main/users.ts', ['add', 'bob', '--role', 'admin'], { ...env, KALATA_PASSWORD: 'short' });
    expect(short.status).toBe(1);
    expect(short.stderr.trim()).toBe('kalata: the password must be at least 12 characters');
    const badRole = run('src/main/users.ts', ['add', 'bob', '--role', 'root'], { ...env, KALATA_PASSWORD: 'a-long-enough-password' });
    expect(badRole.stderr).toMatch(/^kalata: --role is operator or admin/);
    expect(run('src/main/users.ts', ['disable', 'awa'], env).stdout.trim()).toBe('awa disabled');
    expect(run('src/main/users.ts', ['list'], env).stdout.trim()).toBe('awa\toperator\tdisabled');
  });
});
