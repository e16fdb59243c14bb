/**
 * The console's « Annonces vocales » (issue 17, item 3): an admin uploads a
 * prompt's audio (made here with espeak-ng), which is converted, stored and
 * published as a new content version; the voice line then plays it. Refused:
 * an operator, a missing CSRF token, a prompt the content does not say, a
 * file that is not audio, a silent one. Removal is a version too; both are
 * audited.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { liveVersion } from '../../src/content/version-store.js';
import { addUser } from '../../src/store/user-store.js';
import { contentCopy } from '../support/content.js';
import { startHarness, type Harness } from '../support/harness.js';

const PASSWORD = 'a-long-test-password';
let h: Harness;
const dir = mkdtempSync(join(tmpdir(), 'kalata-prompts-'));
const wav = (name: string, words: string) => {
  execFileSync('espeak-ng', ['-v', 'fr', '-w', join(dir, name), words]);
  return readFileSync(join(dir, name));
};

async function session(name: string): Promise<{ cookie: string; csrf: string }> {
  const login = await fetch(`${h.base}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ name, password: PASSWORD }).toString() });
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const page = await (await fetch(`${h.base}/`, { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
  return { cookie, csrf };
}

const upload = (s: { cookie: string; csrf: string }, lang: string, ref: string, body: Buffer, type = 'audio/wav') =>
  fetch(`${h.base}/prompts/upload?lang=${lang}&ref=${encodeURIComponent(ref)}`, { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': type }, body });

beforeAll(async () => {
  h = await startHarness('prompts api', { env: { ...contentCopy('kalata-prompts-content-') } });
  await addUser(h.ctx.db, 'mariam', 'admin', PASSWORD);
  await addUser(h.ctx.db, 'awa', 'operator', PASSWORD);
}, 60_000);
afterAll(() => h.close());

describe('uploading a prompt', () => {
  it('converts, stores and publishes it; the page and the voice line then have it', async () => {
    const admin = await session('mariam');
    const before = await liveVersion(h.ctx.db);
    const res = await upload(admin, 'bm', 'main/home.title', wav('home.wav', 'Kalata, kunnafoniw wote kan'));
    const body = (await res.json()) as { ok: boolean; message: string; seconds: number; id: string };
    expect(res.status).toBe(200);
    expect(body.message).toMatch(/^Enregistré et publié : version \d+\.$/);
    const after = await liveVersion(h.ctx.db);
    expect(after!.id).not.toBe(before!.id);
    expect(after!.files['recordings/bm/main/home.title.mp3']).toMatch(new RegExp(`^media:${body.id} words:[0-9a-f]{12}$`));
    const audio = await fetch(`${h.base}/voice/media/${body.id}.mp3`);
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toBe('audio/mpeg');

    const page = await (await fetch(`${h.base}/prompts?lang=bm`, { headers: { cookie: admin.cookie } })).text();
    expect(page).toContain(`<audio controls preload="none" src="/voice/media/${body.id}.mp3"></audio>`);
    expect(page).toMatch(/<b>1 \/ \d+<\/b>Bamanankan/);

    const audited = await h.ctx.db.selectFrom('audit_log').select(['action', 'target']).where('action', '=', 'upload_recording').execute();
    expect(audited).toEqual([{ action: 'upload_recording', target: 'bm/main/home.title' }]);
  });

  it('refuses what is not a prompt, not audio, or silent, with the reason, and changes nothing', async () => {
    const admin = await session('mariam');
    const live = (await liveVersion(h.ctx.db))!.id;
    const unknown = await upload(admin, 'bm', 'main/nothing.here', wav('x.wav', 'bonjour'));
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('Annonce inconnue');
    const text = await upload(admin, 'bm', 'main/home.vote', Buffer.from('ceci est un texte'), 'application/octet-stream');
    expect(text.status).toBe(422);
    expect(((await text.json()) as { message: string }).message).toBe('Ce fichier n’est pas un son lisible (WAV, MP3, OGG ou WebM).');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-t', '2', '-y', join(dir, 'silence.wav')]);
    const silent = await upload(admin, 'bm', 'main/home.vote', readFileSync(join(dir, 'silence.wav')));
    expect(silent.status).toBe(422);
    expect(((await silent.json()) as { message: string }).message).toBe('Silencieux : on n’y entend rien.');
    expect((await liveVersion(h.ctx.db))!.id).toBe(live);
  });

  it('is for admins, with the token', async () => {
    const operator = await session('awa');
    expect((await upload(operator, 'bm', 'main/home.vote', wav('y.wav', 'bonjour'))).status).toBe(403);
    const admin = await session('mariam');
    expect((await upload({ ...admin, csrf: 'wrong' }, 'bm', 'main/home.vote', wav('z.wav', 'bonjour'))).status).toBe(403);
  });

  it('removes a recording as a new version, audited', async () => {
    const admin = await session('mariam');
    const res = await fetch(`${h.base}/prompts/remove`, { method: 'POST', redirect: 'manual', headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: admin.csrf, lang: 'bm', ref: 'main/home.title' }).toString() });
    expect(res.status).toBe(303);
    const live = await liveVersion(h.ctx.db);
    expect(Object.keys(live!.files).filter((p) => p.startsWith('recordings/'))).toEqual([]);
    expect(await h.ctx.db.selectFrom('audit_log').select('target').where('action', '=', 'remove_recording').execute()).toEqual([{ target: 'bm/main/home.title' }]);
  });
});
