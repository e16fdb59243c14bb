/**
 * The dashboard's server-sent events, for one web process: ONE snapshot is
 * built every `everyMs` while at least one viewer is connected, and the same
 * frame goes to every viewer, so the database's load does not grow with the
 * number of open dashboards. No viewer, no timer. What a viewer reads is in
 * its account's language: each snapshot is turned into a view once per
 * language someone watches in (never in the language of whichever request
 * happened to start the timer), and that view's frame goes to every viewer
 * reading that language.
 *
 * Each tick first checks, in one query, that every viewer's session is still
 * open (closed, expired or disabled: the stream says `end` and stops), then
 * builds and sends. A page that renders the dashboard takes the latest
 * snapshot when it is fresh, and otherwise shares the build in progress.
 * Streams are capped per process and per account; a client too slow to read
 * its frames is dropped (its browser reconnects).
 */
import type { Response } from 'express';
import type { Logger } from '../../logger.js';
import type { ConsoleLanguage } from '../../store/user-store.js';
import { inLanguage, t } from './console-i18n.js';

export interface DashboardHubOptions<S, V> {
  /** builds the snapshot (should never throw; a throw only skips this tick) */
  build(): Promise<S>;
  /** the snapshot as a reader sees it, run in that reader's language (once per snapshot and language) */
  view(snapshot: S): V;
  /** which of these session tokens are still open; throws when it cannot tell (the streams stay) */
  sessionsOpen(tokens: string[]): Promise<Set<string>>;
  logger: Logger;
  /** time between snapshots (default 5 s) */
  everyMs?: number;
  /** a comment at least this often when no snapshot went out (default 15 s) */
  heartbeatMs?: number;
  /** what EventSource waits before reconnecting (default 5 s) */
  retryMs?: number;
  /** streams open at once in this process (default 200) */
  maxStreams?: number;
  /** streams open at once for one account (default 10) */
  maxPerAccount?: number;
  /** a viewer whose unread output passes this many bytes is dropped (default 1 MiB) */
  maxBufferedBytes?: number;
}

interface Viewer {
  res: Response;
  token: string;
  account: string;
  language: ConsoleLanguage;
  lastWriteAt: number;
}

/** One snapshot, and what it became in each language asked for so far. */
interface Taken<S, V> {
  seq: number;
  snapshot: S;
  at: number;
  views: Map<ConsoleLanguage, { view: V; frame: string }>;
}

export type Admission = { admitted: true } | { admitted: false; status: 429 | 503; reason: string };

export interface DashboardHub<V> {
  /** The latest snapshot's view in `language` when it is fresh (younger than half a tick), otherwise a new one's (shared with a build in progress). */
  current(language: ConsoleLanguage): Promise<{ seq: number; view: V }>;
  /** Checks the caps; on admission, takes over the response as an event stream (in the viewer's language) until the client leaves or the session ends. */
  attach(res: Response, viewer: { token: string; account: string; language: ConsoleLanguage }): Admission;
  stats(): { viewers: number; builds: number; ticking: boolean };
  /** Ends every stream and stops the timer. */
  close(): void;
}

/** An SSE frame: `id`, `event` and one `data` line (JSON has no raw newline). */
export const frame = (seq: number, event: string, data: string) => `id: ${seq}\nevent: ${event}\ndata: ${data}\n\n`;

