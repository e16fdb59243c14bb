/**
 * A version's content as data: every flow and locale file, by its path under
 * the content root (`flows/main.yaml`, `locales/bm/report.json`). Read from a
 * folder, written back to one (for git, or for the checker), and hashed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** path under the content root → the file's text */
export type ContentFiles = Readonly<Record<string, string>>;

/** The paths a version may hold: flows are YAML, texts are JSON, one folder per language. */
export const CONTENT_PATH = /^(flows\/[A-Za-z0-9_-][A-Za-z0-9_.-]*\.ya?ml|locales\/[a-z]{2,3}\/[A-Za-z0-9_-][A-Za-z0-9_.-]*\.json|locales\/[A-Za-z0-9_-][A-Za-z0-9_.-]*\.json)$/;

/** One file's text is at most this long, and a version at most this many files: content, not data. */
export const MAX_FILE_BYTES = 512 * 1024;
export const MAX_FILES = 200;

export class ContentError extends Error {
  override name = 'ContentError';
}

/** The flows/ and locales/ folders under `root` (either may be given apart). */
export interface ContentDirs {
  flowsDir: string;
  localesDir: string;
}

export function readContentDirs(dirs: ContentDirs): ContentFiles {
  const files: Record<string, string> = {};
  const add = (path: string, full: string) => {
    if (!CONTENT_PATH.test(path)) return;
    const text = readFileSync(full, 'utf8');
    if (Buffer.byteLength(text) > MAX_FILE_BYTES) throw new ContentError(`${path}: more than ${MAX_FILE_BYTES / 1024} KB`);
    files[path] = text;
  };
  if (!existsSync(dirs.flowsDir)) throw new ContentError(`no flows folder at ${dirs.flowsDir}`);
  if (!existsSync(dirs.localesDir)) throw new ContentError(`no locales folder at ${dirs.localesDir}`);
  for (const name of readdirSync(dirs.flowsDir).sort()) add(`flows/${name}`, join(dirs.flowsDir, name));
  for (const entry of readdirSync(dirs.localesDir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isDirectory()) {
      for (const name of readdirSync(join(dirs.localesDir, entry.name)).sort()) add(`locales/${entry.name}/${name}`, join(dirs.localesDir, entry.name, name));
    } else {
      add(`locales/${entry.name}`, join(dirs.localesDir, entry.name));
    }
  }
  if (Object.keys(files).length > MAX_FILES) throw new ContentError(`more than ${MAX_FILES} files`);
  return files;
}

/** The folders of a content root: `root/flows` and `root/locales`. */
export const dirsOf = (root: string): ContentDirs => ({ flowsDir: join(root, 'flows'), localesDir: join(root, 'locales') });

/** The same content always has the same hash, whatever order its files come in. */
export function contentHash(files: ContentFiles): string {
  const h = createHash('sha256');
  for (const path of Object.keys(files).sort()) h.update(path).update('\0').update(files[path]!).update('\0');
  return h.digest('hex').slice(0, 16);
}

/** Checks a version's paths and sizes before it is stored or written out. */
export function checkContentFiles(files: unknown): ContentFiles {
  if (!files || typeof files !== 'object' || Array.isArray(files)) throw new ContentError('content must be an object of file path → text');
  const entries = Object.entries(files as Record<string, unknown>);
  if (entries.length > MAX_FILES) throw new ContentError(`more than ${MAX_FILES} files`);
  for (const [path, text] of entries) {
    if (!CONTENT_PATH.test(path)) throw new ContentError(`${path}: not a flow (flows/*.yaml) or a text file (locales/LANG/*.json)`);
    if (typeof text !== 'string') throw new ContentError(`${path}: not text`);
    if (Buffer.byteLength(text) > MAX_FILE_BYTES) throw new ContentError(`${path}: more than ${MAX_FILE_BYTES / 1024} KB`);
  }
  return files as ContentFiles;
}

/**
 * Writes `files` as `root/flows/…` and `root/locales/…`. With `replace`, the
 * two folders hold exactly this version afterwards (files it lacks are gone);
 * the folders are swapped in whole, so a reader never sees half of a version.
 */
export function writeContentDir(files: ContentFiles, root: string, { replace = false } = {}): void {
  checkContentFiles(files);
  const staging = `${root}.writing-${process.pid}-${Date.now()}`;
  rmSync(staging, { recursive: true, force: true });
  for (const [path, text] of Object.entries(files)) {
    const full = join(staging, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
  mkdirSync(join(staging, 'flows'), { recursive: true });
  mkdirSync(join(staging, 'locales'), { recursive: true });
  mkdirSync(root, { recursive: true });
  for (const folder of ['flows', 'locales']) {
    const target = join(root, folder);
    if (existsSync(target)) {
      if (!replace && readdirSync(target).length > 0) throw new ContentError(`${target} is not empty (use --force to replace it)`);
      rmSync(target, { recursive: true, force: true });
    }
    renameSync(join(staging, folder), target);
  }
  rmSync(staging, { recursive: true, force: true });
}
