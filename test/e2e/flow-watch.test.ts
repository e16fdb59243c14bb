/**
 * The flow watcher as `npm run start:web` runs it (issue 20): a child process
 * on a copy of the content; an admin edits a text on disk. In development the
 * valid edit goes live by itself; in production it is only checked, and the
 * callers keep the published version until an admin publishes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { builtScriptArgs, removeBuilt } from '../support/built.js';
import { deployedContent } from '../support/content.js';
import { freshDatabase, freshRedisPrefix } from '../support/databases.js';
import { waitFor } from '../support/wait.js';

const children: ChildProcess[] = [];
afterAll(async () => {
  await Promise.all(
    children.map((child) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM'))))),
  );
  removeBuilt();
});

/** Starts a web process on its own copy of the content; resolves its base URL, where the help text lives, and its output. */
async function startWeb(name: string, env: Record<string, string>) {
  const content = deployedContent();
  const child = spawn(process.execPath, await builtScriptArgs('start:web'), {
    env: {
      ...process.env,
      DATABASE_URL: await freshDatabase(name),
      REDIS_URL: process.env.TEST_REDIS_URL!,
      REDIS_PREFIX: `${freshRedisPrefix(name)}:`,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'kalata-watch-')),
      PORT: '0',
      LOG_LEVEL: 'info',
      ...content,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out = { text: '' };
  child.stdout!.on('data', (d: Buffer) => (out.text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out.text += d.toString()));
  const running = await waitFor(`${name} to start`, async () => /running on (http:\/\/localhost:\d+)/.exec(out.text)?.[1], (base) => base !== undefined || child.exitCode !== null, 45_000);
  if (!running) throw new Error(`${name} exited:\n${out.text}`);
  return { base: running, help: join(content.LOCALES_DIR, 'fr', 'main.json'), out };
}

let callers = 0;
/** The help screen, as a new French caller (who dials, picks French, then 4) sees it. */
async function helpScreen(base: string, path: string, session: string): Promise<string> {
  const phoneNumber = `+223769${String(++callers).padStart(5, '0')}`;
  const post = (text: string) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ sessionId: session, serviceCode: '*555*1#', phoneNumber, text }).toString(),
    }).then((r) => r.text());
  await post('');
  await post('1');
  return post('1*4');
}

/** Rewrites the French help text on disk, as an admin's editor would. */
function editHelp(file: string, marker: string): void {
  const texts = JSON.parse(readFileSync(file, 'utf8')) as { help: { text: string } };
  texts.help.text = `${marker} ${texts.help.text}`.slice(0, 150);
  writeFileSync(file, `${JSON.stringify(texts, null, 2)}\n`);
}

describe('the flow watcher, in a real process', () => {
  it('in development, a valid edit on disk goes live by itself', async () => {
    const web = await startWeb('watch dev', {});
    expect(await helpScreen(web.base, '/ussd/africastalking', 'ATUid_watch_dev_1')).not.toContain('Version du jour.');
    editHelp(web.help, 'Version du jour.');
    const seen = await waitFor('the edit to go live', () => helpScreen(web.base, '/ussd/africastalking', `ATUid_watch_dev_${callers}`), (s) => s.includes('Version du jour.'), 15_000);
    expect(seen).toMatch(/^CON Version du jour\./);
  }, 90_000);

  it('in production, an edit on disk is checked but not published: callers keep the published version', async () => {
    const secret = randomBytes(16).toString('hex');
    const web = await startWeb('watch prod', {
      NODE_ENV: 'production',
      WEBHOOK_SECRET: secret,
      PHONE_HASH_KEY: randomBytes(32).toString('hex'),
      DATA_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    });
    const path = `/ussd/africastalking/${secret}`;
    const before = await helpScreen(web.base, path, 'ATUid_watch_prod_1');
    expect(before).toMatch(/^CON /);
    editHelp(web.help, 'Version non publiée.');
    await waitFor('the edit to be checked', async () => web.out.text, (t) => /checked, waiting for an admin to publish/.test(t), 15_000);
    expect(await helpScreen(web.base, path, 'ATUid_watch_prod_2')).toBe(before);
  }, 90_000);
});
