/**
 * Menus as versioned content (issue 16): versions in a real PostgreSQL, two
 * followers on one Redis that see a publish by pub/sub (and by polling when
 * the message is lost), refused publishes that change nothing, an edit made
 * from an older version refused, rollback, a pinned version loaded by hash,
 * and the `npm run flows` command line as a child process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/config.js';
import { contentHash, dirsOf, readContentDirs, type ContentFiles } from '../../src/content/content-files.js';
import { createLiveContent, type LiveContent } from '../../src/content/live-content.js';
import { listVersions, liveVersionId, publishVersion } from '../../src/content/version-store.js';
import { createFlowRegistry, type FlowRegistry } from '../../src/flows/flow-registry.js';
import { flowOptions, loadContent } from '../../src/flows/flow-set.js';
import { createLogger } from '../../src/logger.js';
import { createDatabase, migrateToLatest, type Db } from '../../src/store/database.js';
import { freshDatabase, freshRedisPrefix } from '../support/databases.js';
import { waitFor } from '../support/wait.js';

const options = flowOptions(loadConfig({}));
const seed = readContentDirs({ flowsDir: options.flowsDir, localesDir: options.localesDir });
const logger = createLogger('silent');

/** The seed with one French text changed: the home screen's title. */
function edited(files: ContentFiles, text: string): ContentFiles {
  const main = JSON.parse(files['locales/fr/main.json']!) as Record<string, unknown>;
  const key = Object.keys(main).find((k) => typeof main[k] === 'string' && !k.startsWith('$'))!;
  return { ...files, 'locales/fr/main.json': JSON.stringify({ ...main, [key]: text }, null, 2) };
}

let databaseUrl: string;
let db: Db;
let prefix: string;
const redisConnections: Redis[] = [];
const stops: (() => Promise<void>)[] = [];
const redis = () => {
  const r = new Redis(process.env.TEST_REDIS_URL!, { maxRetriesPerRequest: 1 });
  redisConnections.push(r);
  return r;
};

/** A process's view: its own registry, following the live version. */
function follower(opts: { pollMs?: number; subscribe?: boolean } = {}): { registry: FlowRegistry; live: LiveContent } {
  const registry = createFlowRegistry(loadContent(options).flows);
  const live = createLiveContent({ db, redis: redis(), ...(opts.subscribe === false ? {} : { subscriber: redis }), prefix, registry, options, logger, pollMs: opts.pollMs ?? 60_000 });
  stops.push(live.follow());
  return { registry, live };
}

beforeAll(async () => {
  databaseUrl = await freshDatabase('content_versions');
  db = await createDatabase({ url: databaseUrl });
  await migrateToLatest(db);
  prefix = `${freshRedisPrefix('content')}:`;
});

afterAll(async () => {
  for (const stop of stops) await stop();
  for (const r of redisConnections) r.disconnect();
  await db?.destroy();
});

describe('content versions', () => {
  let a: ReturnType<typeof follower>;
  let b: ReturnType<typeof follower>;
  let c: ReturnType<typeof follower>;

  it('imports the seed as the first version, once, whoever starts first', async () => {
    a = follower();
    b = follower();
    // Polling only, every 200 ms: what a process sees when no announcement reaches it.
    c = follower({ subscribe: false, pollMs: 200 });
    const results = await Promise.all([a, b].map((f) => f.live.publish(seed, { author: 'seed', basedOn: null })));
    expect(results.map((r) => r.kind).sort()).toEqual(['conflict', 'published']);
    const versions = await listVersions(db);
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({ id: '1', hash: contentHash(seed), author: 'seed', live: true });
  });

  it('makes a publish live on every follower within 3 s: by announcement, and by polling', async () => {
    const text = 'Kalata : version éditée';
    const before = a.registry.live().hash;
    const started = Date.now();
    const result = await a.live.publish(edited(seed, text), { author: 'fatou', note: 'titre', basedOn: '1' });
    expect(result).toMatchObject({ kind: 'published', id: '2' });
    await waitFor('follower b', async () => b.registry.live().hash, (h) => h !== before, 3000);
    await waitFor('follower c (polling)', async () => c.registry.live().hash, (h) => h !== before, 3000);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(3000);
    for (const f of [a, b, c]) expect(f.live.current()).toBe('2');
    expect(JSON.stringify([...b.registry.live().nodes.keys()])).toBe(JSON.stringify([...a.registry.live().nodes.keys()]));
  });

  it('refuses an edit made from an older version than the live one, changing nothing', async () => {
    const result = await b.live.publish(edited(seed, 'une autre édition'), { author: 'awa', basedOn: '1' });
    expect(result).toMatchObject({ kind: 'conflict', liveId: '2', basedOn: '1' });
    expect(await liveVersionId(db)).toBe('2');
    expect(await listVersions(db)).toHaveLength(2);
  });

  it('refuses content with errors, naming the file, line and column, and changes nothing', async () => {
    const broken = { ...seed, 'flows/main.yaml': seed['flows/main.yaml']!.replace(/next: (\w+)/, 'next: nowhere_at_all') };
    expect(broken['flows/main.yaml']).not.toBe(seed['flows/main.yaml']);
    const hash = a.registry.live().hash;
    const result = await a.live.publish(broken, { author: 'fatou' });
    expect(result.kind).toBe('refused');
    if (result.kind !== 'refused') return;
    const errors = result.problems.filter((p) => p.severity === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ file: 'flows/main.yaml' });
    expect(errors[0]!.line).toBeGreaterThan(1);
    expect(await listVersions(db)).toHaveLength(2);
    expect(a.registry.live().hash).toBe(hash);
  });

  it('says nothing changed when the content is the live version already', async () => {
    const live = await a.live.publish(edited(seed, 'Kalata : version éditée'), { author: 'fatou' });
    expect(live).toMatchObject({ kind: 'unchanged', id: '2' });
  });

  it('rolls back to an earlier version on every follower', async () => {
    const v2 = a.registry.live().hash;
    expect(await b.live.rollback('1', 'fatou')).toEqual({ ok: true });
    await waitFor('a back on version 1', async () => a.live.current(), (id) => id === '1', 3000);
    await waitFor('c back on version 1', async () => c.live.current(), (id) => id === '1', 3000);
    expect(a.registry.live().hash).not.toBe(v2);
    expect(await b.live.rollback('99', 'fatou')).toEqual({ ok: false, reason: 'unknown' });
  });

  it('loads the version a call is pinned to, by hash, in a process that never ran it', async () => {
    const v2 = (await listVersions(db)).find((v) => v.id === '2')!;
    const registry = createFlowRegistry(loadContent(options).flows);
    const fresh = createLiveContent({ db, redis: redis(), prefix, registry, options, logger });
    registry.setLoader(fresh.load);
    expect(registry.get(v2.flowsHash)).toBeUndefined();
    const live = registry.live().hash;
    const flows = await registry.resolve(v2.flowsHash);
    expect(flows?.hash).toBe(v2.flowsHash);
    // Kept for the next turns of that call, and the live version stays live.
    expect(registry.get(v2.flowsHash)).toBe(flows);
    expect(registry.live().hash).toBe(live);
    expect(await registry.resolve('no-such-hash')).toBeUndefined();
  });
});

