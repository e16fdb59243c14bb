/**
 * A version's content as data: every flow and locale file, by its path under
 * the content root (`flows/main.yaml`, `locales/bm/report.json`), and every
 * recorded prompt (`recordings/bm/main/home.title.mp3`) by reference: its
 * text is `media:<id>`, the audio itself is stored once by id
 * (src/content/media-store.ts). Read from a folder, written back to one (for
 * git, or for the checker), and hashed.
 */
import { createHash } from 'node:crypto';
import { MEDIA_REF, mediaId, wordsOf } from './media-id.js';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** path under the content root → the file's text */
export type ContentFiles = Readonly<Record<string, string>>;

/** The paths a version may hold: flows are YAML, texts are JSON, one folder per language. */
export const CONTENT_PATH =
  /^(flows\/[A-Za-z0-9_-][A-Za-z0-9_.-]*\.ya?ml|locales\/[a-z]{2,3}\/[A-Za-z0-9_-][A-Za-z0-9_.-]*\.json|locales\/[A-Za-z0-9_-][A-Za-z0-9_.-]*\.json|recordings\/[a-z]{2,3}\/[A-Za-z0-9_-]+\/[A-Za-z0-9_][A-Za-z0-9_.-]*\.(?:mp3|wav))$/;

/** A recorded prompt's path: `recordings/<lang>/<namespace or variables>/<key>.<mp3|wav>`. */
export const RECORDING_PATH = /^recordings\/([a-z]{2,3})\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_][A-Za-z0-9_.-]*)\.(mp3|wav)$/;
export const isRecordingPath = (path: string) => path.startsWith('recordings/');

/** One file's text is at most this long, and a version at most this many files: content, not data. */
export const MAX_FILE_BYTES = 512 * 1024;
export const MAX_FILES = 200;
/** Recordings are references (a line each), counted apart: a prompt per text, in every language. */
export const MAX_RECORDINGS = 5000;
/** A recording's source file (before conversion) is at most this large. */
export const MAX_RECORDING_BYTES = 8 * 1024 * 1024;

export class ContentError extends Error {
  override name = 'ContentError';
}

/** The flows/ and locales/ folders under `root` (either may be given apart), and recordings/ beside them. */
export interface ContentDirs {
  flowsDir: string;
  localesDir: string;
  /** default: `recordings` beside the locales folder */
  recordingsDir?: string;
}

export const recordingsDirOf = (dirs: ContentDirs) => dirs.recordingsDir ?? join(dirname(dirs.localesDir), 'recordings');

/** The audio of a folder's recordings by media id, to store before its version is published (a reference has none). */
export type RecordingSources = Map<string, { path: string; bytes: Buffer }>;

export function readContentDirs(dirs: ContentDirs, sources?: RecordingSources): ContentFiles {
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
  Object.assign(files, readRecordings(recordingsDirOf(dirs), sources));
  return files;
}

/**
 * Beside the audio, `recordings/recorded.json` may say which words each
 * recording says, as a hash (`{ "bm/main/home.title": "<hash>" }`): `flows
 * export` writes it, so that a text changed after its recording is flagged
 * once the folder is published again.
 */
export const RECORDED_WORDS_FILE = 'recorded.json';

function readRecordedWords(dir: string): Record<string, string> {
  const file = join(dir, RECORDED_WORDS_FILE);
  if (!existsSync(file)) return {};
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ContentError(`recordings/${RECORDED_WORDS_FILE}: JSON illisible (${(err as Error).message})`);
  }
  const out: Record<string, string> = {};
  for (const [ref, hash] of Object.entries((data ?? {}) as Record<string, unknown>)) if (typeof hash === 'string' && /^[0-9a-f]{12}$/.test(hash)) out[ref] = hash;
  return out;
}

/** The `recorded.json` of a version's recordings: the words each was recorded for, where known. */
export function recordedWordsOf(files: ContentFiles): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, ref] of Object.entries(files)) {
    const m = RECORDING_PATH.exec(path);
    const words = wordsOf(ref);
    if (m && words) out[`${m[1]}/${m[2]}/${m[3]}`] = words;
  }
  return out;
}

/**
 * The recordings under `dir` as references: an audio file becomes
 * `media:<id of its bytes>` (its bytes go to `sources`), with the hash of
 * its words from recorded.json when it is there; a file that already holds
 * a reference (a version written out for the checker) stays one.
 */
export function readRecordings(dir: string, sources?: RecordingSources): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const recorded = readRecordedWords(dir);
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const sub = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        // recordings/<lang>/<namespace>/: two levels of folders, no more.
        if (sub.split('/').length <= 2) walk(sub);
        continue;
      }
      const path = `recordings/${sub}`;
      if (!RECORDING_PATH.test(path)) continue;
      const bytes = readFileSync(join(dir, sub));
      const head = bytes.subarray(0, 64).toString('latin1');
      if (MEDIA_REF.test(head.trim())) {
        out[path] = head.trim();
        continue;
      }
      if (bytes.length > MAX_RECORDING_BYTES) throw new ContentError(`${path}: more than ${MAX_RECORDING_BYTES / 1024 / 1024} MB`);
      const id = mediaId(bytes);
      const words = recorded[sub.replace(/\.(mp3|wav)$/, '')];
      out[path] = words ? `media:${id} words:${words}` : `media:${id}`;
      sources?.set(id, { path, bytes });
    }
  };
  walk('');
  if (Object.keys(out).length > MAX_RECORDINGS) throw new ContentError(`more than ${MAX_RECORDINGS} recordings`);
  return out;
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
  const recordings = entries.filter(([path]) => isRecordingPath(path)).length;
  if (entries.length - recordings > MAX_FILES) throw new ContentError(`more than ${MAX_FILES} files`);
  if (recordings > MAX_RECORDINGS) throw new ContentError(`more than ${MAX_RECORDINGS} recordings`);
  for (const [path, text] of entries) {
    if (!CONTENT_PATH.test(path)) throw new ContentError(`${path}: not a flow (flows/*.yaml), a text file (locales/LANG/*.json) or a recording (recordings/LANG/NAMESPACE/KEY.mp3)`);
    if (typeof text !== 'string') throw new ContentError(`${path}: not text`);
    if (isRecordingPath(path) && !MEDIA_REF.test(text)) throw new ContentError(`${path}: a recording is a reference media:<id>`);
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
  for (const folder of ['flows', 'locales', 'recordings']) {
    const target = join(root, folder);
    // A version without recordings leaves no recordings folder (an old one goes with `replace`).
    if (!existsSync(join(staging, folder))) {
      if (replace) rmSync(target, { recursive: true, force: true });
      continue;
    }
    if (existsSync(target)) {
      if (!replace && readdirSync(target).length > 0) throw new ContentError(`${target} is not empty (use --force to replace it)`);
      rmSync(target, { recursive: true, force: true });
    }
    renameSync(join(staging, folder), target);
  }
  rmSync(staging, { recursive: true, force: true });
}
