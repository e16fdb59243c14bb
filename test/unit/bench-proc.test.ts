/**
 * The bench's CPU accounting from /proc: a process's children count, also
 * those that exit while the measurement runs (PostgreSQL backends close when
 * their pool lets them go), and never twice.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import { cpuSecondsOf, machineBusySeconds } from '../../bench/proc.js';

describe('bench CPU accounting', () => {
  it("counts a busy child that exits during the measurement in its parent's time, as the shell itself counts it", async () => {
    // The shell waits for a line, runs a fixed amount of work in a child that exits, reports its
    // children's CPU time (`times`), then sleeps: no wall-clock guess about the machine's load.
    const parent = spawn('sh', ['-c', 'read go; awk "BEGIN{for(i=0;i<4000000;i++)s+=i}"; times; exec sleep 30'], { stdio: ['pipe', 'pipe', 'ignore'] });
    try {
      let out = '';
      const reported = new Promise<number>((resolve) => {
        parent.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          // second line of `times`: the children's user and system time, e.g. "0m0.470000s 0m0.010000s"
          const line = out.split('\n')[1];
          const m = line ? /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(line) : null;
          if (m) resolve(Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]));
        });
      });
      await new Promise((r) => setTimeout(r, 50));
      const before = cpuSecondsOf(parent.pid!, true);
      const machineBefore = machineBusySeconds();
      parent.stdin.write('go\n');
      const child = await reported; // the child has come and gone
      const used = cpuSecondsOf(parent.pid!, true) - before;
      expect(child).toBeGreaterThan(0);
      // the same time, to the clock tick (and the shell's own bit of work)
      expect(Math.abs(used - child)).toBeLessThanOrEqual(0.03 + child * 0.1);
      expect(machineBusySeconds() - machineBefore).toBeGreaterThanOrEqual(used - 0.05);
    } finally {
      parent.kill();
    }
  });
});
