/**
 * The review of translated texts in production, where the files in a container
 * are not the content: a sign-off or an edit is applied to a copy of the
 * live version and published as a new version (src/content/review-workspace.ts).
 * Two reviewers at once lose nothing; a refused change publishes nothing;
 * the files on disk never change.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createReviewWorkspace, type ReviewWorkspace } from '../../src/content/review-workspace.js';
import { listVersions, liveVersion } from '../../src/content/version-store.js';
import { flowOptions } from '../../src/flows/flow-set.js';
import { applyReview, loadReview } from '../../src/i18n/review.js';
import { deployedContent } from '../support/content.js';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness;
let disk: { FLOWS_DIR: string; LOCALES_DIR: string };
let workspace: ReviewWorkspace;
beforeAll(async () => {
  disk = deployedContent();
  h = await startHarness('review-versions', {
    env: { NODE_ENV: 'production', WEBHOOK_SECRET: randomBytes(16).toString('hex'), PHONE_HASH_KEY: randomBytes(32).toString('hex'), DATA_ENCRYPTION_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'warn', ...disk },
    context: { worker: false },
  });
  workspace = createReviewWorkspace({ db: h.ctx.db, content: h.ctx.content!, publisher: h.ctx.publisher, options: flowOptions(h.ctx.config), production: true });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const signOff = (id: string, by: string, bambara?: string) => workspace.change(by, `relecture : ${id}`, (sources, options) => applyReview(sources, options, 'bm', [{ id, signOff: true, ...(bambara ? { text: bambara } : {}) }], by));
const diskVote = () => readFileSync(join(disk.LOCALES_DIR, 'bm', 'vote.json'), 'utf8');

describe('the review in production', () => {
  it('reads the live version, and publishes two reviewers\' changes made at once, both kept', async () => {
    const before = await listVersions(h.ctx.db);
    const voteOnDisk = diskVote();
    const { sources } = await workspace.read();
    expect(loadReview(sources).entries.find((e) => e.language === 'bm' && e.id === 'vote:menu.title')).toMatchObject({ state: 'draft' });

    const [a, b] = await Promise.all([signOff('vote:menu.title', 'awa'), signOff('vote:menu.where', 'moussa', 'Wote biro min bɛ i kan')]);
    expect([a.ok, b.ok]).toEqual([true, true]);
    expect(a.published && b.published).toBeTruthy();
    expect(a.published).not.toBe(b.published);

    const live = await liveVersion(h.ctx.db);
    const ledger = JSON.parse(live!.files['locales/review.json']!) as { version: number; signoffs: Record<string, Record<string, { by: string }>> };
    expect(ledger.version).toBe(2);
    expect(ledger.signoffs.bm?.['vote:menu.title']?.by).toBe('awa');
    expect(ledger.signoffs.bm?.['vote:menu.where']?.by).toBe('moussa');
    expect(JSON.parse(live!.files['locales/bm/vote.json']!).menu.where).toBe('Wote biro min bɛ i kan');
    expect((await listVersions(h.ctx.db)).length).toBe(before.length + 2);

    // Callers hear the edit; the files in the container never changed.
    await h.ctx.content!.sync();
    expect(h.ctx.flows.live().texts('bm', 'vote:menu.where')).toBe('Wote biro min bɛ i kan');
    expect(diskVote()).toBe(voteOnDisk);
    const { sources: now } = await workspace.read();
    expect(loadReview(now).entries.find((e) => e.language === 'bm' && e.id === 'vote:menu.where')).toMatchObject({ state: 'reviewed', by: 'moussa' });
  });

  it('publishes nothing for a refused change', async () => {
    const before = (await liveVersion(h.ctx.db))!.id;
    const r = await signOff('vote:menu.title', 'awa', 'Wote {{nowhere}}');
    expect(r.ok).toBe(false);
    expect((await liveVersion(h.ctx.db))!.id).toBe(before);
  });

  it('reads a stored version\'s version-1 ledger as Bambara\'s, and publishes it as version 2 at the next sign-off', async () => {
    const { sources } = await workspace.read();
    const results = loadReview(sources).entries.find((e) => e.language === 'bm' && e.id === 'vote:menu.results')!;
    const live = (await liveVersion(h.ctx.db))!;
    const v1 = `${JSON.stringify({ version: 1, signoffs: { 'vote:menu.results': { by: 'fanta', at: '2026-10-01T08:00:00.000Z', hash: results.hash } } }, null, 2)}\n`;
    const stored = await h.ctx.content!.publish({ ...live.files, 'locales/review.json': v1 }, { author: 'fanta', note: 'un registre de la version 1', basedOn: live.id });
    expect(stored.kind).toBe('published');
    const { sources: onV1 } = await workspace.read();
    expect(loadReview(onV1).entries.find((e) => e.language === 'bm' && e.id === 'vote:menu.results')).toMatchObject({ state: 'reviewed', by: 'fanta' });
    const r = await signOff('vote:menu.who', 'awa');
    expect(r).toMatchObject({ ok: true, language: 'bm' });
    const ledger = JSON.parse((await liveVersion(h.ctx.db))!.files['locales/review.json']!) as { version: number; signoffs: Record<string, Record<string, { by: string }>> };
    expect(ledger.version).toBe(2);
    expect(Object.keys(ledger.signoffs)).toEqual(['bm']);
    expect(ledger.signoffs.bm!['vote:menu.results']).toEqual({ by: 'fanta', at: '2026-10-01T08:00:00.000Z', hash: results.hash });
    expect(ledger.signoffs.bm!['vote:menu.who']?.by).toBe('awa');
  });
});