export function createDashboardHub<S, V>(o: DashboardHubOptions<S, V>): DashboardHub<V> {
  const everyMs = o.everyMs ?? 5000;
  const heartbeatMs = o.heartbeatMs ?? 15_000;
  const retryMs = o.retryMs ?? 5000;
  const maxStreams = o.maxStreams ?? 200;
  const maxPerAccount = o.maxPerAccount ?? 10;
  const maxBuffered = o.maxBufferedBytes ?? 1024 * 1024;
  const log = o.logger.child({ subsystem: 'dashboard' });
  const viewers = new Set<Viewer>();
  let timer: NodeJS.Timeout | undefined;
  let seq = 0;
  let latest: Taken<S, V> | undefined;
  let building: Promise<Taken<S, V>> | undefined;
  let ticking = false;

  const build = (): Promise<Taken<S, V>> => {
    building ??= o
      .build()
      .then((snapshot) => {
        seq += 1;
        latest = { seq, snapshot, at: Date.now(), views: new Map() };
        return latest;
      })
      .finally(() => {
        building = undefined;
      });
    return building;
  };

  const viewIn = (taken: Taken<S, V>, language: ConsoleLanguage) => {
    let made = taken.views.get(language);
    if (!made) {
      const view = inLanguage(language, () => o.view(taken.snapshot));
      made = { view, frame: frame(taken.seq, 'snapshot', JSON.stringify(view)) };
      taken.views.set(language, made);
    }
    return made;
  };

  const write = (v: Viewer, text: string) => {
    if (v.res.writableLength > maxBuffered) return drop(v);
    v.res.write(text);
    v.lastWriteAt = Date.now();
  };

  const drop = (v: Viewer, last?: string) => {
    if (!viewers.delete(v)) return;
    if (last && !v.res.writableEnded) v.res.write(last);
    v.res.end();
    if (!viewers.size) stop();
  };

  const stop = () => {
    clearInterval(timer);
    timer = undefined;
  };

  const tick = async () => {
    if (ticking) {
      // The last tick is still building (a slow database): keep the streams alive.
      for (const v of viewers) if (Date.now() - v.lastWriteAt >= heartbeatMs) write(v, ': en attente\n\n');
      return;
    }
    ticking = true;
    try {
      const checked = new Set([...viewers].map((v) => v.token));
      const open = await o.sessionsOpen([...checked]).catch(() => undefined);
      // A viewer that arrived during the check was not asked about: its session is open (it was just admitted).
      if (open) for (const v of [...viewers]) if (checked.has(v.token) && !open.has(v.token)) drop(v, frame(seq, 'end', JSON.stringify({ reason: 'session' })));
      if (!viewers.size) return;
      const fresh = latest && Date.now() - latest.at < everyMs / 2 ? latest : undefined;
      const taken = fresh ?? (await build());
      for (const v of [...viewers]) write(v, viewIn(taken, v.language).frame);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'dashboard snapshot failed');
      for (const v of viewers) if (Date.now() - v.lastWriteAt >= heartbeatMs) write(v, ': en attente\n\n');
    } finally {
      ticking = false;
    }
  };

  return {
    async current(language) {
      const taken = latest && Date.now() - latest.at < everyMs / 2 ? latest : await build();
      return { seq: taken.seq, view: viewIn(taken, language).view };
    },
    attach(res, who) {
      if (viewers.size >= maxStreams) return { admitted: false, status: 503, reason: t('Trop de tableaux de bord ouverts sur ce serveur : réessayez dans un moment.') };
      const mine = [...viewers].filter((v) => v.account === who.account).length;
      if (mine >= maxPerAccount) return { admitted: false, status: 429, reason: t('Ce compte a déjà {{max}} tableaux de bord ouverts : fermez-en un.', { max: maxPerAccount }) };
      const v: Viewer = { res, token: who.token, account: who.account, language: who.language, lastWriteAt: Date.now() };
      viewers.add(v);
      res.status(200).set({
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
        // nginx and its like: pass each frame on at once.
        'X-Accel-Buffering': 'no',
      });
      res.flushHeaders();
      res.socket?.setNoDelay(true);
      res.on('close', () => drop(v));
      write(v, `retry: ${retryMs}\n: connecté\n\n`);
      // A running timer sends the next frame within a tick: the latest goes out at once. Otherwise the first tick is now.
      if (latest && timer) write(v, viewIn(latest, v.language).frame);
      if (!timer) {
        timer = setInterval(() => void tick(), everyMs);
        void tick();
      }
      return { admitted: true };
    },
    stats: () => ({ viewers: viewers.size, builds: seq, ticking: timer !== undefined }),
    close() {
      for (const v of [...viewers]) drop(v);
      stop();
    },
  };
}
