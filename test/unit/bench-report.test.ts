/**
 * How the bench turns rounds into figures: counts add up, rates are the
 * median round's, and a throughput ratio pairs the rounds that ran side by
 * side, so a slow spell of the machine during one round does not decide it.
 */
import { describe, expect, it } from '@jest/globals';
import type { LoadResult } from '../../bench/load/ussd-load.js';
import { combine, cpuMsPerRequest, judge, median, throughputRatio, type BenchReport, type TargetRun } from '../../bench/report.js';

function round(requestsPerSecond: number, extra: Partial<LoadResult> = {}): LoadResult {
  return {
    requestsPerSecond,
    latencyMs: { p50: 10, p90: 20, p99: 30, p999: 40, max: 50, mean: 12 },
    sent: 100,
    answered: 100,
    wrongAnswers: 0,
    errors: 0,
    timeouts: 0,
    non2xx: 0,
    callsAnswered: 20,
    stepsAnswered: 100,
    reportsConfirmed: 3,
    samplesOfWrongAnswers: [],
    durationSeconds: 6,
    cpuPercent: { server: 90, load: 20 },
    ...extra,
  };
}

function run(name: TargetRun['name'], rounds: LoadResult[]): TargetRun {
  return { name, label: name, processes: 1, result: combine(rounds), rounds, peakRssMb: [100] };
}

describe('bench figures', () => {
  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('combines rounds: counts summed; rates, percentiles and CPU per process the median over the rounds, each on its own', () => {
    const c = combine([
      round(1000, { latencyMs: { p50: 30, p90: 40, p99: 90, p999: 120, max: 300, mean: 33 }, cpuPercent: { server: 95, postgres: 30, load: 18 } }),
      round(1500, { wrongAnswers: 1, cpuPercent: { server: 90, postgres: 40, load: 20 } }),
      round(1200, { latencyMs: { p50: 20, p90: 30, p99: 60, p999: 80, max: 100, mean: 22 }, cpuPercent: { server: 85, postgres: 35, load: 19 } }),
    ]);
    expect(c.requestsPerSecond).toBe(1200);
    expect(c.latencyMs).toEqual({ p50: 20, p90: 30, p99: 60, p999: 80, max: 300, mean: 22 });
    expect([c.sent, c.answered, c.wrongAnswers, c.callsAnswered, c.stepsAnswered, c.reportsConfirmed, c.durationSeconds]).toEqual([300, 300, 1, 60, 300, 9, 18]);
    expect(c.cpuPercent).toEqual({ server: 90, postgres: 35, load: 19 });
  });

  it('pairs rounds for a ratio: a slow spell that hit both setups in one round cancels out', () => {
    // Round 2 ran while the machine was slow: both halved.
    const a = run('a', [round(5000), round(2500), round(5200)]);
    const c = run('c', [round(1500), round(750), round(1560)]);
    expect(throughputRatio(c, a)).toBeCloseTo(0.3, 5);
    // Rounds 0.75, 1.5 and 0.5: the paired median is 0.75, where the ratio of the medians (3000 / 2000) would say 1.5.
    const b = run('b', [round(3000), round(3000), round(1000)]);
    const e = run('e', [round(4000), round(2000), round(2000)]);
    expect(throughputRatio(b, e)).toBe(0.75);
  });

  it('judges c/a on the paired ratio', () => {
    const a = run('a', [round(5000), round(2000), round(5000)]);
    const c = run('c', [round(3500), round(1400), round(3400)]);
    const report = {
      smoke: false,
      settings: { connections: 64, rounds: 3, durationSeconds: 6, warmupSeconds: 3, stepsPerCycle: 28, callsPerCycle: 5 },
      runs: [a, c],
      records: { expected: { calls: 1, steps: 1, reports: 0, inFlight: 0 }, recorded: { calls: 1, steps: 1, reports: 0 } },
      engine: { stepCostRatio: 1.1 },
    } as unknown as BenchReport;
    // Rounds 0.70, 0.70, 0.68; the ratio of the medians would be 3400 / 5000 = 0.68, a miss.
    const verdict = judge(report).find((v) => v.what.startsWith('Kalata / bare Express'))!;
    expect(verdict).toMatchObject({ measured: '0.70', ok: true });
  });

  it('CPU per request: each round its share over its throughput, the median over the rounds', () => {
    // 90% of a core at 2,000 req/s is 0.45 ms a request; 80% at 2,500, 0.32; 100% at 2,000, 0.5.
    const c = run('c', [round(2000, { cpuPercent: { server: 90, postgres: 30 } }), round(2500, { cpuPercent: { server: 80, postgres: 30 } }), round(2000, { cpuPercent: { server: 100, postgres: 20 } })]);
    expect(cpuMsPerRequest(c, 'server')).toBe(0.45);
    expect(cpuMsPerRequest(c, 'postgres')).toBe(0.12);
    expect(cpuMsPerRequest(c, 'redis')).toBeUndefined();
    const report = {
      smoke: false,
      settings: { connections: 64, rounds: 3, durationSeconds: 6, warmupSeconds: 3, stepsPerCycle: 28, callsPerCycle: 5 },
      runs: [c],
      records: { expected: { calls: 1, steps: 1, reports: 0, inFlight: 0 }, recorded: { calls: 1, steps: 1, reports: 0 } },
    } as unknown as BenchReport;
    const verdicts = judge(report);
    expect(verdicts.find((v) => v.what.startsWith('Kalata web process CPU'))).toMatchObject({ measured: '0.450', ok: false });
    expect(verdicts.find((v) => v.what.startsWith('PostgreSQL CPU per turn'))).toMatchObject({ measured: '0.120', ok: true });
  });

  it('in a surge, a turn the caller was turned away from may be recorded, and no more', () => {
    const records = (steps: number) =>
      judge({
        smoke: false,
        settings: { connections: 64, rounds: 1, durationSeconds: 6, warmupSeconds: 0, stepsPerCycle: 28, callsPerCycle: 5 },
        runs: [],
        records: { expected: { calls: 10, steps: 100, reports: 0, inFlight: 2, turnedAway: 5 }, recorded: { calls: 10, steps, reports: 0 } },
      } as unknown as BenchReport).find((v) => v.what === 'steps recorded')!.ok;
    expect([records(99), records(100), records(107), records(108)]).toEqual([false, true, true, false]);
  });
});
