/**
 * The live dashboard in a real headless Chromium: the figures rendered on the
 * server, a report filed while the page is open appearing through the event
 * stream (no reload), a region alert after a burst, the health card red while
 * Redis is cut (through a TCP proxy in front of this file's own redis-server,
 * never the shared one), one snapshot per tick whoever watches, no timer when
 * nobody does, and the stream refused without a session and ended with it.
 * Screenshots: test/artifacts/50-dashboard.png, 51-dashboard-alert.png, 52-dashboard-redis-down.png.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addUser, closeSession } from '../../src/store/user-store.js';
import { startLocalRedis, type LocalRedis } from '../../src/local-servers/local-redis.js';
import { startTcpProxy, type TcpProxy } from '../../src/local-servers/local-tcp-proxy.js';
import { converse, startHarness, type Harness } from '../support/harness.js';
import { launchChromium } from '../support/browser.js';
import { rawCodesIn, signIn, watchProblems } from '../support/console-pages.js';
import { waitFor } from '../support/wait.js';

const artifacts = join(process.cwd(), 'test', 'artifacts');
const PASSWORD = 'a-long-test-password';
/** the dashboard's tick (dashboard-stream.ts's default) */
const TICK_MS = 5000;

let redis: LocalRedis;
let proxy: TcpProxy;
let h: Harness;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];
let phone = 76400000;

const until = (what: string, check: () => Promise<boolean>, ms = 20_000) => waitFor(what, check, (ok) => ok, ms);

/** Files a report by USSD as a caller does; region is the choice's number on the phone (1 Bamako, 2 Kayes, 5 Ségou). */
async function fileReport(region: string, incident = '1'): Promise<string> {
  phone += 1;
  const replies = await converse(h, { sessionId: `ATUid_dash_${phone}`, phoneNumber: `+223${phone}` }, ['1', '2', '1', '1', incident, region, 'Quartier du marché', 'Des billets contre des cartes', '1']);
  return /KA-[0-9A-Z]{7}/.exec(replies.at(-1)!)![0];
}

interface Stream {
  status: number;
  type: string | null;
  text: string;
  events: { id: string; event: string; data: string }[];
  comments: string[];
  ended: Promise<void>;
  close(): void;
}

/** Opens the event stream as a script would (Node's fetch), and parses its frames as they come. */
async function openStream(cookie?: string): Promise<Stream> {
  const ac = new AbortController();
  const res = await fetch(`${h.base}/api/dashboard/events`, { headers: { accept: 'text/event-stream', ...(cookie ? { cookie } : {}) }, signal: ac.signal });
  const s: Stream = { status: res.status, type: res.headers.get('content-type'), text: '', events: [], comments: [], ended: Promise.resolve(), close: () => ac.abort() };
  if (!res.ok) {
    s.text = await res.text();
    return s;
  }
  s.ended = (async () => {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const e = { id: '', event: 'message', data: '' };
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) s.comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) e.id = line.slice(4);
            else if (line.startsWith('event: ')) e.event = line.slice(7);
            else if (line.startsWith('data: ')) e.data = line.slice(6);
          }
          if (e.data) s.events.push(e);
        }
      }
    } catch {
      // aborted by the test
    }
  })();
  return s;
}

const cookieOf = async (c: BrowserContext) => (await c.cookies()).map((k) => `${k.name}=${k.value}`).join('; ');
const snapshots = (s: Stream) => s.events.filter((e) => e.event === 'snapshot');

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  redis = await startLocalRedis({ dir: mkdtempSync(join(tmpdir(), 'kalata-dashboard-redis-')), persist: false });
  proxy = await startTcpProxy(redis.port);
  h = await startHarness('dashboard', { redisUrl: `redis://127.0.0.1:${proxy.port}`, context: { worker: true, smsRelayEveryMs: 200 } });
  await addUser(h.ctx.db, 'awa', 'operator', PASSWORD);
  await addUser(h.ctx.db, 'moussa', 'operator', PASSWORD);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'fr-FR', timezoneId: 'Africa/Bamako' });
  page = await context.newPage();
  problems = watchProblems(page);
  await signIn(page, h.base, 'awa', PASSWORD);
}, 90_000);

afterAll(async () => {
  proxy?.restore();
  await context?.close();
  await browser?.close();
  await h?.close();
  await proxy?.close();
  await redis?.stop();
});

