/**
 * Kalata as `npm start`, `npm run start:web` and `start:worker` run it: the
 * JavaScript `npm run build` writes, with the scripts' own node flags. Each
 * test file builds into a folder of its own (files run in parallel, and a
 * build replaces the folder), and removes it when done.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildDist, scriptNodeArgs } from '../../src/main/build.js';

const root = process.cwd();
let built: Promise<string> | undefined;
let folder: string | undefined;

/** The node arguments of an npm script (package.json), on code built for this test file. */
export async function builtScriptArgs(script: 'start' | 'start:web' | 'start:worker'): Promise<string[]> {
  folder ??= join(root, '.tmp', `jest-build-${process.pid}-${Date.now().toString(36)}`);
  built ??= buildDist(root, join(folder, 'dist'));
  return scriptNodeArgs(root, script, await built);
}

export function removeBuilt(): void {
  if (folder) rmSync(folder, { recursive: true, force: true });
  built = folder = undefined;
}
