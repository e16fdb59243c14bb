/**
 * `npm run build`: the JavaScript the long-running processes run (`npm start`,
 * `start:web`, `start:worker`, the Docker image). Each TypeScript file of
 * `src/` and `migrations/` becomes one file under `dist/`, in the same place;
 * the console's templates, assets and catalogues are copied beside them, and
 * the menu editor's script is bundled with CodeMirror.
 *
 * Why not run the sources with tsx, as the commands do: tsx's loader runs in a
 * thread of its own for the life of the process, about 40 MB of memory for
 * nothing once the modules are loaded (bench: a web process's peak RSS fell
 * from 204 to 152 MB). esbuild only strips the types (about 0.2 s); `npm run
 * typecheck` is what checks them.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { bundleEditor } from '../web/editor/bundle.js';
import { runMain } from './run-main.js';

/**
 * Writes `dist/` afresh (a removed source leaves no stale module behind).
 * The new tree is built beside it and swapped in by renaming, so processes
 * already running from `dist/` (several start:web and a start:worker) never
 * see a half-written folder, and two builds at once do not trip over each
 * other: the last to finish wins, with the same content.
 *
 * `out` must lie inside `root`, where node_modules is found; the bench and
 * the tests build into a folder of their own under `.tmp/`.
 */
export async function buildDist(root = process.cwd(), out = join(root, 'dist')): Promise<string> {
  const unique = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const fresh = join(dirname(out), `.${basename(out)}-building-${unique}`);
  try {
    await build({
      absWorkingDir: root,
      entryPoints: ['src/**/*.ts', 'migrations/**/*.ts'],
      outdir: relative(root, fresh),
      outbase: '.',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'linked',
      logLevel: 'warning',
    });
    for (const dir of ['src/web/views', 'src/web/assets', 'src/web/locales']) cpSync(join(root, dir), join(fresh, dir), { recursive: true });
    // The menu editor's browser code, with CodeMirror, as one script beside the other assets.
    writeFileSync(join(fresh, 'src', 'web', 'assets', 'editor.js'), await bundleEditor());
    const old = join(dirname(out), `.${basename(out)}-old-${unique}`);
    try {
      renameSync(out, old);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    try {
      renameSync(fresh, out);
    } catch (err) {
      // Another build put its tree in place between our two renames: it is as new as ours.
      if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    rmSync(old, { recursive: true, force: true });
    return out;
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
}

/**
 * The node arguments of an npm script that runs built code (`start`,
 * `start:web`, `start:worker`), with `dist/` pointed at `out`: what the bench
 * and the tests start, so that they run exactly what the script runs.
 */
export function scriptNodeArgs(root: string, script: string, out: string): string[] {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  // `exec node …`: the shell npm starts hands its place to node, so signals sent to npm's child reach node.
  const [exec, command, ...args] = (scripts[script] ?? '').trim().split(/\s+/);
  if (exec !== 'exec' || command !== 'node') throw new Error(`npm script ${script} is expected to be "exec node …"`);
  return args.map((a) => (a.startsWith('dist/') ? join(out, a.slice('dist/'.length)) : a));
}

// Run as a command; imported (by the bench and the tests), it only exports buildDist.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runMain(async () => {
    await buildDist();
  });
}
