/**
 * The menu editor (admins): the live version's flows and texts edited in the
 * browser as a draft, checked as the admin types, previewed in a phone that
 * runs the draft, and published with a note. A publish made from an older
 * version than the live one is refused with what the other admin changed.
 *
 * The draft lives in the browser; the server keeps only what is cheap to
 * make again: checks and compiled drafts by content hash, a few of each.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { AppContext } from '../../context.js';
import { checkContent } from '../../content/content-check.js';
import { diffContent } from '../../content/content-diff.js';
import { checkContentFiles, ContentError, contentHash, type ContentFiles } from '../../content/content-files.js';
import { getVersion, listVersions, type Version } from '../../content/version-store.js';
import type { CompiledFlows, FlowNode } from '../../engine/types.js';
import { flowOptions, type FlowCheck } from '../../flows/flow-set.js';
import { hasErrors, type Problem } from '../../flows/problems.js';
import { limitFor, measure } from '../../i18n/gsm.js';
import { bundleEditor } from '../editor/bundle.js';
import { audit } from '../../store/user-store.js';
import { requireRole, signedIn, verifyCsrf } from './console-auth.js';
import { t, word } from './console-i18n.js';
import { byProcess, codeSegments, problemMessage } from './labels.js';
import { messagePage, page } from './page.js';
import { simulatorStep } from './simulator.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Where a build puts the bundled editor (beside the other assets). */
const BUILT_EDITOR = join(here, '..', 'assets', 'editor.js');

/**
 * A draft's body is at most this big: many times today's content (45 KB),
 * far below what a version may hold in theory (MAX_FILES × MAX_FILE_BYTES);
 * content that large goes through `npm run flows -- publish`.
 */
const DRAFT_BODY_LIMIT = '4mb';
/** Checks and compiled drafts kept per process, by content hash. */
const KEPT_DRAFTS = 20;
/** Checks waiting their turn past which a check is refused (503): each takes ~0.2 s of this process. */
const MAX_WAITING_CHECKS = 6;
const NOTE_MAX = 500;
const VERSION_ID = /^\d{1,18}$/;

/** What the editor needs of one check, kept by content hash (the words are chosen per reader, later). */
interface DraftCheck {
  hash: string;
  problems: Problem[];
  flows?: CompiledFlows;
  /** `ns:key` → language → the fullest screen showing that text, as written */
  screens: Record<string, Record<string, ScreenMeasure>>;
  /** the draft's own languages (its languages.yaml), for the preview phone */
  languages: { code: string; name: string }[];
}

interface ScreenMeasure {
  node: string;
  length: number;
  limit: number;
  encoding: string;
  pages: number;
}

/** A small map that forgets its oldest entries. */
function keptMap<V>(max: number) {
  const map = new Map<string, V>();
  return {
    get: (key: string) => map.get(key),
    set(key: string, value: V) {
      map.delete(key);
      map.set(key, value);
      while (map.size > max) map.delete(map.keys().next().value!);
    },
  };
}

