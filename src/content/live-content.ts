/**
 * Every process follows the live content version: a publish announces the
 * new live id on Redis pub/sub (seconds), and each process also reads the live
 * id from PostgreSQL every few seconds (the fallback when a message is lost or
 * Redis is away). A version is checked and compiled before it replaces the
 * flows in this process's registry; calls in progress stay on the version
 * they started on, and a process that lacks that version loads it by hash.
 */
import type { Redis } from 'ioredis';
import type { CompiledFlows } from '../engine/types.js';
import type { FlowRegistry } from '../flows/flow-registry.js';
import type { FlowCheck, FlowSetOptions } from '../flows/flow-set.js';
import { hasErrors, type Problem } from '../flows/problems.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import { checkContent } from './content-check.js';
import { missingRecordings } from './media-store.js';
import { checkContentFiles, contentHash, type ContentFiles } from './content-files.js';
import { getVersion, liveVersion, makeLive, publishVersion, versionByFlowsHash, type PublishOutcome, type Version } from './version-store.js';

export type LivePublishResult =
  | (PublishOutcome & { check: FlowCheck })
  /** the content has errors: nothing was stored, nothing changed */
  | { kind: 'refused'; problems: Problem[]; check: FlowCheck };

/** What a process found on disk at boot: the files, and their compiled flows (checked already). */
export interface DiskContent {
  files: ContentFiles;
  check: FlowCheck;
}

export interface LiveContentDeps {
  db: Db;
  /** for announcing a new live version; may be away (the poll catches up) */
  redis: Redis;
  /** a connection of its own for SUBSCRIBE (a subscribed connection can do nothing else) */
  subscriber?: () => Redis;
  prefix: string;
  registry: FlowRegistry;
  options: FlowSetOptions;
  logger: Logger;
  /** how often the live id is read from PostgreSQL (default 5 s) */
  pollMs?: number;
  /** told each time this process changes version (for what the flows do not carry) */
  onLive?: (version: Version, check: FlowCheck) => void;
}

export interface LiveContent {
  /** checks and publishes `files`; `basedOn` refuses a publish made from an older version than the live one */
  publish(files: ContentFiles, by: { author: string; note?: string | null; basedOn?: string | null }): Promise<LivePublishResult>;
  /** makes an earlier version live again (it is checked again first: options may have changed) */
  rollback(id: string, by: string): Promise<{ ok: true } | { ok: false; reason: 'unknown' | 'invalid'; problems?: Problem[] }>;
  /**
   * At boot: an empty database gets the files on disk as its first version.
   * Otherwise the live version runs, unless `diskWins` (development: the
   * files are the developer's source) and the files differ: they are then
   * published as a new version.
   */
  start(disk: DiskContent, opts: { diskWins: boolean; author: string }): Promise<void>;
  /** reads the live id now and follows it if it changed */
  sync(): Promise<void>;
  /** the live version this process runs, once known */
  current(): string | undefined;
  /** subscribes and polls; returns the stop function */
  follow(): () => Promise<void>;
  /** the flows of the stored version with this hash (for a call pinned to a version this process lacks) */
  load(flowsHash: string): Promise<CompiledFlows | undefined>;
}

export const channelOf = (prefix: string) => `${prefix}content:live`;

