/**
 * What the live dashboard reads: one snapshot of the hotline (activity per
 * 15 minutes, reports by region and type, the triage queue, the counts per
 * window the region alerts need, SMS, and the health of PostgreSQL, Redis and
 * the SMS gateway). Reports filed from the simulator are left out everywhere.
 *
 * The snapshot never throws: a part that cannot be read is `null` (the page
 * says so), and PostgreSQL or Redis down is reported as down. The database
 * queries run one after the other on one connection, so that a snapshot never
 * takes several of the pool's connections from the callers'.
 */
import { sql } from 'kysely';
import type { Db } from './database.js';
import { withTimeout as within } from '../with-timeout.js';

/** A chart bucket: 15 minutes. */
export const BUCKET_MS = 15 * 60 * 1000;
/** How far back the chart and the region and type tables go. */
export const HORIZON_MS = 12 * 3600 * 1000;
/** The gateway's state is read from this many of its latest sends. */
export const RECENT_SENDS = 20;

/** A region's reports in the current window and in each window before it, most recent first (what region-alerts.ts reads). */
export interface RegionWindows {
  region: string | null;
  current: number;
  previous: number[];
}

export interface Activity {
  /** the start of each 15-minute bucket, oldest first, from the first call or report of the horizon (at least the last hour) */
  buckets: { start: Date; calls: number; reports: number }[];
}

export interface CountsByCode {
  /** the stored code (`kayes`, `vote_buying`), null when the report has none */
  code: string | null;
  last15: number;
  lastHour: number;
  /** in the horizon (12 hours) */
  total: number;
}

export interface Counters {
  callsLastHour: number;
  reportsLastHour: number;
  /** reports still `new`: the triage queue's length */
  reportsNew: number;
  smsFailed: number;
  smsFailedLastHour: number;
  /** outbox rows not sent yet, by status */
  smsWaiting: { pending: number; queued: number; retrying: number };
}

export interface TriageItem {
  id: string;
  ref: string;
  created_at: Date;
  incident: string | null;
  region: string | null;
}

export interface GatewayHealth {
  /** the transport's name (`dry-run`, `africastalking`, `smpp`) */
  transport: string;
  /** gateway attempts among the latest RECENT_SENDS */
  recent: number;
  /** failures (failed for good, or to be retried) among them */
  failures: number;
  /** the latest attempts that failed one after the other, most recent first */
  failuresInARow: number;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
}

export type GatewayState = 'ok' | 'warn' | 'down' | 'idle' | 'dry_run';

/**
 * The gateway's state from its latest sends: `down` when the last 3 attempts
 * all failed or when at least half of the recent ones did (3 at least);
 * `warn` with any failure among them; `idle` without any send yet; `dry_run`
 * when the transport sends nothing (development, rehearsals).
 */
export function gatewayState(g: GatewayHealth): GatewayState {
  if (g.transport === 'dry-run') return 'dry_run';
  if (g.recent === 0) return 'idle';
  if (g.failuresInARow >= 3 || (g.failures >= 3 && g.failures * 2 >= g.recent)) return 'down';
  return g.failures > 0 ? 'warn' : 'ok';
}

export interface CheckResult {
  up: boolean;
  /** how long the check took, in ms */
  ms: number;
}

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface CallbackCounts {
  waiting: number;
  late: number;
  oldestWaitingAt: Date | null;
}

export interface DashboardSnapshot {
  at: Date;
  health: { database: CheckResult; redis: CheckResult };
  /** null: could not be read (the database did not answer) */
  counters: Counters | null;
  activity: Activity | null;
  regions: CountsByCode[] | null;
  incidents: CountsByCode[] | null;
  /** each region's reports in the current window and the ones before (region-alerts.ts decides) */
  alertWindows: RegionWindows[] | null;
  triage: TriageItem[] | null;
  gateway: GatewayHealth | null;
  /** null: Redis did not answer */
  queue: QueueDepth | null;
  /** absent: no source plugged in; null: the source failed */
  callbacks?: CallbackCounts | null;
}

export interface DashboardSources {
  db: Db;
  /** answers PING */
  redis: { ping(): Promise<unknown> };
  /** the SMS queue (BullMQ), for its job counts */
  smsQueue?: { getJobCounts(...types: string[]): Promise<Record<string, number>> };
  /** the SMS transport's name */
  transport: string;
  /** the alert windows: their length and how many come before the current one */
  alertWindowMs?: number;
  alertHistory?: number;
  /** waiting and late call-back requests, when the hotline takes them */
  callbacks?: () => Promise<CallbackCounts>;
  now?: () => number;
  /** the longest a database part may take (default 3 s) */
  timeoutMs?: number;
}

async function timed(check: () => Promise<unknown>, ms: number): Promise<CheckResult> {
  const started = performance.now();
  try {
    await within(check(), ms);
    return { up: true, ms: Math.round(performance.now() - started) };
  } catch {
    return { up: false, ms: Math.round(performance.now() - started) };
  }
}

