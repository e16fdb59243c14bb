/**
 * The dashboard: what an operator keeps open on election night. The page is
 * rendered whole on the server (it works without JavaScript); dashboard.js
 * then follows `GET /api/dashboard/events`, whose snapshots carry each card
 * already rendered (the same Eta templates, escaped, in the reader's language,
 * times in the console's zone) and the chart's figures. One snapshot per
 * process per tick, whoever watches, rendered once per language watched
 * (dashboard-stream.ts).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import express, { type Router } from 'express';
import type { AppContext } from '../../context.js';
import type { CompiledFlows } from '../../engine/types.js';
import { countsForDashboard } from '../../store/console-queries.js';
import {
  buildDashboardSnapshot,
  gatewayState,
  type CallbackCounts,
  type CountsByCode,
  type DashboardSnapshot,
} from '../../store/dashboard-queries.js';
import { sessionsStillOpen } from '../../store/user-store.js';
import { requireRole, signedIn, type ConsoleLocals } from './console-auth.js';
import { language, locale, t } from './console-i18n.js';
import { createDashboardHub } from './dashboard-stream.js';
import { reportWords } from './flow-words.js';
import { fmt, page, TIME_ZONE } from './page.js';
import { alertReason, DEFAULT_ALERT_RULE, regionAlerts, type AlertRule } from './region-alerts.js';

export interface DashboardOptions {
  /** waiting and late call-back requests (callbackCounts in callback-store.ts): shows the « Rappels demandés » card */
  callbacks?: () => Promise<CallbackCounts>;
  /** time between snapshots (default 5 s) */
  everyMs?: number;
  /** streams per process and per account (defaults 200 and 10) */
  maxStreams?: number;
  maxPerAccount?: number;
  alertRule?: AlertRule;
}

/** What one snapshot sends: each card's HTML, the chart's figures, and the time it was taken. */
export interface DashboardView {
  /** `23:41:05`, in the console's zone */
  at: string;
  /** a region alerts: the alerts card turns red */
  alerting: boolean;
  /** PostgreSQL, Redis or the SMS gateway is down: the health card turns red */
  down: boolean;
  cards: Record<string, string>;
  chart: { labels: string[]; calls: number[]; reports: number[] };
}

const here = dirname(fileURLToPath(import.meta.url));
const eta = new Eta({ views: join(here, '..', 'views'), autoEscape: true, cache: true });

