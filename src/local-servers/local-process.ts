/**
 * Small process helpers shared by local-redis.ts and local-postgres.ts: free
 * ports, binary lookup, apt installs, and a supervised child process that
 * dies with its parent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';


export const isRoot = (): boolean => process.getuid?.() === 0;

/** A port that was free on 127.0.0.1 a moment ago (racy by nature: see withFreePortRetry). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts connections on 127.0.0.1:`port` right now. */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Runs `start` on a free port, picking another one when the server lost the race for it. */
export async function withFreePortRetry<T>(fixedPort: number | undefined, start: (port: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ?? (await findFreePort());
    try {
      return await start(port);
    } catch (error) {
      const retry = fixedPort === undefined && attempt < 5 && error instanceof ServerStartError && error.portInUse;
      if (!retry) throw error;
    }
  }
}

/** First executable file called `name` in PATH, then in `extraDirs`. */
export async function findExecutable(name: string, extraDirs: readonly string[] = []): Promise<string | undefined> {
  const pathDirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of [...pathDirs, ...extraDirs]) {
    const candidate = path.join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

export async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Whether a missing OS package may be installed for the user: only as root on an apt system. */
export async function canAptInstall(): Promise<boolean> {
  return isRoot() && (await findExecutable('apt-get', ['/usr/bin'])) !== undefined;
}

// Two apt-get runs at once would fight over the dpkg lock, so installs queue up.
let aptQueue: Promise<unknown> = Promise.resolve();

/** `apt-get update` + `apt-get install -y pkg`, stdout discarded, stderr shown. */
export function aptInstall(pkg: string): Promise<void> {
  const run = aptQueue.then(async () => {
    process.stderr.write(`kalata: ${pkg} is not installed, installing it with apt-get...\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    // Wait for a dpkg lock held by e.g. unattended-upgrades on a freshly booted machine.
    const lock = ['-o', 'DPkg::Lock::Timeout=300'];
    await runQuiet('apt-get', ['-qq', ...lock, 'update'], env);
    await runQuiet('apt-get', ['-qq', '-y', ...lock, 'install', '--no-install-recommends', pkg], env);
  });
  aptQueue = run.catch(() => undefined);
  return run;
}

function runQuiet(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${file} ${args.join(' ')} failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

/** A server that could not start; portInUse says whether another port may do better. */
export class ServerStartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = 'ServerStartError';
  }
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export interface SpawnManagedOptions {
  cwd?: string;
  log?: ((line: string) => void) | undefined;
  /** Signal for stop() and for the parent's exit (see spawnManaged). */
  stopSignal: NodeJS.Signals;
  /** Run as this user (requires root; node switches ids before exec). */
  uid?: number;
  gid?: number;
  /** The child's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

const OUTPUT_TAIL_LINES = 30;

/** Children still running, killed when this process exits. */
const liveChildren = new Set<ManagedProcess>();
let exitHookInstalled = false;

/** A child process whose output is kept (last lines) and which never outlives us. */
export class ManagedProcess {
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  private readonly tail: string[] = [];
  private readonly closed: Promise<void>;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly child: ChildProcess,
    private readonly stopSignal: NodeJS.Signals,
    log: ((line: string) => void) | undefined,
  ) {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        this.tail.push(line);
        if (this.tail.length > OUTPUT_TAIL_LINES) this.tail.shift();
        log?.(line);
      });
    }
    this.closed = new Promise((resolve) => child.once('close', () => resolve()));
    this.exited = new Promise((resolve) => {
      const done = (info: ExitInfo): void => {
        if (this.exitInfo) return;
        this.exitInfo = info;
        liveChildren.delete(this);
        resolve(info);
      };
      child.once('exit', (code, signal) => done({ code, signal }));
      // 'on', not 'once': a later failed kill() also emits 'error', which must not go unhandled.
      child.on('error', (error) => done({ code: null, signal: null, error }));
    });
    liveChildren.add(this);
  }

  /**
   * Lets the event loop end while the child still runs: a server that is up
   * must not keep a script alive on its own (the exit hook then kills it).
   */
  unref(): void {
    this.child.unref();
    for (const stream of [this.child.stdout, this.child.stderr]) (stream as net.Socket | null)?.unref?.();
  }

  /** The last lines the child printed. */
  output(): string {
    return this.tail.join('\n');
  }

  /** Sends the stop signal and waits for the exit, escalating to SIGKILL after timeoutMs. */
  stop(timeoutMs = 10_000): Promise<void> {
    this.stopping ??= (async () => {
      if (this.exitInfo) return;
      this.child.ref(); // keep the loop alive while we wait for the exit
      this.child.kill(this.stopSignal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    })();
    return this.stopping;
  }

  /** How the child ended and its last lines, once it has exited. */
  async describeExit(): Promise<{ how: string; output: string }> {
    await Promise.race([this.closed, delay(500)]); // let the last lines arrive
    const info = this.exitInfo;
    const how = info?.error ? info.error.message : info?.signal ? `signal ${info.signal}` : `exit code ${info?.code}`;
    return { how, output: this.output() };
  }

  /** The error to report once the child has exited during start-up. */
  async startFailure(what: string): Promise<ServerStartError> {
    const { how, output } = await this.describeExit();
    return new ServerStartError(
      `${what} exited before accepting connections (${how})${output ? `:\n${output}` : ''}`,
      /address already in use/i.test(output),
    );
  }

  /** Called from the 'exit' event: synchronous by necessity. */
  killNow(): void {
    try {
      this.child.kill(this.stopSignal);
    } catch {
      // already gone
    }
  }
}

let setprivPath: Promise<string | undefined> | undefined;

/**
 * Spawns a supervised child. It is killed when this process exits normally
 * ('exit' hook) and, where util-linux `setpriv` exists (always on Debian and
 * Ubuntu), also when this process is killed: `setpriv --pdeathsig` makes the
 * kernel deliver the stop signal to the child when its parent dies.
 */
export async function spawnManaged(file: string, args: string[], opts: SpawnManagedOptions): Promise<ManagedProcess> {
  setprivPath ??= findExecutable('setpriv', ['/usr/bin']);
  const setpriv = await setprivPath;
  const [command, commandArgs] = setpriv
    ? [setpriv, ['--pdeathsig', opts.stopSignal, '--', file, ...args]]
    : [file, args];
  const child = spawn(command, commandArgs, {
    cwd: opts.cwd,
    uid: opts.uid,
    gid: opts.gid,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const proc of liveChildren) proc.killNow();
    });
  }
  return new ManagedProcess(child, opts.stopSignal, opts.log);
}

/** Polls `probe` until it says yes; fails early if the child exits, or after timeoutMs. */
export async function waitUntilReady(proc: ManagedProcess, probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitInfo) throw await proc.startFailure(what);
    if (await probe()) return;
    if (proc.exitInfo) throw await proc.startFailure(what);
    if (Date.now() > deadline) {
      await proc.stop(1000);
      const output = proc.output();
      throw new ServerStartError(
        `${what} did not accept connections within ${timeoutMs / 1000} s${output ? `:\n${output}` : ''}`,
        false,
      );
    }
    await delay(50);
  }
}