const n = (v: unknown) => Number(v ?? 0);

export async function counters(db: Db, now: Date): Promise<Counters> {
  const hourAgo = new Date(now.getTime() - 3600 * 1000);
  const { rows } = await sql<Record<string, string>>`
    select
      (select count(*) from calls where started_at >= ${hourAgo}) as calls_hour,
      (select count(*) from reports where created_at >= ${hourAgo} and not simulated) as reports_hour,
      (select count(*) from reports where status = 'new' and not simulated) as reports_new,
      (select count(*) from sms_outbox where status = 'failed') as sms_failed,
      (select count(*) from sms_outbox where status = 'failed' and updated_at >= ${hourAgo}) as sms_failed_hour,
      (select count(*) from sms_outbox where status = 'pending') as sms_pending,
      (select count(*) from sms_outbox where status = 'queued') as sms_queued,
      (select count(*) from sms_outbox where status = 'retrying') as sms_retrying`.execute(db);
  const r = rows[0]!;
  return {
    callsLastHour: n(r.calls_hour),
    reportsLastHour: n(r.reports_hour),
    reportsNew: n(r.reports_new),
    smsFailed: n(r.sms_failed),
    smsFailedLastHour: n(r.sms_failed_hour),
    smsWaiting: { pending: n(r.sms_pending), queued: n(r.sms_queued), retrying: n(r.sms_retrying) },
  };
}

/** Calls and reports per 15 minutes over the horizon, from the first bucket with either (the last hour at least). */
export async function activity(db: Db, now: Date): Promise<Activity> {
  const first = Math.floor((now.getTime() - HORIZON_MS) / BUCKET_MS) + 1;
  const last = Math.floor(now.getTime() / BUCKET_MS);
  const since = new Date(first * BUCKET_MS);
  const bucket = (column: string) => sql<string>`floor(extract(epoch from ${sql.ref(column)}) / 900)::bigint`;
  const calls = await db.selectFrom('calls').select([bucket('started_at').as('b'), (eb) => eb.fn.countAll<string>().as('n')]).where('started_at', '>=', since).groupBy(sql`1`).execute();
  const reports = await db
    .selectFrom('reports')
    .select([bucket('created_at').as('b'), (eb) => eb.fn.countAll<string>().as('n')])
    .where('created_at', '>=', since)
    .where('simulated', '=', false)
    .groupBy(sql`1`)
    .execute();
  const callsIn = new Map(calls.map((r) => [n(r.b), n(r.n)]));
  const reportsIn = new Map(reports.map((r) => [n(r.b), n(r.n)]));
  const busy = [...callsIn.keys(), ...reportsIn.keys()].filter((b) => b >= first && b <= last);
  const start = Math.min(busy.length ? Math.min(...busy) : last, last - 3);
  const buckets: Activity['buckets'] = [];
  for (let b = start; b <= last; b++) buckets.push({ start: new Date(b * BUCKET_MS), calls: callsIn.get(b) ?? 0, reports: reportsIn.get(b) ?? 0 });
  return { buckets };
}

/** Reports by region or by type: in the last 15 minutes, the last hour and the horizon; the busiest first. */
export async function reportsBy(db: Db, column: 'region' | 'incident', now: Date): Promise<CountsByCode[]> {
  const t = now.getTime();
  const rows = await db
    .selectFrom('reports')
    .select([
      sql<string | null>`${sql.ref(column)}`.as('code'),
      sql<string>`count(*) filter (where created_at >= ${new Date(t - BUCKET_MS)})`.as('last15'),
      sql<string>`count(*) filter (where created_at >= ${new Date(t - 3600 * 1000)})`.as('last_hour'),
      (eb) => eb.fn.countAll<string>().as('total'),
    ])
    .where('created_at', '>=', new Date(t - HORIZON_MS))
    .where('simulated', '=', false)
    .groupBy(sql`1`)
    .execute();
  return rows
    .map((r) => ({ code: r.code, last15: n(r.last15), lastHour: n(r.last_hour), total: n(r.total) }))
    .sort((a, b) => b.last15 - a.last15 || b.lastHour - a.lastHour || b.total - a.total || String(a.code).localeCompare(String(b.code)));
}