export function createEditorRoutes(ctx: AppContext): Router {
  const router = express.Router();
  const { db } = ctx;
  const admin = requireRole('admin');
  const options = flowOptions(ctx.config);
  const form = express.urlencoded({ extended: false, limit: '4kb' });
  const parseJson = express.json({ limit: DRAFT_BODY_LIMIT });
  // A body too big or not JSON is told in a sentence, like every other refusal of the console.
  const jsonBody: RequestHandler = (req, res, next) =>
    parseJson(req, res, (err?: unknown) => {
      if (!err) return next();
      const tooBig = (err as { type?: string }).type === 'entity.too.large';
      res.status(tooBig ? 413 : 400).type('text/plain').send(tooBig ? t('Brouillon trop gros pour l’éditeur : publiez-le avec « npm run flows -- publish ».') : t('Corps de requête illisible : JSON attendu.'));
    });

  const checks = keptMap<DraftCheck>(KEPT_DRAFTS);
  const previews = keptMap<CompiledFlows>(KEPT_DRAFTS);
  const versions = keptMap<Version>(8);
  // One check at a time: each blocks this process for a moment, and webhooks answer in between.
  let queue: Promise<unknown> = Promise.resolve();
  let waiting = 0;

  const checkDraft = (files: ContentFiles): Promise<DraftCheck> | undefined => {
    const hash = contentHash(files);
    const kept = checks.get(hash);
    if (kept) return Promise.resolve(kept);
    if (waiting >= MAX_WAITING_CHECKS) return undefined;
    waiting += 1;
    const run = queue
      .then(() => new Promise((resolve) => setImmediate(resolve)))
      .then(() => {
        const check = checkContent(files, options);
        const result: DraftCheck = {
          hash,
          problems: check.problems,
          ...(check.flows && !hasErrors(check.problems) ? { flows: check.flows } : {}),
          screens: screensByText(check),
          languages: check.languages.codes.map((code) => ({ code, name: check.languages.get(code)!.name })),
        };
        checks.set(hash, result);
        if (result.flows) previews.set(result.flows.hash, result.flows);
        return result;
      })
      .finally(() => {
        waiting -= 1;
      });
    queue = run.catch(() => undefined);
    return run;
  };

  /** A version's files: versions never change, so a few are kept. */
  const versionById = async (id: string | undefined): Promise<Version | undefined> => {
    if (!id) return undefined;
    const kept = versions.get(id);
    if (kept) return kept;
    const found = await getVersion(db, id);
    if (found) versions.set(id, found);
    return found;
  };
  const liveNow = () => versionById(ctx.content?.current());

  /** The draft's files from the body, or a 400 with the reason. */
  const draftOf = (req: Request, res: Response): ContentFiles | undefined => {
    try {
      return checkContentFiles((req.body as { files?: unknown } | undefined)?.files);
    } catch (err) {
      if (!(err instanceof ContentError)) throw err;
      res.status(400).type('text/plain').send(t('Brouillon refusé : {{reason}}', { reason: err.message }));
      return undefined;
    }
  };
  const problemsFor = (problems: readonly Problem[]) =>
    problems.map((p) => {
      const message = problemMessage(p.message);
      // `segments`: the message with its codes (node ids, text keys) apart, for the list to show them as code.
      return { file: p.file, line: p.line, col: p.col, severity: p.severity, message, segments: codeSegments(message) };
    });
  const busy = (res: Response) => res.status(503).set('Retry-After', '2').type('text/plain').send(t('Le serveur vérifie déjà d’autres brouillons : nouvel essai dans un instant.'));

  router.get('/assets/editor.js', (_req, res, next) => {
    editorScript()
      .then((js) => res.type('text/javascript').set('Cache-Control', 'public, max-age=3600').send(js))
      .catch(next);
  });

  router.get('/editor', admin, async (req, res) => {
    const live = await liveNow();
    if (!ctx.content || !live) {
      page(res, 'editor', t('Éditeur de menus'), 'flows', { unavailable: true });
      return;
    }
    const flash = (name: string) => (typeof req.query[name] === 'string' && VERSION_ID.test(req.query[name]) ? req.query[name] : null);
    page(res, 'editor', t('Éditeur de menus'), 'flows', {
      unavailable: false,
      byProcess,
      live,
      versions: await listVersions(db, 30),
      rolledBack: flash('rolledBack'),
      published: flash('published'),
      // The preview phone's languages: the live ones, until a check of the draft gives its own.
      languages: ctx.flows.live().languages,
      data: { basedOn: live.id, files: live.files },
    });
  });

  router.post('/editor/check', admin, jsonBody, verifyCsrf, async (req, res) => {
    const files = draftOf(req, res);
    if (!files) return;
    const pending = checkDraft(files);
    if (!pending) return void busy(res);
    const [check, live] = await Promise.all([pending, liveNow()]);
    res.json({
      hash: check.hash,
      ok: !hasErrors(check.problems),
      problems: problemsFor(check.problems),
      preview: check.flows?.hash ?? null,
      screens: check.screens,
      languages: check.languages,
      texts: textMeasures(files, ctx.flows.live().limits),
      liveId: live?.id ?? null,
      diff: live ? diffContent(live.files, files) : [],
    });
  });

  // The preview phone: the simulator's own step, on a draft's compiled flows.
  router.post('/editor/preview/:hash/step', admin, express.json({ limit: '32kb' }), verifyCsrf, (req, res, next) => {
    const flows = previews.get(String(req.params.hash));
    if (!flows) {
      res.status(409).json({ error: t('Ce brouillon n’est plus gardé par le serveur : il est vérifié de nouveau.') });
      return;
    }
    void simulatorStep({ live: () => flows, get: (hash) => (hash === flows.hash ? flows : undefined) }, ctx.lookup)(req, res, next);
  });

  router.post('/editor/publish', admin, jsonBody, verifyCsrf, async (req, res) => {
    if (!ctx.content) return void res.status(503).type('text/plain').send(t('Les versions ne sont pas disponibles sur ce serveur.'));
    const files = draftOf(req, res);
    if (!files) return;
    const body = req.body as { basedOn?: unknown; note?: unknown };
    const basedOn = typeof body.basedOn === 'string' && VERSION_ID.test(body.basedOn) ? body.basedOn : undefined;
    if (!basedOn) return void res.status(400).type('text/plain').send(t('Version de départ absente : rechargez la page.'));
    const note = typeof body.note === 'string' ? body.note.trim().slice(0, NOTE_MAX) : '';
    if (!note) return void res.status(400).type('text/plain').send(t('Une note est nécessaire : dites ce qui change.'));
    const who = signedIn(res);
    const result = await ctx.content.publish(files, { author: who.name, note, basedOn });
    switch (result.kind) {
      case 'published':
        await audit(db, who, 'publish_flows', result.id, note);
        res.json({ kind: 'published', id: result.id });
        return;
      case 'unchanged':
        res.json({ kind: 'unchanged', id: result.id });
        return;
      case 'refused':
        res.status(422).json({ kind: 'refused', problems: problemsFor(result.problems) });
        return;
      case 'conflict': {
        const [base, live] = await Promise.all([versionById(basedOn), versionById(result.liveId)]);
        res.status(409).json({
          kind: 'conflict',
          basedOn,
          liveId: result.liveId,
          liveAuthor: live?.author ?? '',
          liveNote: live?.note ?? '',
          theirs: base && live ? diffContent(base.files, live.files) : [],
          liveFiles: live?.files ?? {},
        });
      }
    }
  });

  router.post('/editor/versions/:id/rollback', admin, form, verifyCsrf, async (req, res) => {
    if (!ctx.content) return void res.status(503).type('text/plain').send(t('Les versions ne sont pas disponibles sur ce serveur.'));
    const id = String(req.params.id);
    const result = await ctx.content.rollback(id, signedIn(res).name);
    if (!result.ok) {
      const message = result.reason === 'unknown' ? t('La version {{id}} n’existe pas.', { id }) : t('La version {{id}} a des erreurs sous la configuration actuelle : elle ne peut pas être remise en ligne.', { id });
      messagePage(res, result.reason === 'unknown' ? 404 : 422, t('Éditeur de menus'), message);
      return;
    }
    await audit(db, signedIn(res), 'rollback_flows', id);
    res.redirect(303, `/editor?rolledBack=${id}`);
  });

  router.get('/editor/versions/:file', admin, async (req, res) => {
    const id = /^(\d{1,18})\.json$/.exec(String(req.params.file))?.[1];
    const version = await versionById(id);
    if (!version) return void messagePage(res, 404, t('Éditeur de menus'), t('Cette version n’existe pas.'));
    res
      .type('application/json')
      .attachment(`kalata-version-${version.id}.json`)
      .send(JSON.stringify({ id: version.id, hash: version.hash, author: version.author, note: version.note, createdAt: version.createdAt, files: version.files }, null, 2));
  });

  return router;
}

