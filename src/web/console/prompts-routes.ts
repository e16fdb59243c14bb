/**
 * « Annonces vocales » (admins): every prompt the voice line says, per
 * language, with its words, its recording and its status; an admin uploads a
 * file (any audio ffmpeg reads) or records one from the browser's microphone,
 * or removes one. Each change is a new content version based on the live one
 * (src/content/version-change.ts), live on every process within seconds, and
 * audited. Prompts are the hotline's own words, never a caller's.
 */
import express, { type Response, type Router } from 'express';
import type { AppContext } from '../../context.js';
import { checkContent } from '../../content/content-check.js';
import { MAX_RECORDING_BYTES, RECORDING_PATH } from '../../content/content-files.js';
import { mediaId, mediaRef } from '../../content/media-id.js';
import { convertPrompt, mediaDurations, MediaError, putMedia } from '../../content/media-store.js';
import { changeLive } from '../../content/version-change.js';
import { liveVersion } from '../../content/version-store.js';
import { voiceLanguages } from '../../channels/voice/voice-prompts.js';
import { flowOptions, type FlowCheck } from '../../flows/flow-set.js';
import { audit } from '../../store/user-store.js';
import { requireRole, signedIn, verifyCsrf } from './console-auth.js';
import { t } from './console-i18n.js';
import { page } from './page.js';