// Times of day read alike in French and English (`23:41:05`): one format for both.
const clock = new Intl.DateTimeFormat('fr-FR', { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const quarter = new Intl.DateTimeFormat('fr-FR', { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
/** One number format per language, made once (a snapshot shows dozens of numbers every few seconds). */
const numbers = new Map<string, Intl.NumberFormat>();
const number = (v: number) => {
  const tag = locale();
  let format = numbers.get(tag);
  if (!format) numbers.set(tag, (format = new Intl.NumberFormat(tag)));
  return format.format(v);
};

/** How long ago, as a queue shows it: `à l’instant`, `12 min`, `2 h 05`, `3 j` (`just now`, `12 min`, `2 h 05 min`, `3 days`). */
export function ageLabel(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return t('à l’instant');
  if (minutes < 60) return t('{{minutes}} min', { minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return t('{{hours}} h {{minutes}}', { hours, minutes: String(minutes % 60).padStart(2, '0') });
  return t('{{days}} j', { days: Math.floor(hours / 24) });
}

/**
 * A snapshot as the page shows it: labels from the flows (never the codes),
 * the console's words in the reader's language, the console's zone.
 */
export function dashboardView(s: DashboardSnapshot, flows: CompiledFlows, rule: AlertRule = DEFAULT_ALERT_RULE): DashboardView {
  const words = reportWords(flows);
  const regionLabel = (code: string | null) => (code ? words.answer('region', code) : t('Région non précisée'));
  const incidentLabel = (code: string | null) => (code ? words.answer('incident', code) : t('Type non précisé'));
  const now = s.at.getTime();
  const render = (card: string, data: Record<string, unknown>) => eta.render(`./dashboard/${card}`, { ...data, t, fmt, number });

  const alerts = s.alertWindows ? regionAlerts(s.alertWindows, rule).map((a) => ({ region: a.region, reason: alertReason(a, regionLabel(a.region), rule) })) : null;
  const rows = (list: CountsByCode[] | null, label: (code: string | null) => string) => list?.map((r) => ({ ...r, label: label(r.code) })) ?? null;
  const gateway = s.gateway ? { ...s.gateway, state: gatewayState(s.gateway) } : null;
  const down = !s.health.database.up || !s.health.redis.up || gateway?.state === 'down';
  const buckets = s.activity?.buckets ?? [];

  const cards: Record<string, string> = {
    alerts: render('alerts', { alerts, rule }),
    counters: render('counters', { c: s.counters }),
    queue: render('queue', {
      total: s.counters?.reportsNew ?? null,
      items: s.triage?.map((r) => ({ id: r.id, ref: r.ref, age: ageLabel(now - new Date(r.created_at).getTime()), at: fmt(r.created_at), incident: incidentLabel(r.incident), region: regionLabel(r.region) })) ?? null,
    }),
    regions: render('breakdown', { id: 'regions', title: t('Signalements par région'), column: t('Région'), rows: rows(s.regions, regionLabel), filter: 'region' }),
    incidents: render('breakdown', { id: 'incidents', title: t('Signalements par type'), column: t('Type'), rows: rows(s.incidents, incidentLabel), filter: 'incident' }),
    sms: render('sms', { c: s.counters, queue: s.queue }),
    health: render('health', { health: s.health, gateway, since: (d: Date | null) => (d ? t('il y a {{age}}', { age: ageLabel(now - d.getTime()) }) : '') }),
    activity: render('activity', { buckets: buckets.map((b) => ({ ...b, label: quarter.format(b.start) })), readable: s.activity !== null }),
  };
  if (s.callbacks !== undefined) {
    const cb = s.callbacks;
    cards.callbacks = render('callbacks', { cb, oldest: cb?.oldestWaitingAt ? ageLabel(now - new Date(cb.oldestWaitingAt).getTime()) : null });
  }
  return {
    at: clock.format(s.at),
    alerting: Boolean(alerts?.length),
    down,
    cards,
    chart: { labels: buckets.map((b) => quarter.format(b.start)), calls: buckets.map((b) => b.calls), reports: buckets.map((b) => b.reports) },
  };
}

export function createDashboardRoutes(ctx: AppContext, options: DashboardOptions = {}): Router {
  const router = express.Router();
  const { db } = ctx;
  const operator = requireRole('operator');
  const rule = options.alertRule ?? DEFAULT_ALERT_RULE;
  const hub = createDashboardHub<DashboardSnapshot, DashboardView>({
    logger: ctx.logger,
    ...(options.everyMs ? { everyMs: options.everyMs } : {}),
    ...(options.maxStreams ? { maxStreams: options.maxStreams } : {}),
    ...(options.maxPerAccount ? { maxPerAccount: options.maxPerAccount } : {}),
    sessionsOpen: (tokens) => sessionsStillOpen(db, tokens),
    build: () =>
      buildDashboardSnapshot({
        db,
        redis: ctx.redis,
        smsQueue: ctx.sms.queue,
        transport: ctx.smsTransport.name,
        alertWindowMs: rule.windowMinutes * 60_000,
        alertHistory: rule.historyWindows,
        ...(options.callbacks ? { callbacks: options.callbacks } : {}),
      }),
    view: (snapshot) => dashboardView(snapshot, ctx.flows.live(), rule),
  });
  // A stopping process ends its streams at once: each browser reconnects (EventSource's retry) to one that runs.
  ctx.stopping.addEventListener('abort', () => hub.close(), { once: true });

  router.get('/', operator, async (_req, res) => {
    const { seq, view } = await hub.current(language());
    // `</` cannot close the script element the JSON sits in.
    const chart = JSON.stringify(view.chart).replace(/</g, '\\u003c');
    page(res, 'home', t('Tableau de bord'), 'home', { view, seq, chart, rule });
  });

  router.get('/api/dashboard/events', operator, (_req, res) => {
    const locals = res.locals as ConsoleLocals;
    const admission = hub.attach(res, { token: locals.token!, account: signedIn(res).id, language: language() });
    if (!admission.admitted) {
      if (admission.status === 503) res.set('Retry-After', '30');
      res.status(admission.status).type('text/plain').send(admission.reason);
    }
  });

  // The four counters as JSON, for scripts that read them.
  router.get('/api/counters', operator, async (_req, res) => {
    res.json(await countsForDashboard(db));
  });
  return router;
}
