/**
 * The bench's CPU accounting from /proc: a process's children count, also
 * those that exit while the measurement runs (PostgreSQL backends close when
 * their pool lets them go), and never twice.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import { cpuSecondsOf, machineBusySeconds } from '../../bench/proc.js';

describe('bench CPU accounting', () => {
  it("counts a busy child that exits during the measurement in its parent's time", async () => {
    // sh spins a child for 0.5 s of wall time, waits for it, then sleeps.
    const parent = spawn('sh', ['-c', 'sleep 0.2; timeout 0.5 sh -c "while :; do :; done"; sleep 3'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 100));
      const before = cpuSecondsOf(parent.pid!, true);
      const machineBefore = machineBusySeconds();
      await new Promise((r) => setTimeout(r, 1200)); // the child has come and gone
      const used = cpuSecondsOf(parent.pid!, true) - before;
      expect(used).toBeGreaterThan(0.1);
      expect(used).toBeLessThan(0.75);
      expect(machineBusySeconds() - machineBefore).toBeGreaterThanOrEqual(used - 0.05);
    } finally {
      parent.kill();
    }
  });
});
