/**
 * `npm run flows -- publish --dir DIR [--note TEXT]`: checks DIR/flows and
 * DIR/locales and publishes them as the live version (every process follows
 * within seconds); on any error it prints each problem as `file:line:col`,
 * changes nothing and exits 1.
 * `npm run flows -- versions`: newest first, one a line (id, time, author, note; `*` live).
 * `npm run flows -- rollback ID`: makes an earlier version live again.
 * `npm run flows -- export ID DIR [--force]`: writes a version's files to DIR/flows and DIR/locales, for git.
 * (`npm run flows:check` checks the files without a database.)
 */
import { userInfo } from 'node:os';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { connectRedis } from '../store/redis-connection.js';
import { loadConfig } from '../config/config.js';
import { dirsOf, isRecordingPath, readContentDirs, recordedWordsOf, RECORDED_WORDS_FILE, writeContentDir, ContentError, type RecordingSources } from '../content/content-files.js';
import { createMediaReader, storeRecordings } from '../content/media-store.js';
import { mediaOf } from '../content/media-id.js';
import { createLiveContent } from '../content/live-content.js';
import { getVersion, listVersions } from '../content/version-store.js';
import { createFlowRegistry } from '../flows/flow-registry.js';
import { flowOptions, loadContent } from '../flows/flow-set.js';
import { formatProblem } from '../flows/problems.js';
import { createLogger } from '../logger.js';
import { migrateToLatest, openConfiguredDatabase } from '../store/database.js';
import { runMain, UsageError } from './run-main.js';

const USAGE = 'usage: npm run flows -- publish --dir DIR [--note TEXT] | versions | rollback ID | export ID DIR [--force]';

/** `2026-12-01 21:40` in UTC: the command line's time, the same on every server. */
const utc = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

runMain(async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { dir: { type: 'string' }, note: { type: 'string' }, author: { type: 'string' }, force: { type: 'boolean' } },
  });
  const [command, ...rest] = positionals;
  if (!command || !['publish', 'versions', 'rollback', 'export'].includes(command)) throw new UsageError(USAGE);
  const config = loadConfig();
  const options = flowOptions(config);
  const db = await openConfiguredDatabase(config);
  // Announcements are a shortcut: without Redis, every process still sees the change at its next check.
  const redis = config.redis ? connectRedis(config.redis, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true }) : undefined;
  redis?.on('error', () => {});
  try {
    await migrateToLatest(db);
    const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
    const live = () =>
      createLiveContent({
        db,
        redis: redis ?? ({ publish: () => Promise.resolve(0) } as unknown as Redis),
        prefix: config.redisPrefix,
        registry: createFlowRegistry(loadContent(options).flows),
        options,
        logger,
      });
    const author = values.author ?? process.env.KALATA_AUTHOR ?? userInfo().username;
    if (command === 'publish') {
      if (!values.dir || rest.length) throw new UsageError(USAGE);
      const root = resolve(values.dir);
      let files;
      const sources: RecordingSources = new Map();
      try {
        files = readContentDirs(dirsOf(root), sources);
      } catch (err) {
        if (err instanceof ContentError) throw new UsageError(err.message);
        throw err;
      }
      // The recordings' audio first (converted once, kept by id): the version only refers to it.
      const stored = await storeRecordings(db, sources);
      if (stored.problems.length) {
        for (const p of stored.problems) console.error(p);
        console.error(`kalata: not published: ${stored.problems.length} recording(s) refused; the live version is unchanged`);
        process.exitCode = 1;
        return;
      }
      await redis?.connect().catch(() => undefined);
      const result = await live().publish(files, { author: `${author} (ligne de commande)`, note: values.note ?? null });
      if (result.kind === 'refused') {
        for (const p of result.problems) console.error(formatProblem(p));
        const errors = result.problems.filter((p) => p.severity === 'error').length;
        console.error(`kalata: not published: ${errors} error(s); the live version is unchanged`);
        process.exitCode = 1;
        return;
      }
      if (result.kind === 'unchanged') console.log(`unchanged: version ${result.id} is live with this content`);
      else if (result.kind === 'published') console.log(`published version ${result.id}; every process follows within seconds`);
      return;
    }
    if (command === 'versions') {
      if (rest.length) throw new UsageError(USAGE);
      const versions = await listVersions(db, 100);
      if (!versions.length) console.log('no version yet: the first start imports flows/ and locales/ as version 1');
      for (const v of versions) console.log(`${v.live ? '*' : ' '} ${v.id.padStart(4)}  ${utc(v.createdAt)}  ${v.author}${v.note ? `  ${v.note}` : ''}`);
      return;
    }
    if (command === 'rollback') {
      const [id] = rest;
      if (!id || rest.length > 1) throw new UsageError(USAGE);
      await redis?.connect().catch(() => undefined);
      const result = await live().rollback(id, `${author} (ligne de commande)`);
      if (!result.ok) {
        if (result.reason === 'unknown') throw new UsageError(`no version ${id} (see: npm run flows -- versions)`);
        for (const p of result.problems ?? []) console.error(formatProblem(p));
        console.error(`kalata: version ${id} has errors under this deployment's settings: not made live`);
        process.exitCode = 1;
        return;
      }
      console.log(`version ${id} is live again; every process follows within seconds`);
      return;
    }
    const [id, dir] = rest;
    if (!id || !dir || rest.length > 2) throw new UsageError(USAGE);
    const version = await getVersion(db, id);
    if (!version) throw new UsageError(`no version ${id} (see: npm run flows -- versions)`);
    try {
      writeContentDir(version.files, resolve(dir), { replace: values.force ?? false });
    } catch (err) {
      if (err instanceof ContentError) throw new UsageError(err.message);
      throw err;
    }
    // A recording is written as the audio the voice line plays (MP3), in place of its reference.
    const media = createMediaReader(db);
    for (const [path, ref] of Object.entries(version.files)) {
      if (!isRecordingPath(path)) continue;
      const audio = await media.get(mediaOf(ref) ?? '');
      const target = join(resolve(dir), path);
      rmSync(target, { force: true });
      if (audio) writeFileSync(target.replace(/\.wav$/, '.mp3'), audio);
      else console.error(`${path}: its audio is not stored in this database; left out`);
    }
    // The words each recording was made for, so that a text changed later is flagged when the folder is published again.
    const recorded = recordedWordsOf(version.files);
    if (Object.keys(recorded).length) writeFileSync(join(resolve(dir), 'recordings', RECORDED_WORDS_FILE), `${JSON.stringify(recorded, null, 2)}\n`);
    console.log(`version ${id} written to ${resolve(dir)}/flows and ${resolve(dir)}/locales (${Object.keys(version.files).length} files)`);
  } finally {
    redis?.disconnect();
    await db.destroy();
  }
});
