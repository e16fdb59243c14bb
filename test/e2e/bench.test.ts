/**
 * `npm run bench -- --smoke`: a few seconds of every setup, to check that the
 * bench still runs end to end (servers, load, record verification). Speed is
 * not judged here: a smoke run is too short, and CI machines vary.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { BenchReport } from '../../bench/report.js';
import { freshDatabase } from '../support/databases.js';

describe('npm run bench -- --smoke', () => {
  it('runs every setup, answers every call correctly and finds every record', async () => {
    const resultsDir = mkdtempSync(join(tmpdir(), 'kalata-bench-results-'));
    const env = {
      ...process.env,
      BENCH_REDIS_URL: process.env.TEST_REDIS_URL!,
      BENCH_DATABASE_URL: await freshDatabase('bench smoke'),
      BENCH_RESULTS_DIR: resultsDir,
    };
    let output = '';
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('exit', resolve);
    });
    expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
    expect(output).toMatch(/\| \(c\) Kalata, realistic mix\s+\|\s+\d+ \|/);

    const report = JSON.parse(readFileSync(join(resultsDir, 'latest-smoke.json'), 'utf8')) as BenchReport;
    expect(report.runs.map((r) => r.name)).toEqual(['a', 'b', 'e', 'c', 'i', 'd', 'v', 's']);
    for (const run of report.runs) {
      // The surge is one load at a fixed pace, after the rounds.
      expect(run.rounds).toHaveLength(run.name === 's' ? 1 : report.settings.rounds);
      expect(run.result.answered).toBeGreaterThan(0);
      // The servers' CPU time was read from /proc while the load ran (and the load generator's own).
      expect(run.result.cpuPercent.server).toBeGreaterThan(0);
      expect(run.result.cpuPercent.load).toBeGreaterThan(0);
      expect(run.result.cpuPercent.machine).toBeGreaterThan(0);
      // In the surge an apology is an answer, counted and reported; everywhere else a wrong answer fails.
      if (run.name !== 's') expect(run.result.wrongAnswers).toBe(0);
      expect(run.peakRssMb.every((mb) => mb > 0)).toBe(true);
    }
    const { expected, recorded } = report.records;
    expect(expected.calls).toBeGreaterThan(0);
    expect(recorded.calls).toBeGreaterThanOrEqual(expected.calls);
    expect(recorded.steps).toBeGreaterThanOrEqual(expected.steps);
    expect(recorded.steps).toBeLessThanOrEqual(expected.steps + expected.inFlight);
    expect(report.verdicts!.filter((v) => v.fatal).every((v) => v.ok)).toBe(true);
    const surge = report.runs.find((r) => r.name === 's')!;
    expect(surge.offered!.rate).toBe(5 * report.runs.find((r) => r.name === 'c')!.result.requestsPerSecond);
    expect(output).toMatch(/Surge \(s\), open loop: callers arriving at \d+ req\/s/);
    expect(report.engine!.stepsPerSecond).toBeGreaterThan(0);
    expect(report.sms!.sentRows).toBe(report.sms!.messages);
  }, 120_000);
});
