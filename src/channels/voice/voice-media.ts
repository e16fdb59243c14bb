/**
 * `GET /voice/media/<id>-<id>-….mp3`: the recorded prompts a voice gateway
 * plays, joined in the order given (they are stored as tag-free MP3 of one
 * format, so their frames play back to back). The address ends in `.mp3`, as
 * AT requires, and names the content itself: it never changes, and is cached
 * for a year. Any unknown id is a 404; the prompts are the hotline's own
 * words, never a caller's.
 */
import type { RequestHandler } from 'express';
import { MEDIA_ID } from '../../content/media-id.js';
import type { MediaReader } from '../../content/media-store.js';

export const MAX_IDS = 40;

export function voiceMediaHandler(media: MediaReader): RequestHandler {
  return async (req, res, next) => {
    const file = String(req.params.file ?? '');
    const ids = file.endsWith('.mp3') ? file.slice(0, -4).split('-') : [];
    if (!ids.length || ids.length > MAX_IDS || !ids.every((id) => MEDIA_ID.test(id))) return void res.status(404).type('text/plain').send('not found');
    try {
      const parts = await Promise.all(ids.map((id) => media.get(id)));
      if (parts.some((p) => !p)) return void res.status(404).type('text/plain').send('not found');
      const body = Buffer.concat(parts as Buffer[]);
      res.status(200).set({ 'Content-Type': 'audio/mpeg', 'Cache-Control': 'public, max-age=31536000, immutable', 'Content-Length': String(body.length) }).send(body);
    } catch (err) {
      next(err);
    }
  };
}
