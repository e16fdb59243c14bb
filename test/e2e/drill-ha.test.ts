/**
 * `npm run drill -- --ha`, smaller: the same code (runHaDrill in
 * src/main/drill-ha.ts) with fewer callers per phase. Its own Redis group
 * (primary, replica, three Sentinels), its own PostgreSQL primary and
 * standby, two web processes and a worker; the Redis primary and then the
 * PostgreSQL primary are SIGKILLed during bursts of callers.
 */
import { describe, expect, it } from '@jest/globals';
import { formatHaDrill, haDrillProblems, runHaDrill, type HaDrillFigures } from '../../src/main/drill-ha.js';

const CALLERS = 12;

describe('the failover drill (Redis Sentinel promotes the replica; pg_ctl promote on the PostgreSQL standby)', () => {
  it(`answers every request, and records every report and SMS exactly once through both failovers, with ${CALLERS} callers per phase`, async () => {
    const began = performance.now();
    const progress: string[] = [];
    const figures: HaDrillFigures = await runHaDrill({ callersPerPhase: CALLERS, log: (line) => progress.push(line) }).catch((err: Error) => {
      throw new Error(`the drill stopped (${progress.at(-1) ?? 'before it began'}): ${err.message}`, { cause: err });
    });
    console.log(`${formatHaDrill(figures)}\n  (${((performance.now() - began) / 1000).toFixed(1)} s)`);

    expect(haDrillProblems(figures)).toEqual([]);
    // The same figures, one by one, so that a failure shows which.
    expect(figures.answered).toBe(figures.requests);
    expect(figures.phases.map((p) => [p.phase, p.references + p.apologies, p.otherEndings, p.unanswered])).toEqual([
      ['baseline', CALLERS, 0, 0],
      ['redis-failover', CALLERS, 0, 0],
      ['postgres-failover', CALLERS, 0, 0],
    ]);
    expect(figures.reportsFound).toBe(figures.references);
    expect([figures.doubledReports, figures.doubledCalls, figures.smsSentTwice, figures.turnsStillSpooled]).toEqual([0, 0, 0, 0]);
    expect(figures.smsSent).toBe(figures.reportsInDatabase);
    // Each failover met callers: apologies while Redis had no primary, turns spooled while PostgreSQL had none.
    expect(figures.redis.apologies).toBeGreaterThan(0);
    expect(figures.postgres.spooled).toBeGreaterThan(0);
    // Callers who came after the switch were served: the apologies stop within seconds of the kill.
    expect(figures.redis.apologySeconds).toBeLessThan(8);
  }, 240_000);
});
