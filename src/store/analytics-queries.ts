/**
 * What the analytics page counts over a period: calls per hour (or per day
 * over a long period), languages, the screens callers opened, and reports by
 * region and type. Every bound is a parameter; simulator reports are left out.
 */
import { sql } from 'kysely';
import type { Db } from './database.js';

export interface AnalyticsPeriod {
  /** first instant counted */
  from: Date;
  /** first instant no longer counted */
  to: Date;
}

/** Over more than this, calls are counted per day: a bar per hour would be unreadable. */
export const HOURLY_UP_TO_HOURS = 72;

/** The last 48 hours up to now: what the page shows without a filter. */
export function lastHours(hours = 48, now = new Date()): AnalyticsPeriod {
  return { from: new Date(now.getTime() - hours * 3600 * 1000), to: now };
}

/**
 * The counts, as numbers (PostgreSQL counts arrive as strings).
 *
 * @example
 *   const data = await analytics(db, lastHours(48));
 *   data.perHour[0]; // { hour: Date, n: 12 }
 */
export async function analytics(db: Db, period: AnalyticsPeriod = lastHours()) {
  const { from, to } = period;
  const unit = to.getTime() - from.getTime() > HOURLY_UP_TO_HOURS * 3600 * 1000 ? 'day' : 'hour';
  const perHour = await db
    .selectFrom('calls')
    .select([sql<Date>`date_trunc(${sql.lit(unit)}, started_at)`.as('hour'), (eb) => eb.fn.countAll<string>().as('n')])
    .where('started_at', '>=', from)
    .where('started_at', '<', to)
    .groupBy(sql`1`)
    .orderBy(sql`1`)
    .execute();
  const languages = await db
    .selectFrom('calls')
    .select(['language', (eb) => eb.fn.countAll<string>().as('n')])
    .where('started_at', '>=', from)
    .where('started_at', '<', to)
    .groupBy('language')
    .orderBy(sql`2`, 'desc')
    .execute();
  // Topics: the screens callers opened, one count per call.
  const topics = await db
    .selectFrom('call_steps')
    .innerJoin('calls', 'calls.id', 'call_steps.call_id')
    .select(['call_steps.node', sql<string>`count(distinct call_steps.call_id)`.as('n')])
    .where('calls.started_at', '>=', from)
    .where('calls.started_at', '<', to)
    .groupBy('call_steps.node')
    .orderBy(sql`2`, 'desc')
    .execute();
  const reportsBy = (column: 'region' | 'incident') =>
    db
      .selectFrom('reports')
      .select([column, (eb) => eb.fn.countAll<string>().as('n')])
      .where('created_at', '>=', from)
      .where('created_at', '<', to)
      .where('simulated', '=', false)
      .groupBy(column)
      .orderBy(sql`2`, 'desc')
      .execute();
  const regions = await reportsBy('region');
  const incidents = await reportsBy('incident');
  return {
    /** `hour` or `day`: what one bar of `perHour` counts */
    unit: unit as 'hour' | 'day',
    /** hours (or days) as instants: the console labels them in its own time zone */
    perHour: perHour.map((r) => ({ hour: new Date(r.hour), n: Number(r.n) })),
    languages: languages.map((r) => ({ label: r.language, n: Number(r.n) })),
    topics: topics.map((r) => ({ label: r.node, n: Number(r.n) })),
    regions: regions.map((r) => ({ label: r.region ?? '?', n: Number(r.n) })),
    incidents: incidents.map((r) => ({ label: r.incident ?? '?', n: Number(r.n) })),
  };
}

export type Analytics = Awaited<ReturnType<typeof analytics>>;
