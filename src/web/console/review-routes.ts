/**
 * The review of the strings of each language under review (admins; the
 * languages with `review: true` in flows/languages.yaml, chosen with `lang`,
 * the first by default): French and that language side by side, filtered by
 * state and namespace; a reviewer edits a string and signs it off; the
 * screens as the caller sees them; CSV export and import for reviewers
 * working offline.
 *
 * Every change goes through src/i18n/review.ts (checked against the French
 * placeholders and the whole flow check before anything is written), then
 * through the publisher like the Menus page's button: an edited text is live
 * within the request, or refused with the problem shown and nothing written.
 * Every sign-off, edit, export and import is in the audit log.
 */
import express, { type Response, type Router } from 'express';
import type { AppContext } from '../../context.js';
import { flowOptions, type FlowSetOptions } from '../../flows/flow-set.js';
import type { FlowPublisher } from '../../flows/flow-publisher.js';
import { createReviewWorkspace, type ReviewChangeOutcome } from '../../content/review-workspace.js';
import { applyReview, loadReview, reviewCounts, reviewLanguages, REVIEW_STATES, type ReviewEntry, type ReviewLanguage, type ReviewSources, type ReviewState } from '../../i18n/review.js';
import { importReviewCsv, MAX_REVIEW_CSV_BYTES, reviewCsv, reviewCsvFileName } from '../../i18n/review-csv.js';
import { audit } from '../../store/user-store.js';
import { requireRole, verifyCsrf, type ConsoleLocals } from './console-auth.js';
import { t, word } from './console-i18n.js';
import { fmt, page } from './page.js';
import { compileSpellings, previewOf } from './review-preview.js';

/** The state filter's choices, as a reviewer reads them (in French: shown with `t()`). */
export const STATE_LABELS: Readonly<Record<ReviewState, string>> = {
  draft: word('À relire (brouillon automatique)'),
  changed: word('Modifié depuis la relecture'),
  reviewed: word('Relu'),
};

/** Short labels for the badges. */
export const STATE_BADGES: Readonly<Record<ReviewState, string>> = { draft: word('à relire'), changed: word('modifié depuis la relecture'), reviewed: word('relu') };

const KIND_LABELS = { text: word('texte'), variable: word('variable'), keyword: word('mots-clés SMS') } as const;

/** A namespace as the filter names it. */
export function namespaceLabel(ns: string): string {
  if (ns === 'variables') return t('variables (flows/variables.yaml)');
  if (ns === 'keywords') return t('mots-clés SMS (flows/keywords.yaml)');
  return t('textes « {{file}} »', { file: ns });
}

const ID = /^[a-z0-9_]+:[a-z0-9_.]+$/i;

interface Filters {
  /** the language under review: always set */
  lang: string;
  state?: ReviewState;
  ns?: string;
}

function filtersOf(q: Record<string, unknown>, lang: string): Filters {
  const f: Filters = { lang };
  if (typeof q.state === 'string' && (REVIEW_STATES as readonly string[]).includes(q.state)) f.state = q.state as ReviewState;
  if (typeof q.ns === 'string' && /^[a-z0-9_]{1,40}$/.test(q.ns)) f.ns = q.ns;
  return f;
}

const queryOf = (f: Filters) => new URLSearchParams(Object.entries(f).filter(([, v]) => v) as [string, string][]).toString();
const matches = (f: Filters) => (e: ReviewEntry) => e.language === f.lang && (!f.state || e.state === f.state) && (!f.ns || e.namespace === f.ns);

/**
 * The language a request names (`lang`, in the query or the form), among
 * the content's languages under review; none named: the first of them. A
 * plain French reason when it is not one of them.
 */
function languageOf(value: unknown, languages: readonly ReviewLanguage[]): ReviewLanguage | { refused: string } {
  if (!languages.length) return { refused: t('Aucune langue n’est à relire (review: true dans flows/languages.yaml).') };
  if (value === undefined || value === '') return languages[0]!;
  const found = typeof value === 'string' ? languages.find((l) => l.code === value) : undefined;
  if (found) return found;
  return { refused: t('Langue inconnue ou sans relecture : « {{lang}} » (langues à relire : {{codes}}).', { lang: String(value).slice(0, 20), codes: languages.map((l) => l.code).join(', ') }) };
}

