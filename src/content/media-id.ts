/**
 * A recording's id: the first 128 bits of the SHA-256 of the file as it was
 * given (before conversion), in hex. The same file always has the same id,
 * so a version refers to audio it does not carry, and the audio is stored
 * once however many versions hold it.
 */
import { createHash } from 'node:crypto';

export const MEDIA_ID = /^[0-9a-f]{32}$/;
/**
 * How a version refers to a recording: `media:<id>`, and, when known, the
 * words it says as their text stood when it was recorded (`words:<hash>`):
 * a text changed since is flagged by the checker.
 */
export const MEDIA_REF = /^media:[0-9a-f]{32}(?: words:[0-9a-f]{12})?$/;

export const mediaId = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex').slice(0, 32);

/** The id a reference names, or undefined. */
export const mediaOf = (ref: string): string | undefined => (MEDIA_REF.test(ref) ? ref.slice('media:'.length, 'media:'.length + 32) : undefined);

/** The hash of the words a reference says it was recorded for, if it says. */
export const wordsOf = (ref: string): string | undefined => / words:([0-9a-f]{12})$/.exec(ref)?.[1];

/** The hash a reference keeps of the words recorded: NFC, spaces folded, trimmed. */
export const wordsHash = (words: string): string => createHash('sha256').update(words.normalize('NFC').replace(/\s+/g, ' ').trim()).digest('hex').slice(0, 12);

/** A reference to `id`, recorded for `words` (when known). */
export const mediaRef = (id: string, words?: string): string => (words === undefined ? `media:${id}` : `media:${id} words:${wordsHash(words)}`);
