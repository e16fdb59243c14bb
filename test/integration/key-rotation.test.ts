/**
 * `npm run keys -- rotate` on a database that real processes filled (a
 * report, STOP, STATUT, plain calls, voters), on PostgreSQL and on PGlite:
 * it refuses while it would leave something under the old keys, and after
 * it the numbers decrypt with the new key only, opt-outs still apply,
 * STATUT still answers, and the old keys no longer start.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../../src/config/config.js';
import { createContext, type AppContext } from '../../src/context.js';
import { createLogger } from '../../src/logger.js';
import { KeyMismatchError, keyFingerprint, verifyKeyFingerprints } from '../../src/privacy/key-fingerprints.js';
import { rotateKeys, type RotationOptions } from '../../src/privacy/key-rotation.js';
import { decryptText, encryptText, pseudonymizePhone } from '../../src/privacy/phone.js';
import type { Secrets } from '../../src/privacy/secrets.js';
import { createSmsProcessor } from '../../src/queue/sms-processor.js';
import { SMS_TEXTS } from '../../src/sms/sms-text.js';
import { ninaHash } from '../../src/stations/nina.js';
import { Migrator } from 'kysely';
import { migrations } from '../../migrations/index.js';
import { createDatabase, migrateToLatest, type Db } from '../../src/store/database.js';
import { insertSms } from '../../src/store/sms-store.js';
import { createTurnSpool } from '../../src/store/turn-spool.js';
import { createApp } from '../../src/web/app.js';
import { freshDatabase, freshRedisPrefix } from '../support/databases.js';
import { converse, type Harness } from '../support/harness.js';

const newKeys = (): Secrets => ({ phoneHashKey: randomBytes(32).toString('base64url'), dataEncryptionKey: randomBytes(32).toString('hex') });
const env = (keys: Secrets) => ({ PHONE_HASH_KEY: keys.phoneHashKey, DATA_ENCRYPTION_KEY: keys.dataEncryptionKey });
type SmsJob = Parameters<ReturnType<typeof createSmsProcessor>>[0];
const fakeJob = (messageId: string) => ({ data: { messageId }, attemptsMade: 0, opts: { attempts: 3 } }) as unknown as SmsJob;

const REPORTER = '+22376710001'; // files a report, then sends STOP
const OPTED_OUT = '+22376710002'; // only sends STOP; the outbox forgets the number later
const BROWSER = '+22376710003'; // only calls: no number is ever kept

/** A web process on `db` (which it does not close), as `npm run start:web` would run it. */
async function startProcess(db: Db, keys: Secrets, redis: Redis, prefix: string): Promise<Harness> {
  const config = loadConfig({ LOG_LEVEL: 'warn', DATA_DIR: mkdtempSync(join(tmpdir(), 'kalata-rotate-')), ...env(keys) });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const ctx: AppContext = await createContext(config, { logger: createLogger('warn', sink), db, redis, redisPrefix: prefix, worker: false });
  const server: Server = createApp(ctx).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    ctx,
    base,
    logs,
    async at(fields, path = '/ussd/africastalking') {
      const body = new URLSearchParams();
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) body.append(k, v);
      const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
      return { status: res.status, body: await res.text() };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await ctx.close();
    },
  };
}

let sms = 0;
const text = (p: Harness, phone: string, body: string) =>
  p.ctx.inboundSms({ gatewayId: `rot-${++sms}-${Date.now()}`, phone, to: '36000', text: body, receivedAt: new Date(), linkId: null });

async function replyTemplate(p: Harness, result: Awaited<ReturnType<typeof text>>): Promise<string | undefined> {
  if (result.duplicate || !result.replyId) return undefined;
  return (await p.ctx.db.selectFrom('sms_outbox').select('template').where('id', '=', result.replyId).executeTakeFirstOrThrow()).template;
}

/** Files a report; a caller whose language is remembered skips the language menu. */
async function fileReport(p: Harness, phone: string, session: string, languageKnown = false): Promise<{ ref: string; first: string }> {
  const menu = ['2', '1', '1', '1', '5', 'Quartier Médine', "On distribue de l'argent devant le bureau", '1'];
  const replies = await converse(p, { sessionId: session, phoneNumber: phone }, languageKnown ? menu : ['1', ...menu]);
  const ref = /KA-[0-9A-Z]{7}/.exec(replies.at(-1)!)?.[0];
  if (!ref) throw new Error(`no reference: ${replies.join(' | ')}`);
  return { ref, first: replies[0]! };
}

const backends: [string, boolean][] = [
  ['PostgreSQL', false],
  ['PGlite', true],
];

