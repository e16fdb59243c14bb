/**
 * Kalata's own processes as a deployment runs them: built code started like
 * `npm run start:web` / `start:worker`, their output kept, each waited for
 * until it says it is ready, and all stopped with SIGTERM at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { builtScriptArgs } from './built.js';

export interface Proc {
  child: ChildProcess;
  output: string;
  /** a web process's address, once it said it is running */
  base?: string;
}

/** Starts `script` with `env` (over this process's), adds it to `procs`, and resolves once its output matches `ready`. */
export async function startProcess(procs: Proc[], script: 'start:web' | 'start:worker', env: Record<string, string>, ready: RegExp): Promise<Proc> {
  const child = spawn(process.execPath, await builtScriptArgs(script), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = { child, output: '' };
  procs.push(proc);
  child.stdout!.on('data', (d: Buffer) => (proc.output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (proc.output += d.toString()));
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`${script} did not start:\n${proc.output}`)), 45_000);
    const check = setInterval(() => {
      if (ready.test(proc.output)) {
        clearInterval(check);
        clearTimeout(deadline);
        proc.base = /running on (http:\/\/localhost:\d+)/.exec(proc.output)?.[1];
        resolve(proc);
      } else if (child.exitCode !== null) {
        clearInterval(check);
        clearTimeout(deadline);
        reject(new Error(`${script} exited:\n${proc.output}`));
      }
    }, 100);
  });
}

/** SIGTERM to every process still running; resolves when all have exited. */
export function stopAll(procs: readonly Proc[]): Promise<void[]> {
  return Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
          p.child.once('exit', () => resolve());
          p.child.kill('SIGTERM');
        }),
    ),
  );
}
