/**
 * Analytics: calls per hour, languages, topics, each flow's funnel, reports by
 * region and type, over a period (the last 48 hours unless filtered). Every
 * chart's numbers are also a table on the page and a CSV export (audited).
 */
import express, { type Request, type Router } from 'express';
import type { AppContext } from '../../context.js';
import type { CompiledFlows } from '../../engine/types.js';
import { analytics, lastHours, type Analytics, type AnalyticsPeriod } from '../../store/analytics-queries.js';
import { audit } from '../../store/user-store.js';
import { screenLabels } from './analytics-labels.js';
import { requireRole, signedIn } from './console-auth.js';
import { locale, t } from './console-i18n.js';
import { csvRow } from './csv.js';
import { flowWords } from './flow-words.js';
import { languageLabel } from './labels.js';
import { fmt, fmtHour, page, TIME_ZONE } from './page.js';
import { BadQuery, date, queryOf } from './query.js';

const DAY_MS = 24 * 3600 * 1000;
/** A longer period only costs the database: a year covers any election. */
const MAX_DAYS = 366;

/** One row of a chart: a label in the reader's language, a count, and for a funnel step the calls that entered the flow but never got there. */
export interface ChartRow {
  label: string;
  n: number;
  lost?: number;
  /** `lost` as a whole percentage of the calls that entered the flow; null when none did */
  lostShare?: number | null;
}

export interface Chart {
  /** in the page (`chart-<key>`) and the export's address (`/analytics/<key>.csv`) */
  key: string;
  title: string;
  /** the first column's header: what a row is */
  column: string;
  /** what is counted (calls or reports), as a column header */
  counted: string;
  kind: 'bar' | 'doughnut';
  horizontal: boolean;
  /** a funnel spans the page, wider than tall */
  wide: boolean;
  rows: ChartRow[];
  funnel?: { entered: number };
}

const dayOnly = (d: Date) => d.toLocaleDateString(locale(), { timeZone: TIME_ZONE, day: '2-digit', month: '2-digit', year: 'numeric' });

/** Every chart of the page, in the reader's language, from the counts and the live flows; `csv` labels hours in full (a spreadsheet has no axis title). */
export function buildCharts(data: Analytics, flows: CompiledFlows, csv = false): Chart[] {
  const calls = t('Appels');
  const reports = t('Signalements');
  const screen = t('Écran');
  const words = flowWords(flows);
  const labels = screenLabels(flows);
  const counts = new Map(data.topics.map((t) => [t.label, t.n]));
  const hourLabel = data.unit === 'day' ? (d: Date) => (csv ? dayOnly(d) : dayOnly(d).slice(0, 5)) : csv ? fmt : fmtHour;
  const chart = (c: Omit<Chart, 'kind' | 'horizontal' | 'wide'> & Partial<Chart>): Chart => ({ kind: 'bar', horizontal: true, wide: false, ...c });
  // A flow branches: a step's drop-off is counted from the calls that entered the flow, not from the line above.
  const funnels = [...flows.starts.entries()]
    .filter(([flow]) => flow !== flows.entryFlow)
    .map(([flow, start]) => {
      const entered = counts.get(start) ?? 0;
      const rows = [...flows.nodes.values()]
        .filter((n) => n.flow === flow)
        .map((n) => {
          const n_ = counts.get(n.id) ?? 0;
          const lost = Math.max(0, entered - n_);
          return { label: labels.label(n.id), n: n_, lost, lostShare: entered ? Math.round((100 * lost) / entered) : null };
        });
      return chart({ key: `parcours-${flow}`, title: t('Parcours « {{flow}} » : où les appelants s’arrêtent', { flow: labels.flowTitle(flow) }), column: screen, counted: calls, wide: true, rows, funnel: { entered } });
    });
  return [
    chart({
      key: 'appels',
      title: data.unit === 'day' ? t('Appels par jour') : t('Appels par heure'),
      column: data.unit === 'day' ? t('Jour') : t('Heure'),
      counted: calls,
      horizontal: false,
      rows: data.perHour.map((r) => ({ label: hourLabel(r.hour), n: r.n })),
    }),
    chart({ key: 'langues', title: t('Langues des appels'), column: t('Langue'), counted: calls, kind: 'doughnut', horizontal: false, rows: data.languages.map((r) => ({ label: languageLabel(r.label), n: r.n })) }),
    chart({
      key: 'sujets',
      title: t('Sujets consultés (appels par écran)'),
      column: screen,
      counted: calls,
      rows: data.topics.filter((t) => t.label.startsWith('vote.') || t.label.startsWith('main.help')).map((t) => ({ label: labels.label(t.label), n: t.n })),
    }),
    ...funnels,
    chart({ key: 'regions', title: t('Signalements par région'), column: t('Région'), counted: reports, rows: data.regions.map((r) => ({ label: r.label === '?' ? t('Non précisée') : words.answer('region', r.label), n: r.n })) }),
    chart({ key: 'types', title: t('Signalements par type'), column: t('Type d’incident'), counted: reports, rows: data.incidents.map((r) => ({ label: r.label === '?' ? t('Non précisé') : words.answer('incident', r.label), n: r.n })) }),
  ];
}

