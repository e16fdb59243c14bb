/**
 * `npm run drill`, smaller: the same code (runOutageDrill in src/main/drill.ts)
 * with fewer callers per phase, so that the drill runs in every `npm test`
 * and cannot rot unnoticed. It starts a redis-server and a PostgreSQL of its
 * own and cuts them through TCP proxies of its own: the test servers the
 * other files share are never touched.
 */
import { describe, expect, it } from '@jest/globals';
import { drillProblems, formatDrill, runOutageDrill, type DrillFigures } from '../../src/main/drill.js';

const CALLERS = 12;

describe('the outage drill (Redis stopped, PostgreSQL cut, the SMS gateway answering 503)', () => {
  it(`answers every request and records every report and SMS exactly once, with ${CALLERS} callers per phase`, async () => {
    const began = performance.now();
    const progress: string[] = [];
    const figures: DrillFigures = await runOutageDrill({ callersPerPhase: CALLERS, log: (line) => progress.push(line) }).catch((err: Error) => {
      throw new Error(`the drill stopped (${progress.at(-1) ?? 'before it began'}): ${err.message}`, { cause: err });
    });
    console.log(`${formatDrill(figures)}\n  (${((performance.now() - began) / 1000).toFixed(1)} s)`);

    expect(drillProblems(figures)).toEqual([]);
    // The same figures, one by one, so that a failure shows which.
    expect(figures.answered).toBe(figures.requests);
    // Every call ends with a reference or the apology (a busy machine may turn a few references into apologies).
    expect(figures.phases.map((p) => [p.phase, p.references + p.apologies, p.otherEndings, p.unanswered])).toEqual([
      ['baseline', CALLERS, 0, 0],
      ['redis', CALLERS, 0, 0],
      ['postgres', CALLERS, 0, 0],
      ['sms', CALLERS, 0, 0],
    ]);
    expect(figures.reportsFound).toBe(figures.references);
    expect(figures.doubledReports).toBe(0);
    expect(figures.smsSent).toBe(figures.reportsInDatabase);
    expect(figures.smsSentTwice).toBe(0);
    expect(figures.smsFailed).toBe(0);
    expect(figures.turnsStillSpooled).toBe(0);
    // Each outage met callers in their calls, and reports were filed while PostgreSQL was cut.
    const redis = figures.phases.find((p) => p.phase === 'redis')!;
    expect(redis.apologies).toBeGreaterThan(0);
    expect(figures.spooledWhileCut).toBeGreaterThan(0);
    expect(figures.referencesWhileCut).toBeGreaterThan(0);
    expect(figures.gatewayRefusals).toBeGreaterThan(0);
  }, 120_000);
});
