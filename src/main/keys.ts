/**
 * `npm run keys -- check`: whether the configured PHONE_HASH_KEY and
 * DATA_ENCRYPTION_KEY are the ones the database's data is under (by their
 * fingerprints); exit 1 if not.
 *
 * `npm run keys -- rotate [--dry-run] [--drop-voters] [--forget-unreadable]
 * [--lost NAME] [--ignore-connections]`: moves the data from the old keys
 * (OLD_PHONE_HASH_KEY, OLD_DATA_ENCRYPTION_KEY) to the configured ones, in one
 * transaction, with the hotline stopped. See docs/threat-model.md, "Changing
 * a key". Runs the migrations first, so it works on any database.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectRedis } from '../store/redis-connection.js';
import { loadConfig, loadOldKeys, type Config } from '../config/config.js';
import { createLogger } from '../logger.js';
import { checkKeys, KEY_NAMES, type KeyName } from '../privacy/key-fingerprints.js';
import { rotateKeys, type RotationSummary } from '../privacy/key-rotation.js';
import { loadSecrets, type Secrets } from '../privacy/secrets.js';
import { openConfiguredDatabase, migrateToLatest, type Db } from '../store/database.js';
import { startLocalRedis } from '../local-servers/local-redis.js';
import { createTurnSpool } from '../store/turn-spool.js';
import { runMain, UsageError } from './run-main.js';

const USAGE =
  'usage: npm run keys -- check | rotate [--dry-run] [--drop-voters] [--forget-unreadable] [--lose-optouts] [--lost PHONE_HASH_KEY|DATA_ENCRYPTION_KEY] [--ignore-connections]';

async function check(db: Db, secrets: Secrets): Promise<boolean> {
  let ok = true;
  for (const k of await checkKeys(db, secrets)) {
    const head = `${k.name.padEnd(20)} ${k.fingerprint}  `;
    const since = k.recorded ? ` (since ${k.recorded.since.toISOString().slice(0, 10)})` : '';
    if (k.state === 'matches') console.log(`${head}matches this database${since}`);
    else if (k.state === 'differs') console.log(`${head}DOES NOT MATCH: this database's key has fingerprint ${k.recorded!.fingerprint}${since}`);
    else if (k.problem) console.log(`${head}DOES NOT FIT this database's data: ${k.problem}`);
    else console.log(`${head}not recorded yet: the next start records it`);
    if (k.state === 'differs' || k.problem) ok = false;
  }
  return ok;
}

/** How many turns wait in the spool, from Redis (a private one is started on its data when REDIS_URL is unset). */
async function withSpool<T>(config: Config, db: Db, secrets: Secrets, use: (spool: { size(): Promise<number> } | undefined) => Promise<T>): Promise<T> {
  let target = config.redis;
  let stopLocal: (() => Promise<void>) | undefined;
  if (!target) {
    const dir = join(config.dataDir, 'redis');
    if (!existsSync(dir)) return use(undefined); // no private Redis ever ran: nothing can be spooled
    const local = await startLocalRedis({ dir, persist: true });
    target = { kind: 'url', url: local.url };
    stopLocal = () => local.stop();
  }
  const redis = connectRedis(target, { maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 5000, lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect().catch((err: Error) => {
      throw new UsageError(`cannot check the turn spool: Redis does not answer (${err.message}); start it first`);
    });
    const spool = createTurnSpool({ redis, db, prefix: config.redisPrefix, key: secrets.dataEncryptionKey, logger: createLogger('silent') });
    return await use(spool);
  } finally {
    redis.disconnect();
    await stopLocal?.();
  }
}

function report(s: RotationSummary): void {
  const names = s.rotated.join(' and ');
  console.log(s.dryRun ? `dry run: ${names} would be rotated (rolled back: nothing changed)` : `rotated ${names} in one transaction`);
  const rewritten = s.resealed.reports + s.resealed.sms_outbox + s.resealed.sms_optout_numbers + s.resealed.callbacks;
  console.log(`  encrypted numbers rewritten: ${rewritten} (reports ${s.resealed.reports}, SMS ${s.resealed.sms_outbox}, opt-outs ${s.resealed.sms_optout_numbers}, call-backs ${s.resealed.callbacks})`);
  if (s.forgotten) console.log(`  encrypted numbers deleted, unreadable: ${s.forgotten}`);
  if (s.rotated.includes('PHONE_HASH_KEY')) {
    console.log(`  callers re-keyed from a number still kept: ${s.pseudonyms.rekeyed}`);
    console.log(
      `  callers whose number is no longer kept: ${s.pseudonyms.unlinked}: their calls, language and SMS history stay together but match nobody any more` +
        (s.reportsUnlinked ? `, and STATUT no longer answers for ${s.reportsUnlinked} of their reports` : ''),
    );
    console.log(`  opt-outs re-keyed: ${s.optouts.rekeyed}; lost (no number kept, those numbers may get follow-ups again): ${s.optouts.unlinked}`);
    if (s.votersDropped) console.log(`  voters' assignments deleted: ${s.votersDropped}: import the voters file again now (npm run stations -- import FILE.csv)`);
  }
  console.log(`  fingerprints: ${KEY_NAMES.map((n) => `${n} ${s.fingerprints[n]}`).join(', ')}`);
  if (s.dryRun) return;
  console.log(
    'next: give every process the new keys (environment, .env or secret store; in development data/secrets.json), remove OLD_*, then start the hotline. ' +
      'Calls in progress when it stopped, and their offers to resume, lapse (sessions live minutes).',
  );
}

runMain(async () => {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        'dry-run': { type: 'boolean', default: false },
        'drop-voters': { type: 'boolean', default: false },
        'forget-unreadable': { type: 'boolean', default: false },
        'lose-optouts': { type: 'boolean', default: false },
        'ignore-connections': { type: 'boolean', default: false },
        lost: { type: 'string', multiple: true, default: [] },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; ${USAGE}`);
  }
  const [command, ...rest] = parsed.positionals;
  if ((command !== 'check' && command !== 'rotate') || rest.length) throw new UsageError(USAGE);
  const config = loadConfig();
  const secrets = loadSecrets(config);
  const lost = parsed.values.lost as KeyName[];
  const old = command === 'rotate' ? loadOldKeys() : {};
  if (command === 'rotate') {
    for (const name of lost) if (!KEY_NAMES.includes(name)) throw new UsageError(`--lost takes PHONE_HASH_KEY or DATA_ENCRYPTION_KEY; ${USAGE}`);
    if (lost.includes('PHONE_HASH_KEY') && old.phoneHashKey) throw new UsageError('OLD_PHONE_HASH_KEY is set and --lost PHONE_HASH_KEY says it is lost: one or the other');
    if (lost.includes('DATA_ENCRYPTION_KEY') && old.dataEncryptionKey) throw new UsageError('OLD_DATA_ENCRYPTION_KEY is set and --lost DATA_ENCRYPTION_KEY says it is lost: one or the other');
    if (!old.phoneHashKey && !old.dataEncryptionKey && !lost.length) {
      throw new UsageError('set OLD_PHONE_HASH_KEY and/or OLD_DATA_ENCRYPTION_KEY to the keys the data is under now, and PHONE_HASH_KEY / DATA_ENCRYPTION_KEY to the new ones');
    }
  }
  const db = await openConfiguredDatabase(config);
  try {
    await migrateToLatest(db);
    if (command === 'check') {
      if (!(await check(db, secrets))) process.exitCode = 1;
      return;
    }
    const from: Secrets = { phoneHashKey: old.phoneHashKey ?? secrets.phoneHashKey, dataEncryptionKey: old.dataEncryptionKey ?? secrets.dataEncryptionKey };
    const summary = await withSpool(config, db, from, (spool) =>
      rotateKeys(db, {
        from,
        to: secrets,
        lost,
        dropVoters: parsed.values['drop-voters'],
        forgetUnreadable: parsed.values['forget-unreadable'],
        loseOptouts: parsed.values['lose-optouts'],
        dryRun: parsed.values['dry-run'],
        otherConnections: parsed.values['ignore-connections'] ? 'ignore' : 'refuse',
        ...(spool ? { spool } : {}),
      }),
    );
    report(summary);
  } finally {
    await db.destroy();
  }
});