/** The built editor script when a build wrote one, else a bundle made once per process. */
let bundled: Promise<string> | undefined;
function editorScript(): Promise<string> {
  if (existsSync(BUILT_EDITOR)) return Promise.resolve(readFileSync(BUILT_EDITOR, 'utf8'));
  bundled ??= bundleEditor().catch((err: unknown) => {
    bundled = undefined;
    throw err;
  });
  return bundled;
}

/** Each text of each locale file (`home.title`), measured alone: length, encoding, the screen limit for it. */
function textMeasures(files: ContentFiles, limits: CompiledFlows['limits']) {
  const out: Record<string, Record<string, { length: number; encoding: string; limit: number }>> = {};
  for (const [path, text] of Object.entries(files)) {
    if (!path.startsWith('locales/') || !path.endsWith('.json')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      continue;
    }
    const measures: (typeof out)[string] = {};
    for (const [key, value] of flatTexts(parsed)) {
      const m = measure(value.normalize('NFC'));
      measures[key] = { length: m.length, encoding: m.encoding, limit: limitFor(m, limits) };
    }
    out[path] = measures;
  }
  return out;
}

/** `{ home: { title: "…" } }` as `home.title` → text; `$review` and other `$` keys are the file's own data. */
function flatTexts(value: unknown, prefix = ''): [string, string][] {
  if (typeof value === 'string') return prefix ? [[prefix, value]] : [];
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => (k.startsWith('$') ? [] : flatTexts(v, prefix ? `${prefix}.${k}` : k)));
}

/** The text keys a node shows (its text, its options' labels, …): every `ns:key` string it holds. */
function textKeysOf(node: FlowNode): string[] {
  const keys: string[] = [];
  const walk = (v: unknown, depth: number) => {
    if (typeof v === 'string') {
      if (/^[a-z][\w-]*:[\w.-]+$/.test(v)) keys.push(v);
    } else if (v && typeof v === 'object' && depth < 4) {
      for (const inner of Object.values(v)) walk(inner, depth + 1);
    }
  };
  walk(node, 0);
  return keys;
}

/** For each text key, per language, the fullest screen (as written, no other spelling or form) that shows it. */
function screensByText(check: FlowCheck): DraftCheck['screens'] {
  const out: DraftCheck['screens'] = {};
  if (!check.flows) return out;
  const rows = check.report.filter((r) => !r.form && (r.spelling === '-' || r.spelling === 'standard') && !r.sample);
  for (const node of check.flows.nodes.values()) {
    const keys = textKeysOf(node);
    for (const row of rows.filter((r) => r.node === node.id)) {
      for (const key of keys) {
        const byLang = (out[key] ??= {});
        const known = byLang[row.lang];
        if (!known || row.longest / row.limit > known.length / known.limit) byLang[row.lang] = { node: node.id, length: row.longest, limit: row.limit, encoding: row.encoding, pages: row.pages };
      }
    }
  }
  return out;
}