describe.each(backends)('npm run keys -- rotate, on %s', (_name, embedded) => {
  const oldKeys = newKeys();
  const keys = newKeys();
  const prefix = `${freshRedisPrefix(`rotate ${_name}`)}:`;
  let redis: Redis;
  let url: string | undefined;
  let pgliteDir: string | undefined;
  let db: Db;
  let ref: string;
  const open = () => createDatabase(url ? { url } : { pgliteDir: pgliteDir! });
  const options = (extra: Partial<RotationOptions> = {}): RotationOptions => ({
    from: oldKeys,
    to: keys,
    dropVoters: true,
    spool: createTurnSpool({ redis, db, prefix, key: oldKeys.dataEncryptionKey, logger: createLogger('silent') }),
    ...extra,
  });
  const fingerprints = async () => Object.fromEntries((await db.selectFrom('key_fingerprints').select(['name', 'fingerprint']).execute()).map((r) => [r.name, r.fingerprint]));
  const oldFingerprints = () => ({ PHONE_HASH_KEY: keyFingerprint('PHONE_HASH_KEY', oldKeys.phoneHashKey), DATA_ENCRYPTION_KEY: keyFingerprint('DATA_ENCRYPTION_KEY', oldKeys.dataEncryptionKey) });

  beforeAll(async () => {
    redis = new Redis(process.env.TEST_REDIS_URL!, { maxRetriesPerRequest: 1 });
    if (embedded) pgliteDir = join(mkdtempSync(join(tmpdir(), 'kalata-rotate-pglite-')), 'pglite');
    else url = await freshDatabase(`rotate ${_name}`);
    db = await open();
    const p = await startProcess(db, oldKeys, redis, prefix);
    try {
      ref = (await fileReport(p, REPORTER, 'ATUid_rot_report')).ref;
      expect(await replyTemplate(p, await text(p, REPORTER, `STATUT ${ref}`))).toBe(SMS_TEXTS.status);
      expect(await replyTemplate(p, await text(p, REPORTER, 'STOP'))).toBe(SMS_TEXTS.stopAck);
      expect(await replyTemplate(p, await text(p, OPTED_OUT, 'STOP'))).toBe(SMS_TEXTS.stopAck);
      await converse(p, { sessionId: 'ATUid_rot_browse_1', phoneNumber: BROWSER }, ['1', '1']);
      await converse(p, { sessionId: 'ATUid_rot_browse_2', phoneNumber: BROWSER }, ['4']);
      // Each opt-out keeps its number (encrypted) for as long as it stands.
      expect(await db.selectFrom('sms_optout_numbers').select('phone_hash').execute()).toHaveLength(2);
      const centre = await db
        .insertInto('polling_centres')
        .values({ code: 'ROT-1', region: 'Fictive', cercle: 'Cercle', commune: 'Commune', name: 'École (fictive)' })
        .returning('id')
        .executeTakeFirstOrThrow();
      await db.insertInto('voter_assignments').values({ nina_hash: ninaHash(oldKeys.phoneHashKey, 'AB123456'), centre_id: centre.id, station: '1' }).execute();
    } finally {
      await p.close();
    }
    // A month later: the outbox has forgotten its numbers (PHONE_RETENTION_DAYS); the report keeps its own.
    await db.updateTable('sms_outbox').set({ phone_enc: null }).execute();
    // The hotline is stopped: the rotation gets the database to itself.
    await db.destroy();
    db = await open();
  }, 60_000);

  afterAll(async () => {
    await db.destroy();
    redis.disconnect();
    if (pgliteDir) rmSync(join(pgliteDir, '..'), { recursive: true, force: true });
  });

  it('refuses, changing nothing, while turns wait in the spool, voters would be lost, the old key is wrong or the hotline is connected', async () => {
    const stream = `${prefix}spool:turns`;
    await redis.xadd(stream, '*', 'turn', 'sealed under the old key');
    await expect(rotateKeys(db, options())).rejects.toThrow(/^1 turn waits in the Redis spool, sealed under the old keys: start the hotline with the old keys/);
    await redis.del(stream);

    await expect(rotateKeys(db, options({ dropVoters: false }))).rejects.toThrow(/^1 voters' assignments are keyed by PHONE_HASH_KEY.*--drop-voters.*npm run stations -- import/);
    await expect(rotateKeys(db, options({ from: { ...oldKeys, dataEncryptionKey: newKeys().dataEncryptionKey } }))).rejects.toThrow(
      /^the old DATA_ENCRYPTION_KEY \(fingerprint [0-9a-f]{16}\) is not the key this database uses \(fingerprint [0-9a-f]{16}\): give it as OLD_DATA_ENCRYPTION_KEY/,
    );
    await expect(rotateKeys(db, options({ from: newKeys() }))).rejects.toThrow(/^the old PHONE_HASH_KEY \(fingerprint [0-9a-f]{16}\) is not the key this database uses/);
    await expect(rotateKeys(db, options({ to: oldKeys }))).rejects.toThrow(/^the old and new keys are the same/);
    const stray = newKeys().phoneHashKey;
    await expect(rotateKeys(db, options({ from: { ...oldKeys, phoneHashKey: stray }, to: { ...keys, phoneHashKey: stray } }))).rejects.toThrow(
      /^PHONE_HASH_KEY \(fingerprint [0-9a-f]{16}\) is not the key this database uses \(fingerprint [0-9a-f]{16}\), and it is not being rotated/,
    );
    if (url) {
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        await expect(rotateKeys(db, options())).rejects.toThrow(/^1 other connection is open on this database: stop the hotline/);
      } finally {
        await other.end();
      }
    }
    expect(await fingerprints()).toEqual(oldFingerprints());
    const report = await db.selectFrom('reports').select('phone_enc').where('ref', '=', ref).executeTakeFirstOrThrow();
    expect(decryptText(oldKeys.dataEncryptionKey, report.phone_enc!)).toBe(REPORTER);
  });

  it('a dry run says what it would do, and rolls back', async () => {
    const summary = await rotateKeys(db, options({ dryRun: true }));
    expect(summary).toMatchObject({ dryRun: true, rotated: ['PHONE_HASH_KEY', 'DATA_ENCRYPTION_KEY'], votersDropped: 1 });
    expect(await fingerprints()).toEqual(oldFingerprints());
    expect(await db.selectFrom('voter_assignments').select('nina_hash').execute()).toHaveLength(1);
    expect(await db.selectFrom('sms_optouts').select('phone_hash').where('phone_hash', '=', pseudonymizePhone(oldKeys.phoneHashKey, OPTED_OUT)).execute()).toHaveLength(1);
  });

  it('re-encrypts every number and re-keys every pseudonym it can, in one go, and says what it could not', async () => {
    const summary = await rotateKeys(db, options());
    expect(summary).toEqual({
      rotated: ['PHONE_HASH_KEY', 'DATA_ENCRYPTION_KEY'],
      dryRun: false,
      // the report's copy, and the two opt-outs' (the outbox forgot its own)
      resealed: { reports: 1, sms_outbox: 0, sms_optout_numbers: 2, callbacks: 0 },
      forgotten: 0,
      pseudonyms: { rekeyed: 2, unlinked: 1 },
      optouts: { rekeyed: 2, unlinked: 0 },
      reportsUnlinked: 0,
      votersDropped: 1,
      fingerprints: { PHONE_HASH_KEY: keyFingerprint('PHONE_HASH_KEY', keys.phoneHashKey), DATA_ENCRYPTION_KEY: keyFingerprint('DATA_ENCRYPTION_KEY', keys.dataEncryptionKey) },
    });
    expect(await fingerprints()).toEqual(summary.fingerprints);

    const report = await db.selectFrom('reports').selectAll().where('ref', '=', ref).executeTakeFirstOrThrow();
    expect(decryptText(keys.dataEncryptionKey, report.phone_enc!)).toBe(REPORTER);
    expect(() => decryptText(oldKeys.dataEncryptionKey, report.phone_enc!)).toThrow();
    expect(report.phone_hash).toBe(pseudonymizePhone(keys.phoneHashKey, REPORTER));
    for (const row of await db.selectFrom('sms_optout_numbers').selectAll().execute()) {
      expect(row.phone_hash).toBe(pseudonymizePhone(keys.phoneHashKey, decryptText(keys.dataEncryptionKey, row.phone_enc)));
    }

    // No pseudonym is left under the old key, anywhere.
    const oldHashes = [REPORTER, OPTED_OUT, BROWSER].map((phone) => pseudonymizePhone(oldKeys.phoneHashKey, phone));
    for (const table of ['calls', 'reports', 'callers', 'sms_outbox', 'sms_inbound', 'sms_optouts', 'sms_optout_numbers'] as const) {
      expect(await db.selectFrom(table).select('phone_hash').where('phone_hash', 'in', oldHashes).execute()).toEqual([]);
    }
    // The reporter's calls, messages and language follow the number; the browser's calls stay together, matching nobody.
    const reporterHash = pseudonymizePhone(keys.phoneHashKey, REPORTER);
    expect(await db.selectFrom('calls').select('id').where('phone_hash', '=', reporterHash).execute()).toHaveLength(1);
    expect((await db.selectFrom('sms_inbound').select('id').where('phone_hash', '=', reporterHash).execute()).length).toBe(2);
    const browsed = await db.selectFrom('calls').select('phone_hash').where('gateway_session_id', 'like', 'ATUid_rot_browse_%').execute();
    expect(browsed).toHaveLength(2);
    expect(new Set(browsed.map((c) => c.phone_hash)).size).toBe(1);
    expect(browsed[0]!.phone_hash).not.toBe(pseudonymizePhone(keys.phoneHashKey, BROWSER));
    expect(await db.selectFrom('voter_assignments').select('nina_hash').execute()).toEqual([]);
    expect(await db.selectFrom('audit_log').select(['action', 'target']).where('action', '=', 'rotate_keys').execute()).toEqual([{ action: 'rotate_keys', target: 'PHONE_HASH_KEY,DATA_ENCRYPTION_KEY' }]);
  });

  it('afterwards the old keys refuse to start, and on the new ones STOP still applies and STATUT still answers', async () => {
    const started = startProcess(db, oldKeys, redis, prefix);
    await expect(started).rejects.toBeInstanceOf(KeyMismatchError);
    await expect(started).rejects.toThrow(/^PHONE_HASH_KEY does not match the key this database was created with \(fingerprint [0-9a-f]{16}/);

    const p = await startProcess(db, keys, redis, prefix);
    try {
      expect(await replyTemplate(p, await text(p, REPORTER, `STATUT ${ref}`))).toBe(SMS_TEXTS.status);
      const process = createSmsProcessor({ db, flows: p.ctx.flows, secrets: p.ctx.secrets, transport: p.ctx.smsTransport, logger: p.ctx.logger });
      // The reporter calls again: the language is still remembered, and the follow-up is not sent (STOP, before the rotation).
      const { ref: again, first } = await fileReport(p, REPORTER, 'ATUid_rot_report_2', true);
      expect(first).toMatch(/^CON Kalata: infos sur le vote\n/);
      const followup = await db.selectFrom('sms_outbox').select('id').where('ref', '=', again).executeTakeFirstOrThrow();
      expect(await process(fakeJob(followup.id))).toBe('opted_out');
      // So is a reply to the one whose number only the opt-out kept.
      const help = await text(p, OPTED_OUT, 'AIDE');
      expect(help.duplicate).toBe(false);
      expect(await process(fakeJob((help as { replyId: string }).replyId))).toBe('opted_out');
    } finally {
      await p.close();
    }
  });
});

describe('rotating when an old key is lost, or some numbers were sealed under yet another key', () => {
  const keys = newKeys();
  const next = newKeys();
  let db: Db;
  const phone = (i: number) => `+2237673000${i}`;
  /** What the runtime writes for a report, sealed under `sealing` (the database's keys unless said otherwise). */
  const addReport = (i: number, sealing: Secrets = keys) =>
    db
      .insertInto('reports')
      .values({ ref: `KA-LOST00${i}`, call_id: null, phone_hash: pseudonymizePhone(keys.phoneHashKey, phone(i)), phone_enc: encryptText(sealing.dataEncryptionKey, phone(i)), language: 'fr', fields: JSON.stringify({}), incident: null, region: null })
      .execute();
  const encOf = async (i: number) => (await db.selectFrom('reports').select(['phone_enc', 'phone_hash']).where('ref', '=', `KA-LOST00${i}`).executeTakeFirstOrThrow());

  beforeEach(async () => {
    db = await createDatabase({});
    await migrateToLatest(db);
    await verifyKeyFingerprints(db, keys);
    await addReport(1);
    await addReport(2, newKeys()); // an earlier, silent change of DATA_ENCRYPTION_KEY
  });
  afterEach(() => db.destroy());

  it('refuses numbers the old key cannot read, or deletes them when asked (they are lost either way)', async () => {
    await expect(rotateKeys(db, { from: keys, to: next })).rejects.toThrow(/^1 encrypted number cannot be read with the old DATA_ENCRYPTION_KEY \(the first: reports \d+\).*--forget-unreadable/);
    const summary = await rotateKeys(db, { from: keys, to: next, forgetUnreadable: true });
    expect(summary).toMatchObject({ forgotten: 1, resealed: { reports: 1 }, pseudonyms: { rekeyed: 1, unlinked: 1 } });
    expect((await encOf(2)).phone_enc).toBeNull();
    expect(decryptText(next.dataEncryptionKey, (await encOf(1)).phone_enc!)).toBe(phone(1));
  });

  it('with a lost DATA_ENCRYPTION_KEY, forgets every number and records the new key', async () => {
    const summary = await rotateKeys(db, { from: { ...keys, dataEncryptionKey: next.dataEncryptionKey }, to: { ...keys, dataEncryptionKey: next.dataEncryptionKey }, lost: ['DATA_ENCRYPTION_KEY'] });
    expect(summary).toMatchObject({ rotated: ['DATA_ENCRYPTION_KEY'], forgotten: 2 });
    expect((await encOf(1)).phone_enc).toBeNull();
    expect((await encOf(1)).phone_hash).toBe(pseudonymizePhone(keys.phoneHashKey, phone(1)));
    await verifyKeyFingerprints(db, { ...keys, dataEncryptionKey: next.dataEncryptionKey });
  });

  it('with a lost PHONE_HASH_KEY, re-keys the pseudonyms of the numbers still readable', async () => {
    const summary = await rotateKeys(db, { from: { ...keys, phoneHashKey: next.phoneHashKey }, to: { ...keys, phoneHashKey: next.phoneHashKey }, lost: ['PHONE_HASH_KEY'], forgetUnreadable: true });
    expect(summary).toMatchObject({ rotated: ['PHONE_HASH_KEY'], pseudonyms: { rekeyed: 1, unlinked: 1 } });
    expect((await encOf(1)).phone_hash).toBe(pseudonymizePhone(next.phoneHashKey, phone(1)));
    // The number itself was not touched: it is still under the same (kept) key.
    expect(decryptText(keys.dataEncryptionKey, (await encOf(1)).phone_enc!)).toBe(phone(1));
  });
});

describe('an opt-out that keeps no number (a STOP from before numbers were kept with them)', () => {
  it('refuses to rotate PHONE_HASH_KEY, changing nothing, unless told to lose it', async () => {
    const keys = newKeys();
    const next = newKeys();
    const db = await createDatabase({});
    try {
      await migrateToLatest(db);
      await verifyKeyFingerprints(db, keys);
      await db.insertInto('sms_optouts').values({ phone_hash: 'legacy-optout-hash-without-number', opted_out_at: new Date() }).execute();
      await expect(rotateKeys(db, { from: keys, to: { ...keys, phoneHashKey: next.phoneHashKey } })).rejects.toThrow(/1 opt-out\(s\) keep no number.*--lose-optouts/);
      expect(await db.selectFrom('sms_optouts').select('phone_hash').execute()).toEqual([{ phone_hash: 'legacy-optout-hash-without-number' }]);
      await verifyKeyFingerprints(db, keys);
      const summary = await rotateKeys(db, { from: keys, to: { ...keys, phoneHashKey: next.phoneHashKey }, loseOptouts: true });
      expect(summary.optouts).toEqual({ rekeyed: 0, unlinked: 1 });
    } finally {
      await db.destroy();
    }
  });
});

describe('the migration that keeps opt-outs\' numbers', () => {
  it('takes each existing opt-out\'s newest number from the outbox or a report', async () => {
    const db = await createDatabase({});
    try {
      const names = Object.keys(migrations).sort();
      const mine = names.indexOf('2026-12-01-003-key-fingerprints');
      const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
      const before = await migrator.migrateTo(names[mine - 1]!);
      expect(before.error).toBeUndefined();
      const keys = newKeys();
      const hash = pseudonymizePhone(keys.phoneHashKey, OPTED_OUT);
      await db.insertInto('sms_optouts').values({ phone_hash: hash, opted_out_at: new Date() }).execute();
      for (const [i, at] of ['2026-11-01', '2026-11-20'].entries()) {
        await insertSms(db, { dedupeKey: `m${i}`, kind: 'reply', ref: null, phoneHash: hash, phoneEnc: `sealed-${at}`, language: 'fr', template: SMS_TEXTS.help, vars: {} });
        await db.updateTable('sms_outbox').set({ created_at: new Date(at) }).where('dedupe_key', '=', `m${i}`).execute();
      }
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      expect(await db.selectFrom('sms_optout_numbers').selectAll().execute()).toEqual([{ phone_hash: hash, phone_enc: 'sealed-2026-11-20' }]);
      // START deletes the kept number with the opt-out.
      await db.deleteFrom('sms_optouts').execute();
      expect(await db.selectFrom('sms_optout_numbers').selectAll().execute()).toEqual([]);
    } finally {
      await db.destroy();
    }
  });
});
