/**
 * Recorded prompts as the voice line plays them. A recording given as a file
 * (a folder published with `npm run flows -- publish --dir`, the repo's own
 * content at boot, a console upload) is converted once with ffmpeg to what
 * the telephone network carries well (mono MP3, 16 kHz, 32 kbit/s, loudness
 * normalized to -16 LUFS, no tags, so that prompts can be played back to back
 * by joining their bytes) and stored by the id of the file it came from.
 *
 * @example
 * const sources: RecordingSources = new Map();
 * const files = readContentDirs(dirs, sources);
 * await storeRecordings(db, sources); // before publishing `files`
 */
import { spawn } from 'node:child_process';
import { sql, type ColumnType, type Kysely } from 'kysely';
import type { Db } from '../store/database.js';
import { isRecordingPath, type ContentFiles, type RecordingSources } from './content-files.js';
import { MEDIA_ID, mediaOf } from './media-id.js';

type MediaTable = {
  id: string;
  audio: Buffer;
  duration_ms: number;
  source_bytes: number;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
};
type MediaDb = Kysely<{ media: MediaTable }>;
const tables = (db: Db): MediaDb => db.withTables<{ media: MediaTable }>() as unknown as MediaDb;

/** The bit rate of stored prompts: 32 kbit/s, 4 bytes a millisecond. */
const BITRATE = 32_000;
/** A prompt is at most this long, and at least this long (a click is no prompt). */
export const MAX_PROMPT_MS = 120_000;
export const MIN_PROMPT_MS = 300;

export class MediaError extends Error {
  override name = 'MediaError';
}

