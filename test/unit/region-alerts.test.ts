/** The region alert rule: a jump above a region's own recent rate, with a floor and a minimum. */
import { describe, expect, it } from '@jest/globals';
import { alertReason, DEFAULT_ALERT_RULE, regionAlerts } from '../../src/web/console/region-alerts.js';

const quiet = [0, 0, 0, 0, 0, 0, 0, 0];

describe('regionAlerts', () => {
  it('fires on one spike, and says why', () => {
    const alerts = regionAlerts([{ region: 'kayes', current: 9, previous: [1, 2, 1, 1, 2, 0, 1, 2] }]);
    expect(alerts).toEqual([{ region: 'kayes', count: 9, mean: 1.25, baseline: 1.25, ratio: 7.2 }]);
    expect(alertReason(alerts[0]!, 'Kayes')).toBe('Kayes : 9 signalements en 15 min, contre 1,3 par 15 min en moyenne sur les 2 heures précédentes');
  });

  it('does not fire for 0 → 2 nor 0 → 3 (the minimum count), and fires for 0 → 4', () => {
    expect(regionAlerts([{ region: 'mopti', current: 2, previous: quiet }])).toEqual([]);
    expect(regionAlerts([{ region: 'mopti', current: 3, previous: quiet }])).toEqual([]);
    const [alert] = regionAlerts([{ region: 'mopti', current: 4, previous: quiet }]);
    expect(alert).toMatchObject({ region: 'mopti', count: 4, mean: 0, baseline: 1 });
    expect(alertReason(alert!, 'Mopti')).toBe('Mopti : 4 signalements en 15 min, contre aucun sur les 2 heures précédentes');
  });

  it('compares with the floor when there is no history at all (the start of the night)', () => {
    expect(regionAlerts([{ region: 'gao', current: 4, previous: [] }])).toMatchObject([{ region: 'gao', mean: 0, baseline: 1, ratio: 4 }]);
    expect(regionAlerts([{ region: 'gao', current: 3, previous: [] }])).toEqual([]);
  });

  it('keeps a steadily busy region quiet, and fires when it triples', () => {
    const busy = [10, 11, 9, 10, 12, 8, 10, 10];
    expect(regionAlerts([{ region: 'bamako', current: 12, previous: busy }])).toEqual([]);
    expect(regionAlerts([{ region: 'bamako', current: 29, previous: busy }])).toEqual([]);
    expect(regionAlerts([{ region: 'bamako', current: 30, previous: busy }])).toMatchObject([{ region: 'bamako', count: 30, mean: 10 }]);
  });

  it('never alerts for reports without a region', () => {
    expect(regionAlerts([{ region: null, current: 50, previous: quiet }])).toEqual([]);
    expect(regionAlerts([{ region: '', current: 50, previous: quiet }])).toEqual([]);
  });

  it('reads only the rule’s history, and puts the strongest jump first', () => {
    // Only the last 8 windows count: the old busy hours are forgotten.
    const alerts = regionAlerts([
      { region: 'sikasso', current: 6, previous: [...quiet, 40, 40] },
      { region: 'segou', current: 20, previous: [2, 2, 2, 2, 2, 2, 2, 2] },
      { region: 'kidal', current: 1, previous: quiet },
    ]);
    expect(alerts.map((a) => [a.region, a.ratio])).toEqual([
      ['segou', 10],
      ['sikasso', 6],
    ]);
  });

  it('follows another rule when given one (30-minute windows over the last hour)', () => {
    const rule = { ...DEFAULT_ALERT_RULE, windowMinutes: 30, historyWindows: 2, minCount: 2, ratio: 2 };
    const [alert] = regionAlerts([{ region: 'kita', current: 5, previous: [2, 2, 9] }], rule);
    expect(alert).toMatchObject({ mean: 2, ratio: 2.5 });
    expect(alertReason(alert!, 'Kita', rule)).toBe('Kita : 5 signalements en 30 min, contre 2 par 30 min en moyenne sur l’heure précédente');
  });
});
