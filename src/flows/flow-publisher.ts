/**
 * Publishing edited flows without a restart: on a file change (or the
 * console's reload button) everything is validated again, and the live flows
 * are swapped only if there is no error. A bad edit keeps the old flows live
 * and its problems are shown. Calls in progress finish on the version they
 * started with (the registry keeps it). Each published version is recorded
 * with who published it.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import type { FlowRegistry } from './flow-registry.js';
import { readContentDirs } from '../content/content-files.js';
import type { LiveContent } from '../content/live-content.js';
import { checkFlows, type FlowCheck, type FlowSetOptions } from './flow-set.js';
import { hasErrors } from './problems.js';

export interface PublishResult {
  published: boolean;
  hash?: string;
  check: FlowCheck;
}

export interface FlowPublisher {
  /** Validates the files on disk and publishes them if valid. */
  reload(by: string): Promise<PublishResult>;
  /** The last check, for the console. */
  last(): FlowCheck | undefined;
  /**
   * Watches the flows and locales folders; returns a stop function. With
   * `publish: false` (production) a change is only checked, and an admin
   * publishes it from the console.
   */
  watch(options?: { publish: boolean }): () => void;
}

export function createFlowPublisher(deps: {
  options: FlowSetOptions;
  registry: FlowRegistry;
  db: Db;
  logger: Logger;
  onPublish?: (hash: string, by: string) => Promise<void>;
  /** when the process follows content versions: a publish is a new version, live on every process */
  live?: LiveContent;
}): FlowPublisher {
  const log = deps.logger.child({ subsystem: 'flows' });
  let lastCheck: FlowCheck | undefined;
  let running: Promise<PublishResult> | undefined;

  async function doReload(by: string): Promise<PublishResult> {
    if (deps.live) return reloadAsVersion(deps.live, by);
    const check = checkFlows(deps.options);
    lastCheck = check;
    if (!check.flows || hasErrors(check.problems)) {
      log.warn({ errors: check.problems.filter((p) => p.severity === 'error').length }, 'edited flows rejected: the live flows stay');
      return { published: false, check };
    }
    const hash = check.flows.hash;
    if (hash === deps.registry.live().hash) return { published: false, hash, check };
    // Recorded first: a version is never live without its record.
    await deps.db.insertInto('flow_versions').values({ hash, published_by: by }).onConflict((oc) => oc.column('hash').doNothing()).execute();
    await deps.onPublish?.(hash, by);
    deps.registry.publish(check.flows);
    log.info({ hash, by }, 'flows published');
    return { published: true, hash, check };
  }

  /** The files on disk become a new content version, which every process follows. */
  async function reloadAsVersion(live: LiveContent, by: string): Promise<PublishResult> {
    const result = await live.publish(readContentDirs(deps.options), { author: by });
    const { check } = result;
    lastCheck = check;
    if (result.kind === 'refused') {
      log.warn({ errors: result.problems.filter((p) => p.severity === 'error').length }, 'edited flows rejected: the live flows stay');
      return { published: false, check };
    }
    const hash = check.flows!.hash;
    if (result.kind !== 'published') return { published: false, hash, check };
    await deps.db.insertInto('flow_versions').values({ hash, published_by: by }).onConflict((oc) => oc.column('hash').doNothing()).execute();
    await deps.onPublish?.(hash, by);
    log.info({ hash, by, version: result.id }, 'flows published');
    return { published: true, hash, check };
  }

  return {
    async reload(by) {
      // One check at a time; a reload asked for during one waits for it, then runs.
      const previous = running ?? Promise.resolve(undefined);
      const next = previous.catch(() => undefined).then(() => doReload(by));
      running = next;
      return next;
    },
    last: () => lastCheck,
    watch(options = { publish: true }) {
      let timer: NodeJS.Timeout | undefined;
      const watchers: FSWatcher[] = [];
      const changed = () => {
        clearTimeout(timer);
        // Editors write in several steps: wait for the folder to settle.
        timer = setTimeout(() => {
          if (!options.publish) {
            lastCheck = checkFlows(deps.options);
            log.info({ errors: lastCheck.problems.filter((p) => p.severity === 'error').length }, 'flows changed on disk: checked, waiting for an admin to publish');
            return;
          }
          void this.reload('file change').catch((err: unknown) => log.error({ err }, 'reload failed'));
        }, 300);
      };
      for (const dir of [deps.options.flowsDir, deps.options.localesDir]) {
        try {
          watchers.push(watch(dir, { recursive: true }, changed));
        } catch (err) {
          log.warn({ dir, err: (err as Error).message }, 'cannot watch; use the reload button');
        }
      }
      return () => {
        clearTimeout(timer);
        for (const w of watchers) w.close();
      };
    },
  };
}
