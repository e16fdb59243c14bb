/**
 * The operator and admin console: server-rendered pages (Eta, escaped by
 * default), a little progressive JavaScript, and Chart.js served from this
 * server (no CDN). Every route denies by default; every form carries the
 * session's CSRF token.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, type Request, type Response, type Router } from 'express';
import type { AppContext } from '../../context.js';
import type { FlowNode } from '../../engine/types.js';
import { renderPages } from '../../engine/render.js';
import { measure, limitFor } from '../../i18n/gsm.js';
import { formatProblem } from '../../flows/problems.js';
import { outgoing } from '../../flows/flow-validator.js';
import type { FlowPublisher, PublishResult } from '../../flows/flow-publisher.js';
import { decryptText, maskPhone } from '../../privacy/phone.js';
import { SAMPLE_REF } from '../../flows/screen-report.js';
import {
  analytics,
  auditUsers,
  callTranscript,
  changeReportStatus,
  countsForDashboard,
  listAudit,
  listCalls,
  listFlowVersions,
  listReports,
  listSms,
  REPORT_TRANSITIONS,
  reportDetail,
  smsDetail,
  type AuditFilters,
  type CallFilters,
  type ReportFilters,
} from '../../store/console-queries.js';
import { insertSms, isOptedOut } from '../../store/sms-store.js';
import { audit, checkPassword, closeSession, openSession } from '../../store/user-store.js';
import { reportStatusKey } from '../../sms/sms-text.js';
import {
  addressKey,
  consoleHeaders,
  createInFlightCap,
  createLoginLimiter,
  createSemaphore,
  loadSession,
  requireRole,
  safeNext,
  sameOriginOnly,
  setSessionCookie,
  SESSION_TTL_MS,
  verifyCsrf,
  type ConsoleLocals,
} from './console-auth.js';
import { csvRow } from './csv.js';
import { PRIVATE_INPUT } from '../../privacy/private-input.js';
import {
  answerChoices,
  answerLabel,
  AUDIT_ACTIONS,
  auditActionLabel,
  CALL_OUTCOME_LABELS,
  codeSegments,
  languageLabel,
  LANGUAGE_LABELS,
  nodeKindLabel,
  problemMessage,
  REPORT_STATUS_LABELS,
  reportContactLabel,
  reportStatusLabel,
  screenTitle,
  SMS_STATUS_LABELS,
  smsTemplateText,
} from './labels.js';
import { simulatorStep } from './simulator.js';
import { createSimulatorPhone, DEFAULT_SIMULATOR_PHONE } from './simulator-phone.js';
import { createStationRoutes } from './station-routes.js';
import { createReviewRoutes } from './review-routes.js';
import { createAccountRoutes } from './accounts-routes.js';
import { checkFlows, flowOptions, type FlowCheck } from '../../flows/flow-set.js';
import { loadReview, reviewSources, withReviewWarnings } from '../../i18n/review.js';
import type { Problem } from '../../flows/problems.js';
import { fmtHour, forbiddenPage, messagePage, page } from './page.js';
import type { CompiledFlows } from '../../engine/types.js';

const here = dirname(fileURLToPath(import.meta.url));
// Chart.js's exports map hides its UMD build; it sits beside the CommonJS entry.
const chartJsFile = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

/** The query string of the current filters, for pager and export links. */
function queryOf(f: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v !== undefined && v !== '' && k !== 'page') q.set(k, String(v));
  return q.toString();
}

/** Control characters (NUL above all, which PostgreSQL refuses) never reach a query. */
const CONTROL = /[\u0000-\u001f\u007f]/;
const str = (v: unknown) => (typeof v === 'string' && v.trim() && !CONTROL.test(v) ? v.trim().slice(0, 100) : undefined);
const int = (v: unknown, max = 100_000) => (typeof v === 'string' && /^\d{1,6}$/.test(v) && Number(v) <= max ? Number(v) : undefined);
/** Pages beyond this are refused: filters narrow a long list, deep offsets only cost the database. */
const MAX_PAGE = 200;
const date = (v: unknown) => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)) ? v : undefined);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A query parameter the page cannot use: the caller is told which, plainly (never a 500). */
class BadQuery extends Error {}

/** The first page of a screen in French, as a caller with no answers yet sees it (for its title). */
function frenchScreen(flows: CompiledFlows, nodeId: string): string | undefined {
  const node = flows.nodes.get(nodeId);
  if (!node) return undefined;
  // A reference in a title would look like a real one: it reads as « KA-… ».
  return renderPages(flows, node, { lang: 'fr', ref: 'KA-…', answers: {}, trail: node.id === flows.home ? [] : [flows.home], invalid: 0 })[0];
}