/** Whether ffmpeg can be run here (the voice line's recordings need it; TTS does not). */
export async function hasFfmpeg(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('ffmpeg', ['-version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
}

/**
 * Converts any audio ffmpeg reads (WAV, MP3, OGG, WebM from a browser's
 * microphone) to the stored form, and measures it. Refuses what is not audio,
 * silence, and what is too short or too long.
 */
export async function convertPrompt(source: Uint8Array): Promise<{ audio: Buffer; durationMs: number; meanVolumeDb: number }> {
  const args = [
    '-hide_banner', '-nostdin', '-loglevel', 'info',
    '-i', 'pipe:0',
    '-vn', '-ac', '1', '-ar', '16000',
    // Every prompt at the same loudness, whoever recorded it and with what; then measured.
    '-af', 'loudnorm=I=-16:TP=-1.5:LRA=11,volumedetect',
    '-codec:a', 'libmp3lame', '-b:a', '32k',
    '-write_xing', '0', '-id3v2_version', '0', '-map_metadata', '-1',
    '-f', 'mp3', 'pipe:1',
  ];
  const { stdout, stderr, code } = await new Promise<{ stdout: Buffer; stderr: string; code: number | null }>((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', (e) => reject(new MediaError(`ffmpeg could not be run (${e.message}): install it (Debian: apt-get install ffmpeg)`)));
    child.on('close', (c) => resolve({ stdout: Buffer.concat(out), stderr: err, code: c }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(Buffer.from(source));
  });
  if (code !== 0 || !stdout.length) throw new MediaError('not an audio file ffmpeg can read');
  const durationMs = Math.round((stdout.length * 8 * 1000) / BITRATE);
  const mean = /mean_volume:\s*(-?[\d.]+|-inf) dB/.exec(stderr)?.[1];
  const meanVolumeDb = mean === undefined || mean === '-inf' ? -Infinity : Number(mean);
  if (durationMs < MIN_PROMPT_MS) throw new MediaError(`too short (${durationMs} ms): a prompt lasts at least ${MIN_PROMPT_MS} ms`);
  if (durationMs > MAX_PROMPT_MS) throw new MediaError(`too long (${Math.round(durationMs / 1000)} s): a prompt lasts at most ${MAX_PROMPT_MS / 1000} s`);
  // After normalization speech sits around -20 dB; a file near silence stays far below.
  if (meanVolumeDb < -50) throw new MediaError('silent: nothing can be heard in it');
  return { audio: stdout, durationMs, meanVolumeDb };
}

/** The ids among `ids` that are stored. */
export async function storedMedia(db: Db, ids: readonly string[]): Promise<Set<string>> {
  const wanted = [...new Set(ids)].filter((id) => MEDIA_ID.test(id));
  const found = new Set<string>();
  for (let i = 0; i < wanted.length; i += 1000) {
    const rows = await tables(db).selectFrom('media').select('id').where('id', 'in', wanted.slice(i, i + 1000)).execute();
    for (const r of rows) found.add(r.id);
  }
  return found;
}

/**
 * Converts and stores every recording of `sources` not stored yet. Each
 * problem names the file (`recordings/bm/main/home.title.wav: too short`);
 * what converted is stored even when another file fails.
 */
export async function storeRecordings(db: Db, sources: RecordingSources): Promise<{ stored: number; problems: string[] }> {
  const have = await storedMedia(db, [...sources.keys()]);
  const problems: string[] = [];
  let stored = 0;
  for (const [id, { path, bytes }] of sources) {
    if (have.has(id)) continue;
    try {
      await putMedia(db, id, await convertPrompt(bytes), bytes.length);
      stored += 1;
    } catch (err) {
      problems.push(`${path}: ${(err as Error).message}`);
    }
  }
  return { stored, problems };
}

/** Stores converted audio under the id of the file it came from (a second store of the same id changes nothing). */
export async function putMedia(db: Db, id: string, converted: { audio: Buffer; durationMs: number }, sourceBytes: number): Promise<void> {
  await tables(db)
    .insertInto('media')
    .values({ id, audio: converted.audio, duration_ms: converted.durationMs, source_bytes: sourceBytes })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** The length of each stored prompt among `ids`, in milliseconds. */
export async function mediaDurations(db: Db, ids: readonly string[]): Promise<Map<string, number>> {
  const wanted = [...new Set(ids)].filter((id) => MEDIA_ID.test(id));
  const out = new Map<string, number>();
  if (!wanted.length) return out;
  for (const r of await tables(db).selectFrom('media').select(['id', 'duration_ms']).where('id', 'in', wanted).execute()) out.set(r.id, r.duration_ms);
  return out;
}

/** The recordings a version refers to that are not stored: a publish with any is refused. */
export async function missingRecordings(db: Db, files: ContentFiles): Promise<string[]> {
  const refs = Object.entries(files).filter(([path]) => isRecordingPath(path));
  if (!refs.length) return [];
  const have = await storedMedia(db, refs.map(([, ref]) => mediaOf(ref) ?? ''));
  return refs.filter(([, ref]) => !have.has(mediaOf(ref) ?? '')).map(([path]) => path);
}

/**
 * Reads stored prompts, keeping the most recent in memory (prompts are small:
 * a 5 s prompt is 20 KB) up to `maxBytes`.
 */
export function createMediaReader(db: Db, { maxBytes = 32 * 1024 * 1024 } = {}) {
  const cache = new Map<string, Buffer>();
  let size = 0;
  return {
    async get(id: string): Promise<Buffer | undefined> {
      const hit = cache.get(id);
      if (hit) {
        cache.delete(id);
        cache.set(id, hit);
        return hit;
      }
      if (!MEDIA_ID.test(id)) return undefined;
      const row = await tables(db).selectFrom('media').select('audio').where('id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      const audio = Buffer.from(row.audio);
      cache.set(id, audio);
      size += audio.length;
      while (size > maxBytes && cache.size > 1) {
        const [oldest, bytes] = cache.entries().next().value as [string, Buffer];
        cache.delete(oldest);
        size -= bytes.length;
      }
      return audio;
    },
  };
}
export type MediaReader = ReturnType<typeof createMediaReader>;

/** How many prompts are stored, and their total length (the console's prompts page). */
export async function mediaTotals(db: Db): Promise<{ count: number; seconds: number }> {
  const row = await tables(db)
    .selectFrom('media')
    .select([sql<number>`count(*)::int`.as('count'), sql<number>`coalesce(sum(duration_ms), 0)::int`.as('ms')])
    .executeTakeFirstOrThrow();
  return { count: row.count, seconds: Math.round(row.ms / 1000) };
}
