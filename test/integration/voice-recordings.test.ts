/**
 * The voice line from recordings (issue 17): fixture prompts made here with
 * espeak-ng (never downloaded), published with the content as media
 * references, converted by ffmpeg and served back to back. Bambara, which
 * has no text-to-speech, is offered only once every prompt it needs is
 * recorded; then its menus are played, not read. A recording made for
 * words its text no longer says is flagged.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { voiceLanguages } from '../../src/channels/voice/voice-prompts.js';
import { wordsHash } from '../../src/content/media-id.js';
import { checkFlows } from '../../src/flows/flow-set.js';
import { loadConfig } from '../../src/config/config.js';
import { flowOptions } from '../../src/flows/flow-set.js';
import { contentCopy } from '../support/content.js';
import { startHarness, type Harness } from '../support/harness.js';
import { voiceCaller } from '../support/voice-at.js';

const content = contentCopy('kalata-voice-');
const recordings = join(dirname(content.LOCALES_DIR), 'recordings');
const optionsOf = () => flowOptions(loadConfig({ FLOWS_DIR: content.FLOWS_DIR, LOCALES_DIR: content.LOCALES_DIR }));

/** A spoken clip, as a WAV file, by espeak-ng. */
function clip(file: string, words: string): void {
  mkdirSync(dirname(file), { recursive: true });
  execFileSync('espeak-ng', ['-v', 'fr', '-s', '220', '-w', file, words]);
}

/** Every prompt Bambara needs: a few clips of their own (to follow them in the joined audio), the others one shared clip. */
function recordBambara(): string[] {
  const coverage = checkFlows(optionsOf()).recordings!.find((c) => c.lang === 'bm')!;
  const shared = join(recordings, '.shared.wav');
  clip(shared, 'kalata');
  for (const ref of coverage.missing) {
    const file = join(recordings, 'bm', `${ref}.wav`);
    mkdirSync(dirname(file), { recursive: true });
    if (ref === 'main/home.title' || ref === 'voice/key.1') clip(file, ref);
    else copyFileSync(shared, file);
  }
  rmSync(shared);
  return coverage.missing;
}

let h: Harness;
let needed: string[];
beforeAll(async () => {
  needed = recordBambara();
  h = await startHarness('voice recordings', { env: { FLOWS_DIR: content.FLOWS_DIR, LOCALES_DIR: content.LOCALES_DIR } });
}, 120_000);
afterAll(() => h.close());