/** Each region's reports in the current window (the last `windowMs`) and in each of the `history` windows before it. */
export async function alertWindows(db: Db, now: Date, windowMs: number, history: number): Promise<RegionWindows[]> {
  const seconds = windowMs / 1000;
  const rows = await db
    .selectFrom('reports')
    .select(['region', sql<string>`floor(extract(epoch from (${now}::timestamptz - created_at)) / ${seconds})::int`.as('k'), (eb) => eb.fn.countAll<string>().as('n')])
    .where('created_at', '>', new Date(now.getTime() - (history + 1) * windowMs))
    .where('created_at', '<=', now)
    .where('simulated', '=', false)
    .groupBy(['region', sql`2`])
    .execute();
  const byRegion = new Map<string | null, number[]>();
  for (const r of rows) {
    const k = n(r.k);
    if (k < 0 || k > history) continue;
    const counts = byRegion.get(r.region) ?? Array<number>(history + 1).fill(0);
    counts[k]! += n(r.n);
    byRegion.set(r.region, counts);
  }
  return [...byRegion.entries()].map(([region, counts]) => ({ region, current: counts[0]!, previous: counts.slice(1) }));
}

/** The triage queue: reports still `new`, the oldest first. */
export async function triageQueue(db: Db, limit = 10): Promise<TriageItem[]> {
  return db
    .selectFrom('reports')
    .select(['id', 'ref', 'created_at', 'incident', 'region'])
    .where('status', '=', 'new')
    .where('simulated', '=', false)
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Gateway attempts, as the outbox's history records them (failures before any gateway call are left out). */
const ATTEMPTS = ['sent', 'dry_run', 'retrying', 'failed'];
const SUCCESS = new Set(['sent', 'dry_run']);

/** The outcome of the gateway's latest sends, read from the SMS history's last few thousand rows. */
export async function gatewayHealth(db: Db, transport: string): Promise<GatewayHealth> {
  const latest = await db.selectFrom('sms_events').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  const floor = String(Math.max(0, n(latest?.id) - 5000));
  const attempts = await db
    .selectFrom('sms_events')
    .select(['status', 'created_at'])
    .where('id', '>', floor)
    .where('status', 'in', ATTEMPTS)
    .where((eb) => eb.or([eb('detail', 'is', null), eb.not(eb('detail', 'like', 'cannot be prepared%'))]))
    .orderBy('id', 'desc')
    .limit(RECENT_SENDS)
    .execute();
  const lastSuccess = await db
    .selectFrom('sms_events')
    .select('created_at')
    .where('id', '>', floor)
    .where('status', 'in', [...SUCCESS])
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const failed = attempts.filter((a) => !SUCCESS.has(a.status));
  const inARow = attempts.findIndex((a) => SUCCESS.has(a.status));
  return {
    transport,
    recent: attempts.length,
    failures: failed.length,
    failuresInARow: inARow === -1 ? attempts.length : inARow,
    lastSuccessAt: lastSuccess ? new Date(lastSuccess.created_at) : null,
    lastFailureAt: failed[0] ? new Date(failed[0].created_at) : null,
  };
}

/** The same hash user-store.ts keeps session tokens under. */
/**
 * One snapshot for every viewer of this process. Never throws.
 *
 * @example
 * const snapshot = await buildDashboardSnapshot({ db, redis, smsQueue: ctx.sms.queue, transport: ctx.smsTransport.name });
 */
export async function buildDashboardSnapshot(s: DashboardSources): Promise<DashboardSnapshot> {
  const at = new Date(s.now ? s.now() : Date.now());
  const timeoutMs = s.timeoutMs ?? 3000;
  const windowMs = s.alertWindowMs ?? BUCKET_MS;
  const history = s.alertHistory ?? 8;
  // Redis is asked while the database answers: the two do not wait for each other.
  const redisSide = Promise.all([
    timed(() => s.redis.ping(), 1000),
    s.smsQueue
      ? within(s.smsQueue.getJobCounts('waiting', 'active', 'delayed', 'failed'), 1000).then(
          (c) => ({ waiting: n(c.waiting), active: n(c.active), delayed: n(c.delayed), failed: n(c.failed) }),
          () => null,
        )
      : Promise.resolve(null),
  ]);
  const database = await timed(() => sql`select 1`.execute(s.db), 2000);
  // A database that did not answer is not asked ten more times (each would wait for its own timeout).
  const part = async <T>(read: () => Promise<T>): Promise<T | null> => (database.up ? within(read(), timeoutMs).catch(() => null) : null);
  const counts = await part(() => counters(s.db, at));
  const chart = await part(() => activity(s.db, at));
  const regions = await part(() => reportsBy(s.db, 'region', at));
  const incidents = await part(() => reportsBy(s.db, 'incident', at));
  const windows = await part(() => alertWindows(s.db, at, windowMs, history));
  const triage = await part(() => triageQueue(s.db));
  const gateway = await part(() => gatewayHealth(s.db, s.transport));
  const callbacks = s.callbacks ? await part(s.callbacks) : undefined;
  const [redis, queue] = await redisSide;
  return {
    at,
    health: { database, redis },
    counters: counts,
    activity: chart,
    regions,
    incidents,
    alertWindows: windows,
    triage,
    gateway,
    queue,
    ...(callbacks !== undefined ? { callbacks } : {}),
  };
}
