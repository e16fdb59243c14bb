/**
 * A recording's id: the first 128 bits of the SHA-256 of the file as it was
 * given (before conversion), in hex. The same file always has the same id,
 * so a version refers to audio it does not carry, and the audio is stored
 * once however many versions hold it.
 */
import { createHash } from 'node:crypto';

export const MEDIA_ID = /^[0-9a-f]{32}$/;
/** How a version refers to a recording: `media:<id>`. */
export const MEDIA_REF = /^media:[0-9a-f]{32}$/;

export const mediaId = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex').slice(0, 32);

/** The id a reference names, or undefined. */
export const mediaOf = (ref: string): string | undefined => (MEDIA_REF.test(ref) ? ref.slice('media:'.length) : undefined);