/** The words pages show for what the live flows define: screen titles, SMS texts, choice answers. */
function flowWords(flows: CompiledFlows) {
  const screen = (nodeId: string | null | undefined) => screenTitle(flows, nodeId, (id) => frenchScreen(flows, id));
  return {
    screen,
    smsText: (template: string, vars?: Record<string, string> | null) => smsTemplateText(flows, template, vars),
    answer: (field: string, value: string | null | undefined) => answerLabel(flows, field, value),
    /** Every screen, flow by flow, for the "screen reached" filter: the group is named by its first screen. */
    screenGroups: () =>
      [...flows.starts.entries()].map(([flow, start]) => ({
        label: screen(start),
        screens: [...flows.nodes.values()].filter((n) => n.flow === flow).map((n) => ({ value: n.id, label: screen(n.id) })),
      })),
  };
}

/** `?page=`: absent is 1; anything but a whole number from 1 to MAX_PAGE is refused. */
function pageOf(q: Request['query']): number {
  if (q.page === undefined || q.page === '') return 1;
  const p = typeof q.page === 'string' && /^\d{1,3}$/.test(q.page) ? Number(q.page) : 0;
  if (p < 1 || p > MAX_PAGE) throw new BadQuery(`Le numéro de page doit être un nombre entier de 1 à ${MAX_PAGE}.`);
  return p;
}

function callFilters(q: Request['query']): CallFilters {
  const f: CallFilters = {};
  const set = <K extends keyof CallFilters>(k: K, v: CallFilters[K] | undefined) => {
    if (v !== undefined) f[k] = v;
  };
  set('from', date(q.from));
  set('to', date(q.to));
  set('lang', str(q.lang));
  set('outcome', str(q.outcome));
  set('network', str(q.network));
  set('node', str(q.node));
  set('minDuration', int(q.minDuration));
  set('page', pageOf(q));
  return f;
}

function reportFilters(q: Request['query']): ReportFilters {
  const f: ReportFilters = { page: pageOf(q) };
  for (const k of ['region', 'incident', 'status'] as const) {
    const v = str(q[k]);
    if (v) f[k] = v;
  }
  const from = date(q.from);
  const to = date(q.to);
  if (from) f.from = from;
  if (to) f.to = to;
  if (['1', 'true'].includes(str(q.simulated) ?? '')) f.simulated = true;
  return f;
}

function auditFilters(q: Request['query']): AuditFilters {
  const f: AuditFilters = {};
  const action = str(q.action);
  const user = str(q.user);
  const from = date(q.from);
  const to = date(q.to);
  if (action) f.action = action;
  if (user) f.user = user;
  if (from) f.from = from;
  if (to) f.to = to;
  if (q.before !== undefined) {
    if (typeof q.before !== 'string' || !/^\d{1,18}$/.test(q.before)) throw new BadQuery('« before » doit être un numéro de ligne du journal.');
    f.before = q.before;
  }
  return f;
}

