/**
 * The simulator's voice mode (`POST /simulator/voice`) on a real web process,
 * PostgreSQL and Redis, with Bambara's prompts recorded (espeak-ng clips, on
 * a copy of the content): the JSON of each screen (words for the French
 * text-to-speech, recordings for Bambara), a report filed by voice with
 * « Parler » (a placeholder recording address), the call and report marked
 * as the simulator's, silence then goodbye, and plain reasons for bad input.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config/config.js';
import { checkFlows, flowOptions } from '../../src/flows/flow-set.js';
import { contentCopy } from '../support/content.js';
import { startHarness, type Harness } from '../support/harness.js';

const content = contentCopy('kalata-simvoice-');
const recordings = join(dirname(content.LOCALES_DIR), 'recordings');

/** Every prompt Bambara needs, from one espeak-ng clip: Bambara is then offered, and played from recordings. */
function recordBambara(): void {
  const coverage = checkFlows(flowOptions(loadConfig({ FLOWS_DIR: content.FLOWS_DIR, LOCALES_DIR: content.LOCALES_DIR }))).recordings!.find((c) => c.lang === 'bm')!;
  const shared = join(recordings, '.shared.wav');
  mkdirSync(recordings, { recursive: true });
  execFileSync('espeak-ng', ['-v', 'fr', '-s', '220', '-w', shared, 'kalata']);
  for (const ref of coverage.missing) {
    const file = join(recordings, 'bm', `${ref}.wav`);
    mkdirSync(dirname(file), { recursive: true });
    copyFileSync(shared, file);
  }
  rmSync(shared);
}

type Prompt = { words: string; lang: string } | { recordings: string[] };
interface Turn {
  call: string;
  prompts: Prompt[];
  gather: { kind: string; max?: number };
  ended: boolean;
  effects: string[];
  recording?: string;
}

let h: Harness;
beforeAll(async () => {
  recordBambara();
  h = await startHarness('simulator voice', { env: { FLOWS_DIR: content.FLOWS_DIR, LOCALES_DIR: content.LOCALES_DIR } });
}, 120_000);
afterAll(() => h.close());

async function post(body: unknown): Promise<{ status: number; data: Turn & { error?: string } }> {
  const r = await fetch(`${h.base}/simulator/voice`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, data: (await r.json()) as Turn & { error?: string } };
}
const words = (t: Turn) => t.prompts.map((p) => ('words' in p ? p.words : '')).join(' ');

describe('POST /simulator/voice', () => {
  it('files a report by voice, marked as the simulator’s, with a placeholder recording', async () => {
    const phone = '+22370000011';
    const first = await post({ phone });
    expect(first.status).toBe(200);
    const call = first.data.call;
    expect(call).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.data).toMatchObject({ gather: { kind: 'key' }, ended: false, effects: [] });
    // French by the text-to-speech; Bambara, which has none, from its recordings.
    expect(first.data.prompts[0]).toMatchObject({ lang: 'fr', words: expect.stringContaining('Français, tapez un.') });
    const played = first.data.prompts.find((p): p is { recordings: string[] } => 'recordings' in p)!;
    expect(played.recordings.length).toBeGreaterThan(0);
    for (const url of played.recordings) expect(url).toMatch(/^\/voice\/media\/[0-9a-z]+\.mp3$/);
    const audio = await fetch(`${h.base}${played.recordings[0]}`);
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toContain('audio/mpeg');

    const step = async (body: Record<string, unknown>) => {
      const r = await post({ phone, call, ...body });
      expect(r.status).toBe(200);
      return r.data;
    };
    expect(words(await step({ keys: '1' }))).toMatch(/Comment voter, tapez un\./);
    await step({ keys: '2' });
    await step({ keys: '1' });
    const incident = await step({ keys: '2' });
    expect(incident.gather).toEqual({ kind: 'number' });
    expect(words(incident)).toContain('Autre, tapez 10.');
    await step({ keys: '10#' });
    const place = await step({ keys: '1#' });
    expect(place.gather).toEqual({ kind: 'record' });
    expect(words(place)).toContain('après le bip');
    const description = await step({ speak: true });
    expect(description.recording).toMatch(/^https:\/\/simulateur\.invalid\/enregistrement-\d+\.mp3$/);
    const confirm = await step({ speak: true });
    expect(words(confirm)).toMatch(/^Envoyer ce signalement\?/);
    const done = await step({ keys: '1' });
    expect(done).toMatchObject({ ended: true, gather: { kind: 'none' } });

    const report = await h.ctx.db.selectFrom('reports').selectAll().orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect(report.simulated).toBe(true);
    expect(report.fields).toMatchObject({ incident: 'other', region: 'bamako', place: description.recording, description: confirm.recording });
    expect(words(done)).toContain([...report.ref.replace(/-/g, '')].join(' '));
    expect(done.effects.join(' ')).toContain(`Signalement ${report.ref} enregistré`);
    const row = await h.ctx.db.selectFrom('calls').selectAll().where('gateway_session_id', '=', call).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ channel: 'simulator-voice', outcome: 'completed' });
    expect(row.phone_masked).not.toContain('70000011');
  }, 60_000);

  it('says the screen again after a silence, then goodbye, and the call ends', async () => {
    const phone = '+22370000012';
    const first = await post({ phone });
    const again = await post({ phone, call: first.data.call, silence: 1 });
    expect(again.status).toBe(200);
    expect(again.data.prompts[0]).toEqual({ words: "Nous n'avons rien entendu.", lang: 'fr' });
    expect(words(again.data)).toContain('Français, tapez un.');
    expect(again.data.ended).toBe(false);
    const bye = await post({ phone, call: first.data.call, silence: 2 });
    expect(bye.data).toMatchObject({ ended: true, gather: { kind: 'none' }, prompts: [{ words: "Nous n'avons rien entendu. Rappelez quand vous voulez. Au revoir.", lang: 'fr' }] });
    const row = await h.ctx.db.selectFrom('calls').selectAll().where('gateway_session_id', '=', first.data.call).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ channel: 'simulator-voice', outcome: 'abandoned' });
  }, 30_000);

  it('answers bad input with a 400 and a plain reason', async () => {
    const bad = await post({ phone: '+22370000013', call: '00000000-0000-4000-8000-000000000000', keys: 'abc' });
    expect(bad).toEqual({ status: 400, data: { error: 'requête du simulateur invalide' } });
    const two = await post({ phone: '+22370000013', call: '00000000-0000-4000-8000-000000000000', keys: '1', speak: true });
    expect(two.status).toBe(400);
    const number = await post({ phone: '12ab' });
    expect(number.status).toBe(400);
    expect(number.data.error).toContain("n'est pas un numéro de téléphone valable");
    // A call the server does not know: refused, not started again.
    const unknown = await post({ phone: '+22370000013', call: '00000000-0000-4000-8000-000000000000', keys: '1' });
    expect(unknown.status).toBe(200);
    expect(unknown.data.ended).toBe(true);
  }, 30_000);
});