/** A chart's numbers as CSV rows, headers in the reader's language, labels not codes. */
export function chartCsv(c: Chart): string {
  if (c.funnel) {
    let out = csvRow([c.column, c.counted, t('Entrés dans le parcours sans atteindre cet écran'), t('Part des entrés (%)')]);
    for (const r of c.rows) out += csvRow([r.label, r.n, r.lost, r.lostShare ?? '']);
    return out;
  }
  let out = csvRow([c.column, c.counted]);
  for (const r of c.rows) out += csvRow([r.label, r.n]);
  return out;
}

interface PeriodFilter {
  from?: string;
  to?: string;
}

/** `?from=&to=` (days, as the date fields send them): the days from `from` to `to` included; the last 48 hours by default. */
function periodOf(q: Request['query'], now = new Date()): { f: PeriodFilter; period: AnalyticsPeriod; label: string } {
  const f: PeriodFilter = {};
  const from = date(q.from);
  const to = date(q.to);
  if (from) f.from = from;
  if (to) f.to = to;
  if (!from && !to) return { f, period: lastHours(48, now), label: t('dernières 48 heures') };
  const end = to ? new Date(new Date(to).getTime() + DAY_MS) : now;
  const start = from ? new Date(from) : new Date(end.getTime() - 2 * DAY_MS);
  if (start >= end) throw new BadQuery(t('La date de début doit être avant la date de fin (ou le même jour).'));
  if (end.getTime() - start.getTime() > MAX_DAYS * DAY_MS) throw new BadQuery(t('La période ne peut pas dépasser {{days}} jours.', { days: MAX_DAYS }));
  const last = new Date(end.getTime() - 1);
  const label = dayOnly(start) === dayOnly(last) ? t('le {{day}}', { day: dayOnly(start) }) : t('du {{from}} au {{to}}', { from: dayOnly(start), to: dayOnly(last) });
  return { f, period: { from: start, to: end }, label };
}

export function createAnalyticsRoutes(ctx: AppContext): Router {
  const router = express.Router();
  // The lists read from a standby where one is set (DATABASE_READ_URL); the audit log is written to the primary.
  const { db, readDb } = ctx;
  const operator = requireRole('operator');
  router.get('/analytics', operator, async (req, res) => {
    const { f, period, label } = periodOf(req.query);
    const charts = buildCharts(await analytics(readDb, period), ctx.flows.live());
    const query = queryOf({ ...f });
    const json = JSON.stringify({
      charts: charts.map((c) => ({ key: c.key, kind: c.kind, horizontal: c.horizontal, wide: c.wide, counted: c.counted, rows: c.rows.map((r) => ({ label: r.label, n: r.n })) })),
    }).replace(/</g, '\\u003c'); // `</` cannot close the script element the JSON sits in.
    page(res, 'analytics', t('Analyses'), 'analytics', { json, charts, f, query, periodLabel: label });
  });
  router.get('/analytics/:file', operator, async (req, res, next) => {
    const key = /^([a-z0-9_-]{1,60})\.csv$/.exec(String(req.params.file))?.[1];
    if (!key) return next();
    const { f, period } = periodOf(req.query);
    const chart = buildCharts(await analytics(readDb, period), ctx.flows.live(), true).find((c) => c.key === key);
    if (!chart) return next();
    await audit(db, signedIn(res), 'export_analytics', key, queryOf({ ...f }) || undefined);
    res.type('text/csv; charset=utf-8').attachment(`kalata-analyses-${key}.csv`);
    // The byte order mark tells Excel the file is UTF-8 (without it, « Région » reads « RÃ©gion »).
    res.send(`\uFEFF${chartCsv(chart)}`);
  });
  return router;
}