export function createConsoleRouter(ctx: AppContext, publisher: FlowPublisher): Router {
  const router = express.Router();
  const { db } = ctx;
  const production = ctx.config.production;
  const operator = requireRole('operator');
  const admin = requireRole('admin');
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  const user = (res: Response) => (res.locals as ConsoleLocals).session!.user;

  router.use('/assets', express.static(join(here, '..', 'assets'), { maxAge: '1h' }));
  router.get('/assets/chart.umd.min.js', (_req, res) => res.sendFile(chartJsFile, { maxAge: '1d' }));
  router.use(consoleHeaders(production), sameOriginOnly, loadSession(db, production));
  const limiter = createLoginLimiter(ctx.redis, ctx.redisPrefix);
  const passwordChecks = createSemaphore(4);
  // Checks waiting or running in this process: 4 per address while it waits or is checked, and 64
  // checks in all. None per account: guesses from elsewhere could fill it and refuse the owner.
  const inFlight = createInFlightCap();

  // Sign in and out.
  const loginPage = (res: Response, status: number, next: string, error: string | null) => {
    res.status(status);
    page(res, 'login', 'Connexion', 'login', { next, error });
  };
  const busy = 'Trop de connexions en cours. Réessayez dans quelques secondes.';
  router.get('/login', (req, res) => loginPage(res, 200, safeNext(req.query.next), null));
  router.post('/login', form, async (req, res) => {
    const b = req.body as Record<string, string | undefined>;
    const next = safeNext(b.next);
    const name = String(b.name ?? '').slice(0, 100);
    const password = String(b.password ?? '').slice(0, 200);
    if (CONTROL.test(name) || password.includes('\u0000')) return loginPage(res, 400, next, 'Nom ou mot de passe illisible.');
    const address = req.ip ?? 'unknown';
    const mine = inFlight.take([`ip:${addressKey(address)}`, 4]);
    if (!mine) return loginPage(res, 429, next, busy);
    try {
      // Counted before the password is checked, in one step: parallel guesses cannot outrun the limit.
      const admission = await limiter.admit(address, name);
      if (!admission.admitted) return loginPage(res, 429, next, 'Trop de tentatives. Réessayez dans 15 minutes.');
      if (admission.delayMs) await new Promise((resolve) => setTimeout(resolve, admission.delayMs));
      // Taken after the slow-down: slowed guesses hold no place that the owner's sign-in needs.
      const checking = inFlight.take(['all', 64]);
      if (!checking) {
        await limiter.cancelled(address, name);
        return loginPage(res, 429, next, busy);
      }
      let found;
      try {
        found = await passwordChecks(() => checkPassword(db, name, password));
      } finally {
        checking();
      }
      if (!found) {
        await limiter.failed(address, name);
        await audit(db, undefined, 'login_failed', name, address);
        return loginPage(res, 401, next, 'Nom ou mot de passe incorrect.');
      }
      await limiter.succeeded(address, name);
      // A new session id at every login; the old one, if any, is closed.
      const old = (res.locals as ConsoleLocals).token;
      if (old) await closeSession(db, old);
      const { token } = await openSession(db, found, SESSION_TTL_MS);
      setSessionCookie(res, req, production, token);
      await audit(db, found, 'login');
      res.redirect(303, next);
    } finally {
      mine();
    }
  });
  router.post('/logout', form, operator, verifyCsrf, async (req, res) => {
    await closeSession(db, (res.locals as ConsoleLocals).token!);
    setSessionCookie(res, req, production, null);
    res.redirect(303, '/login');
  });

  // The simulator: open without login outside production.
  const simulatorGate = production ? [operator] : [];
  router.get('/simulator', ...simulatorGate, (_req, res) => page(res, 'simulator', 'Simulateur', 'simulator', { flows: [...ctx.flows.live().starts.keys()], phone: DEFAULT_SIMULATOR_PHONE }));
  router.post('/simulator/step', ...simulatorGate, express.json({ limit: '32kb' }), ...(production ? [verifyCsrf] : []), simulatorStep(ctx.flows, ctx.lookup));
  const simulatorPhone = createSimulatorPhone({ ctx, lookup: ctx.lookup });
  router.post('/simulator/call', ...simulatorGate, express.json({ limit: '4kb' }), ...(production ? [verifyCsrf] : []), simulatorPhone.call);
  router.post('/simulator/sms', ...simulatorGate, express.json({ limit: '4kb' }), ...(production ? [verifyCsrf] : []), simulatorPhone.sms);
  router.get('/simulator/inbox', ...simulatorGate, simulatorPhone.inbox);

  // requireRole refuses a wrong role with a line of plain text: a signed-in operator who opens an
  // admin page sees the console's own page instead (requireRole stays the guard for everything else).
  const ADMIN_PAGES = ['/flows', '/texts', '/stations', '/accounts', '/audit'];
  router.use(ADMIN_PAGES, (req, res, next) => {
    const session = (res.locals as ConsoleLocals).session;
    if (req.method !== 'GET' || !session || session.user.role === 'admin' || !req.accepts('html')) return next();
    forbiddenPage(res);
  });

  // Everything below needs an account.
  router.get('/', operator, async (_req, res) => page(res, 'home', 'Tableau de bord', 'home', { counts: await countsForDashboard(db) }));
  router.get('/api/counters', operator, async (_req, res) => {
    res.json(await countsForDashboard(db));
  });

  router.get('/calls', operator, async (req, res) => {
    const f = callFilters(req.query);
    const list = await listCalls(db, f);
    page(res, 'calls', 'Appels', 'calls', { ...list, f, query: queryOf({ ...f }), ...flowWords(ctx.flows.live()), outcomes: CALL_OUTCOME_LABELS, languages: LANGUAGE_LABELS });
  });
  router.get('/calls.csv', operator, async (req, res) => {
    const f = callFilters(req.query);
    const { rows } = await listCalls(db, { ...f, page: 1 }, 10_000);
    await audit(db, user(res), 'export_calls', undefined, queryOf({ ...f }));
    res.type('text/csv; charset=utf-8').attachment('kalata-appels.csv');
    let out = csvRow(['started_at', 'phone', 'language', 'network', 'service_code', 'steps', 'last_node', 'outcome', 'duration_s']);
    for (const c of rows) {
      const duration = Math.round((new Date(c.updated_at).getTime() - new Date(c.started_at).getTime()) / 1000);
      out += csvRow([c.started_at, c.phone_masked, c.language, c.network_code, c.service_code, c.steps, c.last_node, c.outcome, duration]);
    }
    res.send(out);
  });
  router.get('/calls/:id', operator, async (req, res) => {
    const id = String(req.params.id);
    const found = UUID.test(id) ? await callTranscript(db, id) : undefined;
    if (!found) return messagePage(res, 404, 'Appel introuvable', 'Aucun appel ne porte cet identifiant : il a pu être effacé à la fin de sa durée de conservation.');
    await audit(db, user(res), 'view_call', id);
    page(res, 'call', 'Appel', 'calls', { ...found, hidden: PRIVATE_INPUT, ...flowWords(ctx.flows.live()) });
  });

  /** The words report pages show for stored codes: incident types and regions as callers saw them, statuses, the contact choice. */
  const reportWords = () => {
    const flows = ctx.flows.live();
    return {
      ...flowWords(flows),
      incidents: answerChoices(flows, 'incident'),
      regions: answerChoices(flows, 'region'),
      statuses: REPORT_STATUS_LABELS,
      statusLabel: reportStatusLabel,
      contactLabel: reportContactLabel,
    };
  };
  router.get('/reports', operator, async (req, res) => {
    const f = reportFilters(req.query);
    const list = await listReports(db, f);
    page(res, 'reports', 'Signalements', 'reports', { ...list, f, query: queryOf({ ...f }), ...reportWords() });
  });
  router.get('/reports.csv', operator, async (req, res) => {
    const f = reportFilters(req.query);
    await audit(db, user(res), 'export_reports', undefined, queryOf({ ...f }));
    res.type('text/csv; charset=utf-8').attachment('kalata-signalements.csv');
    let out = csvRow(['ref', 'created_at', 'status', 'incident', 'region', 'place', 'description', 'language', 'contact']);
    for (let page = 1; page <= 200; page++) {
      const list = await listReports(db, { ...f, page });
      for (const r of list.rows) out += csvRow([r.ref, r.created_at, r.status, r.incident, r.region, r.fields.place, r.fields.description, r.language, r.contact]);
      if (!list.hasNext) break;
    }
    res.send(out);
  });
  const showReport = async (req: Request, res: Response, extra: Record<string, unknown> = {}) => {
    const id = String(req.params.id);
    const found = /^\d{1,18}$/.test(id) ? await reportDetail(db, id) : undefined;
    if (!found) return messagePage(res, 404, 'Signalement introuvable', 'Aucun signalement ne porte ce numéro.');
    page(res, 'report', `Signalement ${found.report.ref}`, 'reports', { ...found, next: REPORT_TRANSITIONS[found.report.status] ?? [], revealed: null, message: null, ...reportWords(), ...extra });
  };
  router.get('/reports/:id', operator, async (req, res) => {
    await audit(db, user(res), 'view_report', String(req.params.id).slice(0, 20));
    await showReport(req, res);
  });
  router.post('/reports/:id/status', form, operator, verifyCsrf, async (req, res) => {
    const b = req.body as Record<string, string | undefined>;
    const id = String(req.params.id);
    const to = String(b.status ?? '');
    const note = b.note?.trim() ? b.note.trim().slice(0, 1000) : null;
    const who = user(res);
    const changed = /^\d{1,18}$/.test(id) ? await changeReportStatus(db, id, to, who.name, note) : { ok: false };
    if (!changed.ok) {
      res.status(409);
      return await showReport(req, res, { message: 'Ce changement de statut n’est pas permis.', messageClass: 'error' });
    }
    await audit(db, who, 'report_status', id, `${changed.from} -> ${to}`);
    let message = 'Statut enregistré.';
    if (b.notify === '1' && to !== changed.from) {
      const report = await db.selectFrom('reports').select(['ref', 'phone_hash', 'phone_enc', 'language']).where('id', '=', id).executeTakeFirstOrThrow();
      if (!report.phone_enc || !report.phone_hash) {
        // Filed without SMS or without a number, or the number is past its retention.
        message += ' Pas de SMS : ce signalement ne garde pas de numéro.';
      } else if (await isOptedOut(db, report.phone_hash)) {
        message += ' Pas de SMS : l’auteur a demandé STOP.';
      } else {
        const lang = report.language === 'bm' ? 'bm' : 'fr';
        const smsId = await insertSms(db, {
          dedupeKey: `status:${report.ref}:${to}`,
          kind: 'status_update',
          ref: report.ref,
          phoneHash: report.phone_hash,
          phoneEnc: report.phone_enc,
          language: lang,
          template: 'sms:status',
          vars: { ref: report.ref, status: ctx.flows.live().texts(lang, reportStatusKey(to)) },
        });
        if (smsId) await ctx.sms.enqueue(db, [smsId]).catch(() => undefined);
        message += ' SMS à l’auteur mis en file.';
      }
    }
    await showReport(req, res, { message, messageClass: 'ok' });
  });
  router.post('/reports/:id/reveal', form, admin, verifyCsrf, async (req, res) => {
    const id = String(req.params.id);
    const report = /^\d{1,18}$/.test(id) ? await db.selectFrom('reports').select(['ref', 'phone_enc']).where('id', '=', id).executeTakeFirst() : undefined;
    if (!report?.phone_enc) return messagePage(res, 404, 'Pas de numéro', 'Ce signalement ne garde pas de numéro (choix de l’auteur, ou durée de conservation passée) : il n’y a rien à afficher.');
    const reason = String((req.body as Record<string, unknown>).reason ?? '').trim().slice(0, 300);
    if (reason.length < 5) {
      res.status(400);
      return await showReport(req, res, { message: 'Indiquez pourquoi vous affichez ce numéro.', messageClass: 'error' });
    }
    await audit(db, user(res), 'reveal_number', report.ref, `${reason} (depuis ${req.ip ?? '?'})`);
    const phone = decryptText(ctx.secrets.dataEncryptionKey, report.phone_enc);
    await showReport(req, res, { revealed: phone, message: `Numéro affiché pour ${maskPhone(phone)} : cette consultation est journalisée.`, messageClass: 'ok' });
  });

  router.get('/sms', operator, async (req, res) => {
    const status = str(req.query.status);
    const list = await listSms(db, pageOf(req.query), status);
    page(res, 'sms', 'SMS', 'sms', { ...list, f: { status }, statuses: SMS_STATUS_LABELS, ...flowWords(ctx.flows.live()) });
  });
  router.get('/sms/:id', operator, async (req, res) => {
    const id = String(req.params.id);
    const found = /^\d{1,18}$/.test(id) ? await smsDetail(db, id) : undefined;
    if (!found) return messagePage(res, 404, 'SMS introuvable', 'Aucun SMS ne porte ce numéro.');
    page(res, 'sms-message', `SMS ${id}`, 'sms', { ...found, ...flowWords(ctx.flows.live()) });
  });

  router.get('/analytics', operator, async (_req, res) => {
    const data = await analytics(db);
    const flows = ctx.flows.live();
    const words = flowWords(flows);
    const counts = new Map(data.topics.map((t) => [t.label, t.n]));
    // Each step of a flow with the calls that reached it, and how many of those that entered the flow did not.
    const funnels = [...flows.starts.entries()]
      .filter(([f]) => f !== flows.entryFlow)
      .map(([flow, start]) => {
        // A flow branches: a step's drop-off is counted from the calls that entered the flow, not from the line above.
        const entered = counts.get(start) ?? 0;
        const steps = [...flows.nodes.values()]
          .filter((n) => n.flow === flow)
          .map((n) => {
            const count = counts.get(n.id) ?? 0;
            const lost = Math.max(0, entered - count);
            return { id: n.id, label: words.screen(n.id), n: count, lost, lostShare: entered ? Math.round((100 * lost) / entered) : null };
          });
        return { flow, title: words.screen(start), entered, steps };
      });
    const json = JSON.stringify({
      perHour: data.perHour.map((r) => ({ label: fmtHour(r.hour), n: r.n })),
      languages: data.languages.map((r) => ({ label: languageLabel(r.label), n: r.n })),
      topics: data.topics.filter((t) => t.label.startsWith('vote.') || t.label.startsWith('main.help')).map((t) => ({ label: words.screen(t.label), n: t.n })),
      regions: data.regions.map((r) => ({ label: r.label === '?' ? 'non précisée' : words.answer('region', r.label), n: r.n })),
      incidents: data.incidents.map((r) => ({ label: r.label === '?' ? 'non précisé' : words.answer('incident', r.label), n: r.n })),
      funnels: funnels.map((f) => ({ flow: f.flow, steps: f.steps.map((s) => ({ label: s.label, n: s.n })) })),
    }).replace(/</g, '\\u003c'); // `</` cannot close the script element the JSON sits in.
    page(res, 'analytics', 'Analyses', 'analytics', { json, funnels });
  });

  // The publisher has no check until the first reload: the page shows this one, made once, of the files at boot.
  let bootCheck: FlowCheck | undefined;
  const currentCheck = () => publisher.last() ?? (bootCheck ??= checkFlows(flowOptions(ctx.config)));
  const showFlows = async (res: Response, result?: PublishResult) => {
    const flows = ctx.flows.live();
    const check = currentCheck();
    const review = loadReview(reviewSources(flowOptions(ctx.config)));
    const problems = problemLines([...withReviewWarnings(check.problems, review.entries), ...review.problems]);
    const tree = [...flows.starts.keys()].map((flowId) => ({
      id: flowId,
      nodes: [...flows.nodes.values()].filter((n) => n.flow === flowId).map((n) => describeNode(ctx, n)),
    }));
    const message = result
      ? result.published
        ? `Publié : version ${result.hash}.`
        : result.check.flows
          ? 'Rien de nouveau à publier.'
          : 'Refusé : la version en ligne reste. Corrigez les erreurs ci-dessous.'
      : null;
    page(res, 'flows', 'Menus', 'flows', {
      liveHash: flows.hash,
      problems,
      versions: await listFlowVersions(db),
      tree,
      result: message ? { message, published: result!.published, errors: !result!.check.flows } : null,
    });
  };
  router.get('/flows', admin, (_req, res) => showFlows(res));
  router.post('/flows/reload', form, admin, verifyCsrf, async (_req, res) => {
    const result = await publisher.reload(user(res).name);
    await audit(db, user(res), result.published ? 'publish_flows' : 'reload_flows', result.hash, result.check.flows ? undefined : 'rejected');
    if (!result.check.flows) res.status(422);
    await showFlows(res, result);
  });

  router.use(createStationRoutes(ctx));
  router.use(createReviewRoutes(ctx, publisher));
  router.use(createAccountRoutes(ctx, { limiter, passwordChecks }));

  router.get('/audit', admin, async (req, res) => {
    const f = auditFilters(req.query);
    const list = await listAudit(db, f);
    const { before: _before, ...kept } = f;
    page(res, 'audit', 'Journal', 'audit', { ...list, f, query: queryOf(kept), users: await auditUsers(db), actions: AUDIT_ACTIONS, label: auditActionLabel });
  });

  // A query parameter a page cannot use is the caller's mistake: 400 with the reason.
  router.use(((err, _req, res, next) => {
    if (!(err instanceof BadQuery)) return next(err);
    res.status(400).type('text/plain').send(err.message);
  }) as ErrorRequestHandler);
  return router;
}

/** The problems as the Menus page lists them: errors first, one per line, in French, codes apart. */
function problemLines(problems: readonly Problem[]) {
  const order = (p: Problem) => (p.severity === 'error' ? 0 : 1);
  return [...problems]
    .sort((a, b) => order(a) - order(b))
    .map((p) => ({ severity: p.severity, label: p.severity === 'error' ? 'Erreur' : 'Avertissement', where: `${p.file}:${p.line}:${p.col}`, message: codeSegments(problemMessage(p.message)) }));
}

/** One node's screens in both languages, with length and encoding. */
function describeNode(ctx: AppContext, node: FlowNode) {
  const flows = ctx.flows.live();
  const targets = outgoing(node);
  const pages = Object.fromEntries(
    (['fr', 'bm'] as const).map((lang) => [
      lang,
      renderPages(flows, node, { lang, ref: SAMPLE_REF, answers: {}, trail: node.id === flows.home ? [] : [flows.home], invalid: 0 }).map((text) => {
        const m = measure(text);
        return { text, length: m.length, encoding: m.encoding, limit: limitFor(m, flows.limits) };
      }),
    ]),
  );
  return { id: node.id, kind: nodeKindLabel(node.kind), targets, pages };
}