export function createLiveContent(deps: LiveContentDeps): LiveContent {
  const log = deps.logger.child({ subsystem: 'content' });
  let currentId: string | undefined;
  let syncing: Promise<void> | undefined;
  /** Compiled versions by content hash: a version is checked once per process. */
  const compiled = new Map<string, FlowCheck>();

  const compile = (files: ContentFiles): FlowCheck => {
    const hash = contentHash(files);
    let check = compiled.get(hash);
    if (!check) {
      check = checkContent(files, deps.options);
      compiled.set(hash, check);
      while (compiled.size > 16) compiled.delete(compiled.keys().next().value!);
    }
    return check;
  };

  const adopt = (version: Version) => {
    const check = compile(version.files);
    if (!check.flows || hasErrors(check.problems)) {
      // Published under other options (a stricter production check, other limits): this process keeps what it runs.
      log.error({ version: version.id, errors: check.problems.filter((p) => p.severity === 'error').length }, 'live content version has errors here: keeping the current flows');
      currentId = version.id;
      return;
    }
    if (deps.registry.live().hash !== check.flows.hash) deps.registry.publish(check.flows);
    currentId = version.id;
    deps.onLive?.(version, check);
    log.info({ version: version.id, hash: check.flows.hash }, 'content version live');
  };

  const doSync = async () => {
    const live = await liveVersion(deps.db);
    if (live && live.id !== currentId) adopt(live);
  };
  const sync = () => {
    syncing ??= doSync().finally(() => {
      syncing = undefined;
    });
    return syncing;
  };
  const announce = async (id: string) => {
    await deps.redis.publish(channelOf(deps.prefix), id).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not announce the new version: processes will see it at their next check'));
  };

  return {
    async publish(files, by) {
      const checked = checkContentFiles(files);
      const check = compile(checked);
      if (!check.flows || hasErrors(check.problems)) return { kind: 'refused', problems: check.problems, check };
      // A version never refers to a recording whose audio is not stored: callers would hear nothing.
      const missing = await missingRecordings(deps.db, checked);
      if (missing.length) {
        const problems = missing.map((file): Problem => ({ file, line: 1, col: 1, severity: 'error', message: 'recording not stored: publish its folder (npm run flows -- publish --dir) or upload it again' }));
        return { kind: 'refused', problems, check };
      }
      const outcome = await publishVersion(deps.db, { files: checked, hash: contentHash(checked), flowsHash: check.flows.hash, author: by.author, note: by.note ?? null, ...(by.basedOn !== undefined ? { basedOn: by.basedOn } : {}) });
      if (outcome.kind === 'published') {
        await sync();
        await announce(outcome.id);
      }
      return { ...outcome, check };
    },
    async start(disk, opts) {
      if (!disk.check.flows) throw new Error('the files on disk have errors');
      compiled.set(contentHash(disk.files), disk.check);
      const live = await liveVersion(deps.db);
      const diskHash = contentHash(disk.files);
      if (live?.hash === diskHash) {
        currentId = live.id;
        return;
      }
      if (!live || opts.diskWins) {
        // basedOn null: only over an empty database; another process seeding first is no error.
        const outcome = await publishVersion(deps.db, { files: disk.files, hash: diskHash, flowsHash: disk.check.flows.hash, author: opts.author, note: live ? 'fichiers modifiés pendant l’arrêt' : 'import des fichiers flows/ et locales/', ...(live ? {} : { basedOn: null }) });
        if (outcome.kind === 'published') {
          log.info({ version: outcome.id }, live ? 'files on disk published as a new version' : 'files on disk imported as the first version');
          await announce(outcome.id);
        }
        await sync();
        return;
      }
      log.info({ version: live.id }, 'the live version in the database differs from the files on disk: it runs (publish files with npm run flows -- publish --dir DIR)');
      adopt(live);
    },
    async rollback(id, by) {
      const version = await getVersion(deps.db, id);
      if (!version) return { ok: false, reason: 'unknown' };
      const check = compile(version.files);
      if (!check.flows || hasErrors(check.problems)) return { ok: false, reason: 'invalid', problems: check.problems };
      await makeLive(deps.db, id, by);
      await sync();
      await announce(id);
      return { ok: true };
    },
    sync,
    current: () => currentId,
    follow() {
      const timer = setInterval(() => void sync().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not read the live content version')), deps.pollMs ?? 5000);
      timer.unref();
      const sub = deps.subscriber?.();
      if (sub) {
        sub.on('error', () => {});
        sub.on('message', () => void sync().catch(() => undefined));
        void sub.subscribe(channelOf(deps.prefix)).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'no content announcements: following by polling only'));
      }
      return async () => {
        clearInterval(timer);
        if (sub) await sub.quit().catch(() => sub.disconnect());
        await syncing?.catch(() => undefined);
      };
    },
    async load(flowsHash) {
      const version = await versionByFlowsHash(deps.db, flowsHash);
      if (!version) return undefined;
      return compile(version.files).flows;
    },
  };
}