const REF = /^[A-Za-z0-9_-]+\/[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** A converter's refusal in the admin's words. */
function refusal(err: unknown): string {
  const m = (err as Error).message;
  if (/^not an audio file/.test(m)) return t('Ce fichier n’est pas un son lisible (WAV, MP3, OGG ou WebM).');
  if (/^too short/.test(m)) return t('Trop court : une annonce dure au moins 0,3 seconde.');
  if (/^too long/.test(m)) return t('Trop long : une annonce dure au plus 2 minutes.');
  if (/^silent/.test(m)) return t('Silencieux : on n’y entend rien.');
  if (/ffmpeg could not be run/.test(m)) return t('ffmpeg n’est pas installé sur ce serveur : les enregistrements ne peuvent pas être convertis.');
  return t('Enregistrement refusé.');
}

export function createPromptsRoutes(ctx: AppContext): Router {
  const router = express.Router();
  const { db } = ctx;
  const admin = requireRole('admin');
  const options = flowOptions(ctx.config);
  const checks = new Map<string, FlowCheck>();
  /** The live version and its check (prompts, coverage, recordings), once per version. */
  const live = async () => {
    const version = await liveVersion(db);
    if (!version) return undefined;
    let check = checks.get(version.hash);
    if (!check) {
      check = checkContent(version.files, options);
      checks.clear();
      checks.set(version.hash, check);
    }
    return { version, check };
  };
  const unavailable = (res: Response) => page(res, 'prompts', t('Annonces vocales'), 'prompts', { unavailable: true });

  router.get('/prompts', admin, async (req, res) => {
    const current = ctx.content ? await live() : undefined;
    if (!current?.check.flows) return unavailable(res);
    const { check } = current;
    const flows = check.flows!;
    const speaker = { tts: new Set(ctx.config.voiceTts) };
    const offered = new Set(voiceLanguages(flows, speaker));
    const coverage = check.recordings ?? [];
    const langs = coverage.map((c) => ({ code: c.lang, name: check.languages.get(c.lang)?.name ?? c.lang, have: c.have, needed: c.needed, tts: speaker.tts.has(c.lang), offered: offered.has(c.lang) }));
    const wanted = typeof req.query.lang === 'string' ? req.query.lang : undefined;
    const chosen = langs.find((l) => l.code === wanted) ?? langs.find((l) => !l.tts) ?? langs[0];
    if (!chosen) return unavailable(res);
    const state = req.query.state === 'missing' || req.query.state === 'recorded' ? req.query.state : '';
    const prompts = coverage.find((c) => c.lang === chosen.code)!.prompts;
    const ids = prompts.map((p) => flows.recordings?.get(`${chosen.code}/${p.ref}`)).filter((id): id is string => !!id);
    const durations = await mediaDurations(db, ids);
    const rows = prompts
      .map((p) => {
        const id = flows.recordings?.get(`${chosen.code}/${p.ref}`);
        return { ref: p.ref, words: p.words, id, seconds: id ? (durations.get(id) ?? 0) / 1000 : null };
      })
      .filter((r) => !state || (state === 'recorded') === !!r.id);
    const extra = check.problems.filter((p) => p.file.startsWith('recordings') && /never says|older than its text/.test(p.message)).map((p) => `${p.file} : ${p.message}`);
    page(res, 'prompts', t('Annonces vocales'), 'prompts', { unavailable: false, langs, chosen, rows, state, extra, maxMb: MAX_RECORDING_BYTES / 1024 / 1024 });
  });

  /** The prompt a request names, among those the live content needs; or a 400 with the reason. */
  const promptOf = async (res: Response, lang: unknown, ref: unknown) => {
    const current = ctx.content ? await live() : undefined;
    if (!current?.check.flows) return void res.status(503).type('text/plain').send(t('Les versions ne sont pas disponibles sur ce serveur.'));
    const prompts = current.check.recordings?.find((c) => c.lang === lang)?.prompts;
    const prompt = typeof ref === 'string' && REF.test(ref) ? prompts?.find((p) => p.ref === ref) : undefined;
    if (!prompts) return void res.status(400).type('text/plain').send(t('Langue inconnue de la ligne vocale.'));
    if (!prompt) return void res.status(400).type('text/plain').send(t('Annonce inconnue : le contenu en ligne ne dit pas « {{ref}} ».', { ref: String(ref).slice(0, 80) }));
    return { lang: String(lang), prompt };
  };
  /** The version's files without any recording of `lang/ref`, and with `ref` when given. */
  const withRecording = (lang: string, ref: string, value?: string) => (files: Record<string, string>) => {
    const out: Record<string, string> = {};
    for (const [path, text] of Object.entries(files)) {
      const m = RECORDING_PATH.exec(path);
      if (!(m && m[1] === lang && `${m[2]}/${m[3]}` === ref)) out[path] = text;
    }
    if (value) out[`recordings/${lang}/${ref}.mp3`] = value;
    return out;
  };
  const outcomeMessage = (outcome: Awaited<ReturnType<typeof changeLive>>) =>
    outcome.kind === 'published' || outcome.kind === 'unchanged'
      ? { ok: true, message: t('Enregistré et publié : version {{id}}.', { id: outcome.id }) }
      : outcome.kind === 'busy'
        ? { ok: false, message: t('Pas encore en ligne : d’autres versions ont été publiées entre-temps, réessayez.') }
        : { ok: false, message: t('La publication a été refusée : voir la page Menus.') };

  router.post(
    '/prompts/upload',
    admin,
    verifyCsrf,
    express.raw({ type: ['audio/*', 'video/webm', 'application/octet-stream'], limit: MAX_RECORDING_BYTES }),
    async (req, res) => {
      const named = await promptOf(res, req.query.lang, req.query.ref);
      if (!named) return;
      const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!bytes.length) return void res.status(400).json({ ok: false, message: t('Fichier vide : envoyez un son (WAV, MP3, OGG ou WebM).') });
      let converted;
      try {
        converted = await convertPrompt(bytes);
      } catch (err) {
        if (!(err instanceof MediaError)) throw err;
        return void res.status(422).json({ ok: false, message: refusal(err) });
      }
      const id = mediaId(bytes);
      await putMedia(db, id, converted, bytes.length);
      const who = signedIn(res);
      const where = `${named.lang}/${named.prompt.ref}`;
      const outcome = await changeLive(db, ctx.content!, { author: who.name, note: `annonce vocale : ${where}` }, withRecording(named.lang, named.prompt.ref, mediaRef(id, named.prompt.words)));
      const said = outcomeMessage(outcome);
      if (said.ok) await audit(db, who, 'upload_recording', where, `${(converted.durationMs / 1000).toFixed(1)} s`);
      res.status(said.ok ? 200 : 409).json({ ...said, seconds: converted.durationMs / 1000, id });
    },
  );

  router.post('/prompts/remove', express.urlencoded({ extended: false, limit: '4kb' }), admin, verifyCsrf, async (req, res) => {
    const b = req.body as Record<string, string | undefined>;
    const named = await promptOf(res, b.lang, b.ref);
    if (!named) return;
    const who = signedIn(res);
    const where = `${named.lang}/${named.prompt.ref}`;
    const outcome = await changeLive(db, ctx.content!, { author: who.name, note: `annonce vocale retirée : ${where}` }, withRecording(named.lang, named.prompt.ref));
    if (outcome.kind === 'published') await audit(db, who, 'remove_recording', where);
    res.redirect(303, `/prompts?lang=${encodeURIComponent(named.lang)}`);
  });
  return router;
}

