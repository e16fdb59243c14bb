/** The dashboard's cards from a snapshot: labels not codes, the gateway's state, the database down, the call-back card when plugged in. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config/config.js';
import { flowOptions, loadContent } from '../../src/flows/flow-set.js';
import { gatewayState, type DashboardSnapshot } from '../../src/store/dashboard-queries.js';
import { ageLabel, dashboardView } from '../../src/web/console/dashboard-routes.js';

const flows = loadContent(flowOptions(loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'kalata-dash-')) }))).flows;
const at = new Date('2026-12-01T21:00:00Z');
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();

const healthy: DashboardSnapshot = {
  at,
  health: { database: { up: true, ms: 2 }, redis: { up: true, ms: 1 } },
  counters: { callsLastHour: 12, reportsLastHour: 5, reportsNew: 3, smsFailed: 2, smsFailedLastHour: 1, smsWaiting: { pending: 1, queued: 0, retrying: 2 } },
  activity: { buckets: [{ start: new Date('2026-12-01T20:45:00Z'), calls: 4, reports: 1 }, { start: at, calls: 8, reports: 4 }] },
  regions: [{ code: 'kayes', last15: 4, lastHour: 5, total: 9 }, { code: null, last15: 0, lastHour: 1, total: 1 }],
  incidents: [{ code: 'vote_buying', last15: 4, lastHour: 5, total: 9 }],
  alertWindows: [{ region: 'kayes', current: 9, previous: [1, 2, 1, 1, 2, 0, 1, 2] }],
  triage: [{ id: '1', ref: 'KA-AAAAAAA', created_at: new Date(at.getTime() - 125 * 60_000), incident: 'vote_buying', region: 'bamako' }],
  gateway: { transport: 'africastalking', recent: 20, failures: 12, failuresInARow: 4, lastSuccessAt: new Date(at.getTime() - 30 * 60_000), lastFailureAt: at },
  queue: { waiting: 3, active: 1, delayed: 2, failed: 0 },
};

describe('dashboardView', () => {
  it('says everything in words, in the console’s zone', () => {
    const v = dashboardView(healthy, flows);
    expect(v.at).toBe('21:00:00');
    expect(v.chart).toEqual({ labels: ['20:45', '21:00'], calls: [4, 8], reports: [1, 4] });
    expect(text(v.cards.alerts!)).toContain('Kayes : 9 signalements en 15 min, contre 1,3 par 15 min en moyenne sur les 2 heures précédentes');
    expect(text(v.cards.queue!)).toContain('KA-AAAAAAA 2 h 05 Achat de votes District de Bamako');
    expect(text(v.cards.regions!)).toContain('Région non précisée 0 1 1');
    expect(text(v.cards.health!)).toContain('EN PANNE Passerelle SMS : 12 échecs sur les 20 derniers envois, dernier envoi réussi il y a 30 min');
    expect(text(v.cards.sms!)).toContain('3 à envoyer : 1 en attente, 0 en file, 2 en nouvel essai');
    expect([v.alerting, v.down]).toEqual([true, true]);
    expect(v.cards.callbacks).toBeUndefined();
    const all = Object.values(v.cards).map(text).join(' ');
    for (const code of ['vote_buying', 'kayes', 'bamako', 'pending', 'retrying', 'africastalking']) expect(all).not.toMatch(new RegExp(`\\b${code}\\b`));
  });

  it('says what cannot be read while the database is down, and shows the call-backs when plugged in', () => {
    const down: DashboardSnapshot = { ...healthy, health: { database: { up: false, ms: 2000 }, redis: { up: true, ms: 1 } }, counters: null, activity: null, regions: null, incidents: null, alertWindows: null, triage: null, gateway: null, queue: null, callbacks: null };
    const v = dashboardView(down, flows);
    expect(text(v.cards.health!)).toContain('EN PANNE Base de données (PostgreSQL) : ne répond pas');
    expect(text(v.cards.queue!)).toContain('File indisponible : la base de données ne répond pas.');
    expect(text(v.cards.callbacks!)).toContain('Indisponible');
    expect(v.down).toBe(true);
    const plugged = dashboardView({ ...healthy, callbacks: { waiting: 4, late: 1, oldestWaitingAt: new Date(at.getTime() - 40 * 60_000) } }, flows);
    expect(text(plugged.cards.callbacks!)).toBe('Rappels demandés 4 en attente d’un conseiller (le plus ancien depuis 40 min) 1 en retard');
  });

  it('rates the gateway from its latest sends', () => {
    const g = { transport: 'smpp', recent: 20, failures: 0, failuresInARow: 0, lastSuccessAt: at, lastFailureAt: null };
    expect(gatewayState(g)).toBe('ok');
    expect(gatewayState({ ...g, failures: 2 })).toBe('warn');
    expect(gatewayState({ ...g, failures: 3, failuresInARow: 3 })).toBe('down');
    expect(gatewayState({ ...g, failures: 10 })).toBe('down');
    expect(gatewayState({ ...g, recent: 0 })).toBe('idle');
    expect(gatewayState({ ...g, transport: 'dry-run' })).toBe('dry_run');
    expect([ageLabel(20_000), ageLabel(12 * 60_000), ageLabel(125 * 60_000), ageLabel(3 * 86_400_000)]).toEqual(['à l’instant', '12 min', '2 h 05', '3 j']);
  });
});