describe('first start of several processes at once', () => {
  it('imports the seed exactly once when ten processes race on an empty database', async () => {
    const empty = await createDatabase({ url: await freshDatabase('content_race') });
    try {
      await migrateToLatest(empty);
      const flowsHash = loadContent(options).flows.hash;
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => publishVersion(empty, { files: seed, hash: contentHash(seed), flowsHash, author: `process ${i}`, basedOn: null })),
      );
      expect(outcomes.filter((o) => o.kind === 'published')).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === 'conflict')).toHaveLength(9);
      expect(await listVersions(empty)).toHaveLength(1);
    } finally {
      await empty.destroy();
    }
  });
});

describe('npm run flows (the command line)', () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/main/flows.ts', ...args], {
      env: { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: process.env.TEST_REDIS_URL!, REDIS_PREFIX: prefix, LOG_LEVEL: 'warn', KALATA_AUTHOR: 'moussa' },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('publishes a folder, lists the versions newest first, exports one back to files, and rolls back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kalata-cli-'));
    const exported = run(['export', '1', dir]);
    expect([exported.status, exported.stderr]).toEqual([0, '']);
    expect(readContentDirs(dirsOf(dir))).toEqual(seed);
    const fr = join(dir, 'locales', 'fr', 'main.json');
    writeFileSync(fr, edited(readContentDirs(dirsOf(dir)), 'Kalata : depuis la ligne de commande')['locales/fr/main.json']!);
    const published = run(['publish', '--dir', dir, '--note', 'titre du menu']);
    expect([published.status, published.stderr]).toEqual([0, '']);
    expect(published.stdout).toMatch(/^published version 3;/);
    const versions = run(['versions']);
    expect(versions.status).toBe(0);
    const lines = versions.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\* {4}3 {2}\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC {2}moussa \(ligne de commande\) {2}titre du menu$/);
    expect(lines[2]).toMatch(/^ {5}1 .* seed$/);
    const rolledBack = run(['rollback', '2']);
    expect([rolledBack.status, rolledBack.stdout.trim()]).toEqual([0, 'version 2 is live again; every process follows within seconds']);
    expect(readFileSync(fr, 'utf8')).toContain('depuis la ligne de commande');
  }, 120_000);

  it('refuses a folder with errors: each problem as file:line:col, exit 1, nothing changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kalata-cli-bad-'));
    expect(run(['export', '1', dir]).status).toBe(0);
    const main = join(dir, 'flows', 'main.yaml');
    writeFileSync(main, readFileSync(main, 'utf8').replace(/next: (\w+)/, 'next: nowhere_at_all'));
    const before = await listVersions(db);
    const refused = run(['publish', '--dir', dir]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^flows\/main\.yaml:\d+:\d+ /m);
    expect(refused.stderr).toMatch(/not published: \d+ error\(s\); the live version is unchanged/);
    expect(refused.stdout).toBe('');
    expect(await listVersions(db)).toEqual(before);
    const usage = run(['publish']);
    expect([usage.status, usage.stderr.trim()]).toEqual([1, expect.stringMatching(/^kalata: usage: npm run flows -- publish --dir DIR/)]);
    const missing = run(['export', '42', dir]);
    expect([missing.status, missing.stderr.trim()]).toEqual([1, 'kalata: no version 42 (see: npm run flows -- versions)']);
  }, 120_000);
});