/** An entry as the pages show it: the reader's words, dates as the console writes them. */
function rowOf(e: ReviewEntry) {
  return {
    ...e,
    kindLabel: t(KIND_LABELS[e.kind]),
    stateLabel: t(STATE_BADGES[e.state]),
    reviewedBy: e.by ?? (e.state === 'draft' ? '' : t('relu avant le registre des relectures (sans nom)')),
    reviewedAt: e.at ? fmt(e.at) : '',
    href: `/texts/edit?${new URLSearchParams({ lang: e.language, id: e.id }).toString()}`,
    /** where the text lives, as an admin names it (never a temporary or absolute path) */
    fileLabel: e.kind === 'text' ? `locales/${e.language}/${e.namespace}.json` : `flows/${e.namespace}.yaml`,
  };
}

export function createReviewRoutes(ctx: AppContext, publisher: FlowPublisher): Router {
  const router = express.Router();
  const { db } = ctx;
  // Signing off changes what callers hear: the same right as publishing the menus.
  const reviewer = requireRole('admin');
  const form = express.urlencoded({ extended: false, limit: '32kb' });
  // The files on disk in development, the live version in production (src/content/review-workspace.ts).
  const workspace = createReviewWorkspace({ db, ...(ctx.content ? { content: ctx.content } : {}), publisher, options: flowOptions(ctx.config), production: ctx.config.production });
  const user = (res: Response) => (res.locals as ConsoleLocals).session!.user;

  /** The content the review reads, and the language a request names; undefined once it has answered 400. */
  const open = async (res: Response, lang: unknown): Promise<{ sources: ReviewSources; options: FlowSetOptions; language: ReviewLanguage; languages: ReviewLanguage[] } | undefined> => {
    const { sources, options } = await workspace.read();
    const { languages } = reviewLanguages(sources, options.root);
    const language = languageOf(lang, languages);
    if ('refused' in language) return void res.status(400).type('text/plain').send(language.refused);
    return { sources, options, language, languages };
  };

  /** What became of a change, to say after its own message. */
  const published = (outcome: ReviewChangeOutcome): string => {
    if (outcome.published) return ` ${t('Publié : version {{hash}}.', { hash: outcome.published })}`;
    if (outcome.refused === 'invalid') return ` ${t('La publication a été refusée : voir la page Menus.')}`;
    if (outcome.refused === 'busy') return ` ${t('Pas encore en ligne : d’autres versions ont été publiées entre-temps, réessayez.')}`;
    return '';
  };

  router.get('/texts', reviewer, async (req, res) => {
    const opened = await open(res, req.query.lang);
    if (!opened) return;
    const { sources, options, language, languages } = opened;
    const f = filtersOf(req.query, language.code);
    const review = loadReview(sources, options.root);
    const entries = review.entries.filter((e) => e.language === language.code);
    const namespaces = [...new Set(entries.map((e) => e.namespace))];
    const rows = entries.filter(matches(f)).map(rowOf);
    const counts = reviewCounts(entries);
    const done = typeof req.query.done === 'string' && ID.test(req.query.done) ? req.query.done : null;
    page(res, 'texts', t('Relecture : {{language}}', { language: language.name }), 'texts', {
      language,
      languages,
      rows,
      f,
      query: queryOf(f),
      counts,
      namespaces: namespaces.map((ns) => ({ id: ns, label: namespaceLabel(ns) })),
      states: Object.entries(STATE_LABELS).map(([code, label]) => [code, t(label)]),
      problems: review.problems.map((p) => p.message),
      message: done ? t('« {{id}} » est enregistré.', { id: done }) : null,
      maxCsvMb: MAX_REVIEW_CSV_BYTES / 1024 / 1024,
    });
  });

  const showEdit = async (res: Response, lang: unknown, id: string, extra: { message?: string; messageClass?: string; problems?: string[]; draft?: string } = {}) => {
    const opened = await open(res, lang);
    if (!opened) return;
    const { sources, options, language } = opened;
    const entries = loadReview(sources, options.root).entries.filter((e) => e.language === language.code);
    const entry = entries.find((e) => e.id === id);
    if (!entry) return void res.status(404).type('text/plain').send(t('texte inconnu'));
    const compiled = compileSpellings(options, language.code, language.name);
    const preview = previewOf(entry, entries, compiled);
    const flows = [...new Set(preview.screens.map((s) => s.flow))];
    page(res, 'text-edit', t('Relecture : {{id}}', { id: entry.id }), 'texts', {
      e: rowOf(entry),
      language,
      spellings: compiled.spellings,
      preview,
      columns: compiled.columns,
      simulator: flows.map((flow) => ({ flow, href: `/simulator?${new URLSearchParams({ lang: language.code, flow }).toString()}` })),
      draft: extra.draft ?? entry.text,
      message: extra.message ?? null,
      messageClass: extra.messageClass ?? 'ok',
      problems: extra.problems ?? [],
    });
  };

  router.get('/texts/edit', reviewer, async (req, res) => {
    const id = typeof req.query.id === 'string' && ID.test(req.query.id) ? req.query.id : '';
    const saved = req.query.saved === '1' ? t('Enregistré.') : undefined;
    await showEdit(res, req.query.lang, id, saved ? { message: saved } : {});
  });

  router.post('/texts/sign-off', form, reviewer, verifyCsrf, async (req, res) => {
    const b = req.body as Record<string, string | undefined>;
    const id = String(b.id ?? '');
    if (!ID.test(id)) return void res.status(400).type('text/plain').send(t('texte inconnu'));
    const opened = await open(res, b.lang);
    if (!opened) return;
    const lang = opened.language.code;
    const who = user(res);
    const signOff = b.signoff === '1';
    const change = { id, signOff, ...(b.text !== undefined ? { text: b.text } : {}) };
    const result = await workspace.change(who.name, `relecture : ${lang}/${id}`, (sources, options) => applyReview(sources, options, lang, [change], who.name));
    const fromList = b.from === 'list';
    if (!result.ok) {
      res.status(422);
      if (fromList) return void res.type('text/plain').send(result.problems.join('\n'));
      return void (await showEdit(res, lang, id, { message: t('Refusé : rien n’est enregistré.'), messageClass: 'error', problems: result.problems, ...(b.text !== undefined ? { draft: b.text } : {}) }));
    }
    if (result.edited.length) await audit(db, who, 'edit_text', `${lang}/${id}`, signOff ? 'modifié et relu' : 'modifié, à relire');
    else if (result.signedOff.length) await audit(db, who, 'review_text', `${lang}/${id}`, 'relu tel quel');
    const outcome = published(result);
    if (fromList) {
      const back = queryOf(filtersOf({ state: b.state, ns: b.ns }, lang));
      return res.redirect(303, `/texts?${back}&done=${encodeURIComponent(id)}#row-${encodeURIComponent(id)}`);
    }
    const saved = result.edited.length
      ? result.signedOff.length ? t('Texte enregistré et relu.') : t('Texte enregistré.')
      : result.signedOff.length ? t('Rien à changer dans le texte et relu.') : t('Rien à changer dans le texte.');
    const message = `${saved}${outcome}`;
    await showEdit(res, lang, id, { message });
  });

  router.get('/texts.csv', reviewer, async (req, res) => {
    const opened = await open(res, req.query.lang);
    if (!opened) return;
    const { sources, options, language } = opened;
    const f = filtersOf(req.query, language.code);
    const { entries } = loadReview(sources, options.root);
    await audit(db, user(res), 'export_texts', undefined, queryOf(f));
    res.type('text/csv; charset=utf-8').attachment(reviewCsvFileName(language.code));
    res.send(reviewCsv(entries.filter(matches(f)), language.code));
  });

  // The page's script sends the file as the body (like the stations import); the role and token are checked first.
  // The file's header names its language (`?lang=`, when given, must be the same).
  router.post('/texts/import', reviewer, verifyCsrf, express.text({ type: ['text/csv', 'text/plain', 'application/vnd.ms-excel'], limit: MAX_REVIEW_CSV_BYTES }), async (req, res) => {
    if (typeof req.body !== 'string' || !req.body.trim()) return void res.status(400).json({ ok: false, message: t('Fichier vide ou illisible (envoyez un fichier CSV).'), problems: [] });
    let lang: string | undefined;
    if (req.query.lang !== undefined) {
      const opened = await open(res, req.query.lang);
      if (!opened) return;
      lang = opened.language.code;
    }
    const who = user(res);
    const text = req.body;
    const result = await workspace.change(who.name, `relecture : import CSV${lang ? ` (${lang})` : ''}`, (sources, options) => importReviewCsv(sources, options, lang, text, who.name));
    if (!result.ok) {
      await audit(db, who, 'import_texts', undefined, `${lang ? `${lang} : ` : ''}refusé (${result.problems.length} problème(s))`);
      return void res.status(422).json({ ok: false, message: t('Import refusé : rien n’est enregistré. Corrigez ces lignes et réessayez.'), problems: result.problems });
    }
    await audit(db, who, 'import_texts', undefined, `${result.language} : ${result.edited.length} modifié(s), ${result.signedOff.length} relu(s)`);
    res.json({ ok: true, message: `${t('Import enregistré : {{edited}} texte(s) modifié(s), {{reviewed}} relu(s).', { edited: result.edited.length, reviewed: result.signedOff.length })}${published(result)}`, problems: [] });
  });

  return router;
}
