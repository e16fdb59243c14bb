/**
 * Where the console's review of the translated texts (every language under
 * review, one ledger for all) reads and writes: the files on
 * disk in development (the developer's source, published by the Menus
 * page's publisher), the live version in production, where the files in a
 * container are not the content.
 *
 * In production a change is applied to a fresh copy of the live version's
 * files (the same applyReview or CSV import, with the same checks), and what
 * it wrote (the texts and the ledger, `locales/review.json`) is published as
 * a new version based on it. Two reviewers at once, on any web process:
 * the second is refused by the version check and applied again on the new
 * live version, so no sign-off is lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowPublisher } from '../flows/flow-publisher.js';
import type { FlowSetOptions } from '../flows/flow-set.js';
import { reviewSources, serializeReview, type ReviewResult, type ReviewSources } from '../i18n/review.js';
import type { Db } from '../store/database.js';
import { materialize } from './content-check.js';
import { dirsOf, readContentDirs, writeContentDir } from './content-files.js';
import type { LiveContent } from './live-content.js';
import { liveVersion } from './version-store.js';

/** What a review change came to: the result, and the version it published (or why it did not). */
export type ReviewChangeOutcome = ReviewResult & { published?: string; refused?: 'invalid' | 'busy' };

export interface ReviewWorkspace {
  /** the review's sources and the check's options, on the content that runs */
  read(): Promise<{ sources: ReviewSources; options: FlowSetOptions }>;
  /** applies `apply` and makes it live (a version, or the files on disk and the publisher) */
  change(by: string, note: string, apply: (sources: ReviewSources, options: FlowSetOptions) => ReviewResult): Promise<ReviewChangeOutcome>;
}

/** How many times a change is applied again on a version someone published meanwhile. */
const CONFLICT_RETRIES = 3;

export function createReviewWorkspace(deps: { db: Db; content?: LiveContent; publisher: FlowPublisher; options: FlowSetOptions; production: boolean }): ReviewWorkspace {
  const { options } = deps;
  if (!deps.production || !deps.content) {
    const sources = reviewSources(options);
    return {
      read: async () => ({ sources, options }),
      async change(by, _note, apply) {
        const result = await serializeReview(sources, () => apply(sources, options));
        // A sign-off alone changes only the ledger, which no call reads: nothing to publish.
        if (!result.ok || !result.edited.length) return result;
        const published = await deps.publisher.reload(by);
        if (published.published) return { ...result, published: published.hash };
        return published.check.flows ? result : { ...result, refused: 'invalid' };
      },
    };
  }
  const content = deps.content;
  const on = (root: string): { sources: ReviewSources; options: FlowSetOptions } => {
    const dirs = dirsOf(root);
    return { sources: reviewSources(dirs), options: { ...options, ...dirs, root } };
  };
  return {
    async read() {
      const live = await liveVersion(deps.db);
      if (!live) throw new Error('no live version of the content');
      // A version never changes: its folder is written once and read by every reader.
      return on(materialize(live.files, live.hash));
    },
    async change(by, note, apply) {
      for (let attempt = 0; ; attempt++) {
        const live = await liveVersion(deps.db);
        if (!live) throw new Error('no live version of the content');
        const root = mkdtempSync(join(tmpdir(), 'kalata-review-'));
        try {
          writeContentDir(live.files, root, { replace: true });
          const { sources, options: onCopy } = on(root);
          const result = apply(sources, onCopy);
          if (!result.ok || (!result.edited.length && !result.signedOff.length)) return result;
          const outcome = await content.publish(readContentDirs(dirsOf(root)), { author: by, note, basedOn: live.id });
          if (outcome.kind === 'published' || outcome.kind === 'unchanged') return { ...result, published: outcome.id };
          if (outcome.kind === 'refused') return { ...result, refused: 'invalid' };
          // Someone published since this copy was made: apply the same change to what is live now.
          if (attempt >= CONFLICT_RETRIES) return { ...result, refused: 'busy' };
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      }
    },
  };
}