describe('Bambara from recordings', () => {
  it('measures what is recorded per language, and offers Bambara only when it is complete', () => {
    const whole = checkFlows(optionsOf());
    const bm = whole.recordings!.find((c) => c.lang === 'bm')!;
    expect(bm).toMatchObject({ have: needed.length, needed: needed.length, missing: [] });
    expect(needed.length).toBeGreaterThan(150);
    // Parts between placeholders are recorded apart, and the keys said after each option.
    expect(needed).toEqual(expect.arrayContaining(['main/home.title', 'voice/press.1', 'voice/nav.back.1', 'voice/key.1', 'voice/key.star']));
    expect(voiceLanguages(whole.flows!, { tts: new Set(['fr']) })).toEqual(['fr', 'bm']);

    rmSync(join(recordings, 'bm', 'main', 'home.title.wav'));
    try {
      const partial = checkFlows(optionsOf());
      expect(partial.recordings!.find((c) => c.lang === 'bm')).toMatchObject({ have: needed.length - 1, missing: ['main/home.title'] });
      expect(partial.problems).toContainEqual(expect.objectContaining({ severity: 'warning', message: expect.stringMatching(/^\d+ of \d+ voice prompts recorded in Bamanankan \(missing main\/home\.title\)$/) }));
      expect(voiceLanguages(partial.flows!, { tts: new Set(['fr']) })).toEqual(['fr']);
    } finally {
      clip(join(recordings, 'bm', 'main', 'home.title.wav'), 'main/home.title');
    }
  });

  it('offers Bamanankan in its own voice, then plays its menus as one joined recording', async () => {
    const call = voiceCaller(h.base, { sessionId: `ATVId_bm${Date.now()}`, callerNumber: '+22376990001' });
    const first = await call.start();
    // French by text-to-speech, then the Bambara option from its recordings, which the caller can answer over.
    const tags = first.actions.map((a) => a.tag);
    expect(tags).toEqual(['Say', 'GetDigits', 'Redirect']);
    expect(first.actions[0]!.text).toMatch(/Français, tapez un\.$/);
    const bambara = first.actions[1]!.children[0]!;
    expect(bambara.tag).toBe('Play');
    expect(bambara.attrs.url).toMatch(new RegExp(`^${h.base}/voice/media/([0-9a-f]{32}-)+[0-9a-f]{32}\\.mp3$`));

    const home = await call.press('2');
    expect(home.actions.map((a) => a.tag)).toEqual(['GetDigits', 'Redirect']);
    const played = home.actions[0]!.children[0]!;
    expect(played.tag).toBe('Play');
    const ids = /\/voice\/media\/(.+)\.mp3$/.exec(played.attrs.url!)![1]!.split('-');
    // home.title first (its own clip), then each option and its key.
    const stored = await h.ctx.db.withTables<{ media: { id: string; audio: Buffer } }>().selectFrom('media').select(['id', 'audio']).execute();
    const bytes = new Map(stored.map((m) => [m.id, m.audio.length]));
    expect(ids.every((id) => bytes.has(id))).toBe(true);
    expect(new Set(ids).size).toBeGreaterThanOrEqual(3);

    const audio = await fetch(played.attrs.url!);
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toBe('audio/mpeg');
    expect(audio.headers.get('cache-control')).toContain('immutable');
    const body = Buffer.from(await audio.arrayBuffer());
    expect(body.length).toBe(ids.reduce((n, id) => n + bytes.get(id)!, 0));
    // MPEG audio frames from the first byte: no tag that would be heard between joined prompts.
    expect(body[0]).toBe(0xff);
    expect(body[1]! & 0xe0).toBe(0xe0);
  });

  it('serves only stored prompts', async () => {
    expect((await fetch(`${h.base}/voice/media/${'0'.repeat(32)}.mp3`)).status).toBe(404);
    expect((await fetch(`${h.base}/voice/media/../../etc/passwd`)).status).toBe(404);
    expect((await fetch(`${h.base}/voice/media/${'a'.repeat(32)}.wav`)).status).toBe(404);
  });
});

describe('recordings with the content', () => {
  it('refuses a file ffmpeg cannot read, naming it', async () => {
    const { convertPrompt } = await import('../../src/content/media-store.js');
    await expect(convertPrompt(Buffer.from('not audio at all'))).rejects.toThrow('not an audio file');
    const silent = join(recordings, '..', 'silence.wav');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-t', '2', '-y', silent]);
    await expect(convertPrompt(execFileSync('cat', [silent]))).rejects.toThrow('silent');
  });
});

describe('a recording older than its text', () => {
  it('is flagged by the checker once the text changes after it was recorded', () => {
    const own = contentCopy('kalata-voice-words-');
    const dir = join(dirname(own.LOCALES_DIR), 'recordings');
    clip(join(dir, 'bm', 'main', 'home.title.wav'), 'kalata');
    const words = JSON.parse(readFileSync(join(own.LOCALES_DIR, 'bm', 'main.json'), 'utf8')).home.title as string;
    writeFileSync(join(dir, 'recorded.json'), JSON.stringify({ 'bm/main/home.title': wordsHash(words) }));
    const options = flowOptions(loadConfig({ FLOWS_DIR: own.FLOWS_DIR, LOCALES_DIR: own.LOCALES_DIR }));
    const older = (problems: { message: string }[]) => problems.filter((p) => /older than its text/.test(p.message));
    expect(older(checkFlows(options).problems)).toEqual([]);

    const main = join(own.LOCALES_DIR, 'bm', 'main.json');
    writeFileSync(main, readFileSync(main, 'utf8').replace(JSON.stringify(words), JSON.stringify(`${words} (kura)`)));
    expect(older(checkFlows(options).problems)).toEqual([
      expect.objectContaining({ severity: 'warning', message: expect.stringMatching(/^recording of bm\/main\/home\.title is older than its text/) }),
    ]);
  });
});
