/**
 * A change made to the live content version, as a new version based on it:
 * `edit` gets the live files and returns the new ones; when someone published
 * meanwhile, the same edit is applied again to what is live now (a few
 * times), so that two admins at once lose nothing.
 */
import type { Db } from '../store/database.js';
import type { ContentFiles } from './content-files.js';
import type { LiveContent, LivePublishResult } from './live-content.js';
import { liveVersion } from './version-store.js';

const RETRIES = 3;

export type LiveChange = LivePublishResult | { kind: 'busy' } | { kind: 'no_version' };

export async function changeLive(db: Db, content: LiveContent, by: { author: string; note: string }, edit: (files: ContentFiles) => ContentFiles): Promise<LiveChange> {
  for (let attempt = 0; ; attempt++) {
    const live = await liveVersion(db);
    if (!live) return { kind: 'no_version' };
    const outcome = await content.publish(edit(live.files), { author: by.author, note: by.note, basedOn: live.id });
    if (outcome.kind !== 'conflict') return outcome;
    if (attempt >= RETRIES) return { kind: 'busy' };
  }
}
