/**
 * Checks and compiles a version's content with the same checker as the files
 * on disk (src/flows/flow-set.ts): the version is written once to a folder of
 * its own, named by its hash, and checked there. Problems name the file as the
 * version does (`flows/main.yaml:12:5`).
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFlows, type FlowCheck, type FlowSetOptions } from '../flows/flow-set.js';
import { contentHash, dirsOf, writeContentDir, type ContentFiles } from './content-files.js';

/** Where versions are written to be checked: one folder per hash, kept (a version never changes). */
const CACHE_ROOT = join(tmpdir(), `kalata-content-${process.getuid?.() ?? 'user'}`);

/** The folder holding `files`, written if this process has not written it yet. */
export function materialize(files: ContentFiles, hash = contentHash(files)): string {
  const root = join(CACHE_ROOT, hash);
  if (existsSync(join(root, 'flows')) && existsSync(join(root, 'locales'))) return root;
  // Written beside, then moved in whole: another process checking the same version never reads half of it.
  const staging = `${root}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(CACHE_ROOT, { recursive: true });
  writeContentDir(files, staging, { replace: true });
  try {
    renameSync(staging, root);
  } catch {
    // Another process moved the same version in first: same content, keep theirs.
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return root;
}

/** The check of a version's content, under the deployment's options (limits, spelling, production). */
export function checkContent(files: ContentFiles, options: FlowSetOptions): FlowCheck & { hash: string } {
  const hash = contentHash(files);
  const root = materialize(files, hash);
  return { ...checkFlows({ ...options, ...dirsOf(root), root }), hash };
}