describe('the live dashboard', () => {
  let firstRef: string;

  it('shows the figures in words, live', async () => {
    firstRef = await fileReport('1');
    await fileReport('2', '2');
    // A simulated report is left out everywhere.
    await h.ctx.db.updateTable('reports').set({ simulated: true }).where('ref', '=', await fileReport('5')).execute();
    await page.goto(`${h.base}/`);
    // The page may show the snapshot of the sign-in a moment ago (fresh for half a tick): the stream brings the new one.
    await until('the figures', async () => (await page.locator('#reports-new').innerText()) === '2', 3 * TICK_MS);
    await expect(page.locator('#reports-hour').innerText()).resolves.toBe('2');
    await expect(page.locator('#calls-hour').innerText()).resolves.toBe('3');
    const triage = await page.locator('#triage tbody').innerText();
    expect(triage).toMatch(new RegExp(`${firstRef}\\s+à l’instant\\s+Achat de votes\\s+District de Bamako`));
    expect(triage).toContain('Kayes');
    expect(triage).not.toContain('Ségou');
    await expect(page.locator('#regions tbody').innerText()).resolves.toMatch(/District de Bamako\s+1\s+1\s+1/);
    await expect(page.locator('#incidents tbody').innerText()).resolves.toMatch(/Menaces ou violences\s+1/);
    await expect(page.locator('#health-database').innerText()).resolves.toMatch(/^OK\s+Base de données \(PostgreSQL\) : répond en \d+ ms$/);
    await expect(page.locator('#health-redis').getAttribute('class')).resolves.toBe('dash-up');
    await expect(page.locator('#health-gateway').innerText()).resolves.toContain('mode essai');
    await expect(page.locator('#sms-facts').innerText()).resolves.toMatch(/tâches dans la file d’envoi/);
    await expect(page.locator('#card-alerts').innerText()).resolves.toContain('Aucune alerte');
    // The chart draws, with whole numbers on its axis.
    await until('the chart', async () => (await page.evaluate('window.Chart ? Object.keys(window.Chart.instances).length : 0')) === 1);
    const ticks = (await page.evaluate('Object.values(window.Chart.instances)[0].scales.y.ticks.map((t) => t.value)')) as number[];
    expect(ticks.every((t) => Number.isInteger(t))).toBe(true);
    await until('the stream', async () => (await page.locator('#dash-status').innerText()).startsWith('En direct'));
    await page.screenshot({ path: join(artifacts, '50-dashboard.png'), fullPage: true });
    expect(await rawCodesIn(page)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('is usable without JavaScript', async () => {
    const plain = await browser.newContext({ javaScriptEnabled: false, locale: 'fr-FR' });
    await plain.addCookies(await context.cookies());
    const p = await plain.newPage();
    // Past half a tick, a page load takes a new snapshot rather than the stream's latest.
    await new Promise((r) => setTimeout(r, TICK_MS / 2 + 200));
    await p.goto(`${h.base}/`);
    await expect(p.locator('#dash-status').innerText()).resolves.toMatch(/^Chiffres de \d{2}:\d{2}:\d{2} : rechargez la page pour les mettre à jour\.$/);
    await expect(p.locator('#triage tbody tr').count()).resolves.toBe(2);
    await expect(p.locator('#health-redis').innerText()).resolves.toMatch(/^OK\s+Redis/);
    await plain.close();
  });

  it('shows a report filed while the page is open, without a reload (the event stream)', async () => {
    await page.evaluate('window.notReloaded = true');
    const ref = await fileReport('4', '3');
    await until('the new report on the page', async () => (await page.locator('#triage tbody').innerText()).includes(ref), 3 * TICK_MS);
    await expect(page.locator('#reports-new').innerText()).resolves.toBe('3');
    await expect(page.locator('#triage tbody').innerText()).resolves.toContain('Sikasso');
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    expect(problems).toEqual([]);
  }, 30_000);

  it('raises an alert when a region’s reports jump, and says why', async () => {
    // Kayes's recent rate: one report in each of the eight quarters before (filed earlier in the evening).
    const now = Date.now();
    await h.ctx.db
      .insertInto('reports')
      .values(Array.from({ length: 8 }, (_, i) => ({ ref: `KA-HIST00${i}`, language: 'fr', fields: JSON.stringify({ place: 'Kayes' }), incident: 'other', region: 'kayes', status: 'verified', created_at: new Date(now - (i + 1) * 15 * 60_000 - 60_000) })))
      .execute();
    await until('no alert yet', async () => (await page.locator('#card-alerts').innerText()).includes('Aucune alerte'), 3 * TICK_MS);
    // Then a burst: with the one filed at the start, five in a quarter of an hour.
    for (let i = 0; i < 4; i++) await fileReport('2');
    await until('the alert', async () => (await page.locator('#alert-list').count()) === 1, 3 * TICK_MS);
    await expect(page.locator('#alert-list').innerText()).resolves.toBe(
      'Kayes : 5 signalements en 15 min, contre 1 par 15 min en moyenne sur les 2 heures précédentes · voir ses signalements',
    );
    await expect(page.locator('#card-alerts').getAttribute('class')).resolves.toContain('dash-alarm');
    await expect(page.locator('#alert-list a').getAttribute('href')).resolves.toBe('/reports?region=kayes&status=new');
    await page.screenshot({ path: join(artifacts, '51-dashboard-alert.png'), fullPage: true });
    expect(await rawCodesIn(page)).toEqual([]);
    expect(problems).toEqual([]);
  }, 40_000);

  it('turns the health card red while Redis is cut, and the page keeps working', async () => {
    proxy.cut();
    try {
      await until('Redis down on the page', async () => (await page.locator('#health-redis').getAttribute('class')) === 'dash-down', 3 * TICK_MS);
      await expect(page.locator('#health-redis').innerText()).resolves.toMatch(/^EN PANNE\s+Redis/);
      await expect(page.locator('#card-health').getAttribute('class')).resolves.toContain('dash-alarm');
      await expect(page.locator('#sms-facts').innerText()).resolves.toContain('File d’envoi illisible : Redis ne répond pas.');
      await expect(page.locator('#triage tbody tr').count()).resolves.toBeGreaterThanOrEqual(3);
      // A reload while Redis is away: the page comes, red.
      const res = await page.goto(`${h.base}/`);
      expect(res?.status()).toBe(200);
      await expect(page.locator('#health-redis').getAttribute('class')).resolves.toBe('dash-down');
      await expect(page.locator('#health-database').getAttribute('class')).resolves.toBe('dash-up');
      await page.screenshot({ path: join(artifacts, '52-dashboard-redis-down.png'), fullPage: true });
    } finally {
      proxy.restore();
    }
    await until('Redis back on the page', async () => (await page.locator('#health-redis').getAttribute('class')) === 'dash-up', 30_000);
    expect(problems).toEqual([]);
  }, 60_000);

  it('builds one snapshot per tick for five viewers, and none when nobody watches', async () => {
    const cookie = await cookieOf(context);
    const viewers = await Promise.all(Array.from({ length: 5 }, () => openStream(cookie)));
    expect(viewers.map((v) => [v.status, v.type])).toEqual(Array(5).fill([200, 'text/event-stream; charset=utf-8']));
    const started = Date.now();
    await until('three snapshots on each stream', async () => viewers.every((v) => snapshots(v).length >= 3), 5 * TICK_MS);
    const elapsed = Date.now() - started;
    // Every viewer got the same frames: the ids are the builds' numbers, one after the other, the same for all.
    const ids = viewers.map((v) => snapshots(v).slice(-3).map((e) => Number(e.id)));
    for (const seen of ids) expect(seen).toEqual(ids[0]);
    const all = [...new Set(viewers.flatMap((v) => snapshots(v).map((e) => Number(e.id))))].sort((a, b) => a - b);
    const builds = all.at(-1)! - all[0]! + 1;
    console.log(`dashboard: ${builds} snapshots built in ${elapsed} ms for 6 viewers (5 streams and the page): ids ${all.join(', ')}`);
    expect(all).toEqual(Array.from({ length: builds }, (_, i) => all[0]! + i));
    expect(builds).toBeLessThanOrEqual(Math.ceil(elapsed / TICK_MS) + 1);
    for (const v of viewers) expect(v.comments).toContain('connecté');

    // Everyone leaves: the timer stops, so the next viewer gets the very next build, long after.
    for (const v of viewers) v.close();
    await page.goto('about:blank');
    const last = all.at(-1)!;
    await new Promise((r) => setTimeout(r, 2.5 * TICK_MS));
    const next = await openStream(cookie);
    await until('a snapshot', async () => snapshots(next).length >= 1, 2 * TICK_MS);
    expect(Number(snapshots(next)[0]!.id)).toBe(last + 1);
    next.close();
  }, 60_000);

  it('refuses a stream without a session, and past the cap of one account', async () => {
    const anonymous = await openStream();
    expect([anonymous.status, anonymous.type, anonymous.text]).toEqual([401, 'text/plain; charset=utf-8', 'Connectez-vous d’abord à la console.']);
    const other = await browser.newContext();
    const p = await other.newPage();
    await signIn(p, h.base, 'moussa', PASSWORD);
    const cookie = await cookieOf(other);
    await p.goto('about:blank');
    await new Promise((r) => setTimeout(r, 300));
    const streams = await Promise.all(Array.from({ length: 10 }, () => openStream(cookie)));
    expect(streams.map((s) => s.status)).toEqual(Array(10).fill(200));
    const refused = await openStream(cookie);
    expect([refused.status, refused.text]).toEqual([429, 'Ce compte a déjà 10 tableaux de bord ouverts : fermez-en un.']);
    for (const s of streams) s.close();
    await other.close();
  });

  it('ends the stream when its session is closed, and the page says so', async () => {
    const c = await browser.newContext({ locale: 'fr-FR', timezoneId: 'Africa/Bamako' });
    const p = await c.newPage();
    const pageProblems = watchProblems(p);
    await signIn(p, h.base, 'moussa', PASSWORD);
    await until('the stream', async () => (await p.locator('#dash-status').innerText()).startsWith('En direct'));
    const token = (await c.cookies()).find((k) => k.name === 'kalata')!.value;
    const script = await openStream(await cookieOf(c));
    // The session ends elsewhere (signed out from another tab, or the account disabled).
    await closeSession(h.ctx.db, token);
    await until('the end of the script’s stream', async () => script.events.some((e) => e.event === 'end'), 3 * TICK_MS);
    await script.ended;
    await until('the page told', async () => (await p.locator('#dash-status').innerText()).startsWith('Session terminée'), 3 * TICK_MS);
    await expect(p.locator('#dash-status a').getAttribute('href')).resolves.toBe('/login?next=%2F');
    expect(pageProblems).toEqual([]);
    await c.close();
  }, 40_000);
});
