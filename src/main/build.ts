/**
 * `npm run build`: the JavaScript the long-running processes run (`npm start`,
 * `start:web`, `start:worker`, the Docker image). Each TypeScript file of
 * `src/` and `migrations/` becomes one file under `dist/`, in the same place;
 * the console's templates and assets are copied beside them.
 *
 * Why not run the sources with tsx, as the commands do: tsx's loader runs in a
 * thread of its own for the life of the process, about 40 MB of memory for
 * nothing once the modules are loaded (bench: a web process's peak RSS fell
 * from 204 to 152 MB). esbuild only strips the types (about 0.2 s); `npm run
 * typecheck` is what checks them.
 */
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { runMain } from './run-main.js';

/**
 * Writes `dist/` afresh (a removed source leaves no stale module behind).
 * `out` must lie inside `root`, where node_modules is found; the bench and
 * the tests build into a folder of their own under `.tmp/`, so that they never
 * replace the modules of a process that is running from `dist/`.
 */
export async function buildDist(root = process.cwd(), out = join(root, 'dist')): Promise<string> {
  rmSync(out, { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: ['src/**/*.ts', 'migrations/**/*.ts'],
    outdir: relative(root, out),
    outbase: '.',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  for (const dir of ['src/web/views', 'src/web/assets']) cpSync(join(root, dir), join(out, dir), { recursive: true });
  return out;
}

/**
 * The node arguments of an npm script that runs built code (`start`,
 * `start:web`, `start:worker`), with `dist/` pointed at `out`: what the bench
 * and the tests start, so that they run exactly what the script runs.
 */
export function scriptNodeArgs(root: string, script: string, out: string): string[] {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const [command, ...args] = (scripts[script] ?? '').trim().split(/\s+/);
  if (command !== 'node') throw new Error(`npm script ${script} is expected to run node`);
  return args.map((a) => (a.startsWith('dist/') ? join(out, a.slice('dist/'.length)) : a));
}

// Run as a command; imported (by the bench and the tests), it only exports buildDist.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runMain(async () => {
    await buildDist();
  });
}
