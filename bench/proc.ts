/**
 * What the bench reads from /proc (Linux) about the processes of a run: CPU
 * time of the web process, PostgreSQL (the postmaster and every backend) and
 * Redis while the load ran, the whole machine's busy time (on a small machine
 * they share the same cores as the load generator, which is what bounds the
 * throughput of two processes), and a process's memory.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  ppid: number;
  /** user + system time of the process itself */
  seconds: number;
  /** user + system time of its children that have exited (and been waited for) */
  reapedSeconds: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces: count fields after it.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
      reapedSeconds: (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND,
    };
  } catch {
    return undefined; // gone, or not Linux
  }
}

/**
 * CPU seconds used so far by `pid`, plus, when `children` (PostgreSQL's
 * backends), by its direct children: those alive now, and those that have
 * exited (counted in the parent's stat once reaped), so that a backend that
 * closes during a measurement still counts, and only once.
 */
export function cpuSecondsOf(pid: number, children = false): number {
  const own = procStat(pid);
  let total = (own?.seconds ?? 0) + (children ? (own?.reapedSeconds ?? 0) : 0);
  if (!children) return total;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat?.ppid === pid) total += stat.seconds;
  }
  return total;
}

/** CPU seconds the whole machine spent busy so far (all cores; idle and I/O wait excluded), from /proc/stat. */
export function machineBusySeconds(): number {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    const ticks = fields.slice(0, 8).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    return (total - ticks[3]! - ticks[4]!) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

export interface CpuProbe {
  name: string;
  pid: number;
  children?: boolean;
}

/**
 * Starts counting; the function it returns gives each probe's share of one
 * core since then, in percent, and `machine`: all cores' busy time, whoever
 * used it (up to 100 times the number of cores).
 */
export function startCpuCount(probes: readonly CpuProbe[]): () => Record<string, number> {
  const began = performance.now();
  const before = probes.map((p) => cpuSecondsOf(p.pid, p.children));
  const machineBefore = machineBusySeconds();
  return () => {
    const wall = (performance.now() - began) / 1000;
    const shares: Record<string, number> = { machine: Math.round((100 * (machineBusySeconds() - machineBefore)) / wall) };
    probes.forEach((p, i) => {
      shares[p.name] = (shares[p.name] ?? 0) + Math.round((100 * (cpuSecondsOf(p.pid, p.children) - before[i]!)) / wall);
    });
    return shares;
  };
}

/** A memory figure of /proc/PID/status, in MB: VmHWM is the most the process ever held, VmRSS what it holds now. */
export function memoryMbOf(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024);
}
