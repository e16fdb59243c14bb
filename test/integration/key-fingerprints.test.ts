/**
 * A key that changes stops the process with one clear line, instead of
 * silently breaking opt-outs, STATUT and reveals: the first start records a
 * keyed fingerprint of each key, later starts compare (PostgreSQL and PGlite,
 * in-process and as real commands).
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config/config.js';
import { createContext } from '../../src/context.js';
import { createLogger } from '../../src/logger.js';
import { KeyMismatchError, keyFingerprint, verifyKeyFingerprints } from '../../src/privacy/key-fingerprints.js';
import type { Secrets } from '../../src/privacy/secrets.js';
import { createDatabase, migrateToLatest, type Db } from '../../src/store/database.js';
import { freshDatabase, freshRedisPrefix } from '../support/databases.js';
import { converse, startHarness, type Harness } from '../support/harness.js';

const newKeys = (): Secrets => ({ phoneHashKey: randomBytes(32).toString('base64url'), dataEncryptionKey: randomBytes(32).toString('hex') });
const env = (keys: Secrets) => ({ PHONE_HASH_KEY: keys.phoneHashKey, DATA_ENCRYPTION_KEY: keys.dataEncryptionKey });
const fingerprintsOf = (keys: Secrets) => ({ PHONE_HASH_KEY: keyFingerprint('PHONE_HASH_KEY', keys.phoneHashKey), DATA_ENCRYPTION_KEY: keyFingerprint('DATA_ENCRYPTION_KEY', keys.dataEncryptionKey) });
const recorded = async (db: Db) => Object.fromEntries((await db.selectFrom('key_fingerprints').select(['name', 'fingerprint']).execute()).map((r) => [r.name, r.fingerprint]));

describe('key fingerprints on PostgreSQL', () => {
  const keys = newKeys();
  let h: Harness;
  let redis: Redis;
  let db: Db;
  /** Starts another process's context on the same database; closes it again when it starts. */
  const startWith = async (other: Secrets) => {
    const config = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: mkdtempSync(join(tmpdir(), 'kalata-fp-')), DATABASE_URL: h.databaseUrl!, ...env(other) });
    const ctx = await createContext(config, { logger: createLogger('silent'), db, redis, redisPrefix: `${freshRedisPrefix('fingerprints')}:` });
    await ctx.close();
  };

  beforeAll(async () => {
    h = await startHarness('key fingerprints', { env: env(keys) });
    redis = new Redis(process.env.TEST_REDIS_URL!, { maxRetriesPerRequest: 1 });
    db = await createDatabase({ url: h.databaseUrl! });
    await converse(h, { sessionId: 'ATUid_fp_1', phoneNumber: '+22376720001' }, ['1', '2', '1', '1', '1', '5', 'Quartier', 'Des billets distribués', '1']);
  });
  afterAll(async () => {
    await db.destroy();
    redis.disconnect();
    await h.close();
  });

  it('the first start records a keyed fingerprint of each key: neither the key nor a hash of it', async () => {
    const rows = await db.selectFrom('key_fingerprints').selectAll().execute();
    expect(Object.fromEntries(rows.map((r) => [r.name, r.fingerprint]))).toEqual(fingerprintsOf(keys));
    const dump = JSON.stringify(rows);
    for (const key of Object.values(keys)) {
      expect(dump).not.toContain(key);
      for (const digest of ['hex', 'base64', 'base64url'] as const) expect(dump).not.toContain(createHash('sha256').update(key).digest(digest).slice(0, 16));
    }
    expect(h.logs.join('')).toMatch(/key fingerprints recorded/);
  });

  it('a process with the same keys starts, also with DATA_ENCRYPTION_KEY written in base64', async () => {
    await startWith(keys);
    await startWith({ ...keys, dataEncryptionKey: Buffer.from(keys.dataEncryptionKey, 'hex').toString('base64') });
  });

  it.each([
    ['PHONE_HASH_KEY', { phoneHashKey: newKeys().phoneHashKey }],
    ['DATA_ENCRYPTION_KEY', { dataEncryptionKey: newKeys().dataEncryptionKey }],
  ] as const)('a process with another %s refuses to start, with one line that names it and how to rotate', async (name, changed) => {
    const other = { ...keys, ...changed };
    const error = await startWith(other).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(KeyMismatchError);
    const message = (error as Error).message;
    expect(message).toMatch(
      new RegExp(`^${name} does not match the key this database was created with \\(fingerprint ${fingerprintsOf(keys)[name]}, since \\d{4}-\\d\\d-\\d\\d; the configured key's is ${fingerprintsOf(other)[name]}\\): restore the old key, or move the data to the new one with OLD_${name}=<old key> npm run keys -- rotate`),
    );
    expect(message).not.toContain('\n');
    for (const key of [...Object.values(keys), ...Object.values(other)]) expect(message).not.toContain(key);
    expect(await recorded(db)).toEqual(fingerprintsOf(keys));
  });

  it('a deployment upgrading (data, no fingerprints) records its keys, unless its data says they are not the ones', async () => {
    await db.deleteFrom('key_fingerprints').execute();
    await expect(startWith({ ...keys, dataEncryptionKey: newKeys().dataEncryptionKey })).rejects.toThrow(/^DATA_ENCRYPTION_KEY cannot decrypt the numbers already in this database \(the newest, (reports|sms_outbox) \d+\)/);
    await expect(startWith({ ...keys, phoneHashKey: newKeys().phoneHashKey })).rejects.toThrow(/^PHONE_HASH_KEY is not the key the pseudonyms already in this database were made with/);
    expect(await recorded(db)).toEqual({});
    await startWith(keys);
    expect(await recorded(db)).toEqual(fingerprintsOf(keys));
  });

  it('processes starting together on a fresh database agree on the first one\'s keys', async () => {
    const fresh = await createDatabase({ url: await freshDatabase('fingerprints race') });
    try {
      await migrateToLatest(fresh);
      await Promise.all([verifyKeyFingerprints(fresh, keys), verifyKeyFingerprints(fresh, keys), verifyKeyFingerprints(fresh, keys)]);
      expect(await recorded(fresh)).toEqual(fingerprintsOf(keys));
      await sql`delete from key_fingerprints`.execute(fresh);
      const results = await Promise.allSettled([verifyKeyFingerprints(fresh, keys), verifyKeyFingerprints(fresh, newKeys())]);
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    } finally {
      await fresh.destroy();
    }
  });

  describe('as commands', () => {
    const run = (script: string, args: string[], keysEnv: Secrets) =>
      spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
        env: { ...process.env, ...env(keysEnv), DATABASE_URL: h.databaseUrl!, REDIS_URL: process.env.TEST_REDIS_URL!, REDIS_PREFIX: `${freshRedisPrefix('fp-cmd')}:`, DATA_DIR: mkdtempSync(join(tmpdir(), 'kalata-fp-cmd-')), LOG_LEVEL: 'warn', PORT: '0' },
        encoding: 'utf8',
        timeout: 60_000,
      });

    it('npm run start:web with another key prints one line and exits 1', () => {
      const other = { ...keys, phoneHashKey: newKeys().phoneHashKey };
      const r = run('src/main/web.ts', [], other);
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toMatch(/^kalata: PHONE_HASH_KEY does not match the key this database was created with \(fingerprint [0-9a-f]{16}, since [-\d]+; the configured key's is [0-9a-f]{16}\): restore the old key, or move the data to the new one with OLD_PHONE_HASH_KEY=<old key> npm run keys -- rotate \(docs\/threat-model\.md, "Changing a key"\)$/);
      expect(r.stdout).not.toMatch(/Kalata is running/);
    });

    it('npm run keys -- check says which keys match, and exits 1 when one does not', () => {
      const good = run('src/main/keys.ts', ['check'], keys);
      expect(good.stderr).toBe('');
      expect(good.status).toBe(0);
      expect(good.stdout).toMatch(new RegExp(`^PHONE_HASH_KEY +${fingerprintsOf(keys).PHONE_HASH_KEY}  matches this database \\(since [-\\d]+\\)$`, 'm'));
      expect(good.stdout).toMatch(new RegExp(`^DATA_ENCRYPTION_KEY +${fingerprintsOf(keys).DATA_ENCRYPTION_KEY}  matches this database`, 'm'));
      const bad = run('src/main/keys.ts', ['check'], { ...keys, dataEncryptionKey: newKeys().dataEncryptionKey });
      expect(bad.status).toBe(1);
      expect(bad.stdout).toMatch(new RegExp(`^DATA_ENCRYPTION_KEY +[0-9a-f]{16}  DOES NOT MATCH: this database's key has fingerprint ${fingerprintsOf(keys).DATA_ENCRYPTION_KEY}`, 'm'));
      expect(bad.stdout).toMatch(/^PHONE_HASH_KEY .* matches this database/m);
    });

    it('npm run keys -- rotate explains what it needs, and refuses while the hotline is connected', () => {
      const none = run('src/main/keys.ts', ['rotate'], keys);
      expect(none.status).toBe(1);
      expect(none.stderr.trim()).toBe('kalata: set OLD_PHONE_HASH_KEY and/or OLD_DATA_ENCRYPTION_KEY to the keys the data is under now, and PHONE_HASH_KEY / DATA_ENCRYPTION_KEY to the new ones');
      const next = newKeys();
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main/keys.ts', 'rotate', '--dry-run'], {
        env: { ...process.env, ...env(next), OLD_PHONE_HASH_KEY: keys.phoneHashKey, OLD_DATA_ENCRYPTION_KEY: keys.dataEncryptionKey, DATABASE_URL: h.databaseUrl!, REDIS_URL: process.env.TEST_REDIS_URL!, REDIS_PREFIX: `${freshRedisPrefix('fp-rot')}:`, LOG_LEVEL: 'warn' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.status).toBe(1);
      // The harness's web process, and this file's own pool, are connected.
      expect(r.stderr.trim()).toMatch(/^kalata: \d+ other connections? (is|are) open on this database: stop the hotline \(every web process and worker\) first/);
    });
  });
});

describe('key fingerprints on PGlite', () => {
  it('are recorded in the data folder and checked when it is opened again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kalata-fp-pglite-'));
    const keys = newKeys();
    try {
      let db = await createDatabase({ pgliteDir: join(dir, 'pglite') });
      await migrateToLatest(db);
      expect(await verifyKeyFingerprints(db, keys)).toEqual({ recorded: ['PHONE_HASH_KEY', 'DATA_ENCRYPTION_KEY'] });
      await db.destroy();
      db = await createDatabase({ pgliteDir: join(dir, 'pglite') });
      try {
        expect(await verifyKeyFingerprints(db, keys)).toEqual({ recorded: [] });
        await expect(verifyKeyFingerprints(db, { ...keys, phoneHashKey: newKeys().phoneHashKey })).rejects.toThrow(/^PHONE_HASH_KEY does not match the key this database was created with/);
      } finally {
        await db.destroy();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
