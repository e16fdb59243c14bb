/**
 * Region alerts: a region whose reports jump above its own recent rate.
 *
 * The rule, on sliding windows that end now (the dashboard's windows are 15
 * minutes, the history the 8 windows before, i.e. the 2 hours before):
 * - the **baseline** is the mean count of the previous windows, but never
 *   less than `floor` (default 1 report per window): a region that had
 *   nothing is compared with 1, not with 0, so that 0 → 2 is no jump;
 * - a region **alerts** when its current window holds at least `minCount`
 *   reports (default 4) **and** at least `ratio` times its baseline
 *   (default 3).
 *
 * So: 0 → 3 is quiet (under the minimum), 0 → 4 alerts (4 ≥ 3 × 1); a region
 * steadily at 10 per window is quiet at 12 and alerts at 30; 1,2 on average
 * then 9 alerts (9 ≥ 3 × 1,2). With no history at all (the first windows of
 * the night), the baseline is the floor. Reports with no region (or an
 * unknown one, `null`) never alert: an alert must point to a place.
 *
 * A pure function of the counts: the queries are in src/store/dashboard-queries.ts.
 *
 * @example
 * regionAlerts([{ region: 'kayes', current: 9, previous: [1, 2, 1, 1, 2, 0, 1, 2] }])
 * // → [{ region: 'kayes', count: 9, baseline: 1.25, mean: 1.25, ratio: 7.2 }]
 */
import { locale, t } from './console-i18n.js';

export interface RegionWindows {
  /** the stored code (`kayes`), or null when the report has none */
  region: string | null;
  /** reports in the current window (the last `windowMinutes`) */
  current: number;
  /** reports in each of the windows before, most recent first (may be fewer than the rule's history, or none) */
  previous: readonly number[];
}

export interface AlertRule {
  /** the window's length, for the words (default 15) */
  windowMinutes: number;
  /** how many previous windows make the recent rate (default 8: two hours) */
  historyWindows: number;
  /** the least count a window must hold to alert (default 4) */
  minCount: number;
  /** how many times its baseline the count must reach (default 3) */
  ratio: number;
  /** the least baseline: a quiet region is compared with this many reports per window (default 1) */
  floor: number;
}

export const DEFAULT_ALERT_RULE: Readonly<AlertRule> = Object.freeze({ windowMinutes: 15, historyWindows: 8, minCount: 4, ratio: 3, floor: 1 });

export interface RegionAlert {
  region: string;
  /** reports in the current window */
  count: number;
  /** the mean of the previous windows (0 without history) */
  mean: number;
  /** what the count was compared with: max(mean, floor) */
  baseline: number;
  /** count / baseline, one decimal */
  ratio: number;
}

/** The regions that alert, the strongest jump first (then the biggest count). */
export function regionAlerts(rows: readonly RegionWindows[], rule: AlertRule = DEFAULT_ALERT_RULE): RegionAlert[] {
  const alerts: RegionAlert[] = [];
  for (const row of rows) {
    if (row.region === null || row.region === '') continue;
    const history = row.previous.slice(0, rule.historyWindows);
    const mean = history.length ? history.reduce((a, b) => a + b, 0) / history.length : 0;
    const baseline = Math.max(mean, rule.floor);
    if (row.current >= rule.minCount && row.current >= rule.ratio * baseline) {
      alerts.push({ region: row.region, count: row.current, mean, baseline, ratio: Math.round((10 * row.current) / baseline) / 10 });
    }
  }
  return alerts.sort((a, b) => b.ratio - a.ratio || b.count - a.count || a.region.localeCompare(b.region));
}

/**
 * Why an alert fired, as the page says it, in the reader's language:
 * `Kayes : 9 signalements en 15 min, contre 1,2 par 15 min en moyenne sur les 2 heures précédentes`.
 */
export function alertReason(alert: RegionAlert, label: string, rule: AlertRule = DEFAULT_ALERT_RULE): string {
  const span = rule.windowMinutes * rule.historyWindows;
  const before = span === 60 ? t('l’heure précédente') : span % 60 === 0 ? t('les {{hours}} heures précédentes', { hours: span / 60 }) : t('les {{minutes}} minutes précédentes', { minutes: span });
  const usual =
    alert.mean === 0
      ? t('contre aucun sur {{before}}', { before })
      : t('contre {{mean}} par {{window}} min en moyenne sur {{before}}', { mean: alert.mean.toLocaleString(locale(), { maximumFractionDigits: 1 }), window: rule.windowMinutes, before });
  const values = { region: label, reports: alert.count, window: rule.windowMinutes, usual };
  return alert.count > 1 ? t('{{region}} : {{reports}} signalements en {{window}} min, {{usual}}', values) : t('{{region}} : {{reports}} signalement en {{window}} min, {{usual}}', values);
}
