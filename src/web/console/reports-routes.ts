/**
 * Fraud reports: the triage queue (urgent first, then oldest), its CSV export
 * (audited), one report's page, and what operators do with a report: claim it
 * (« Je m’en occupe »), give it back, an admin's take-over, a priority set by
 * hand, a note, a change of status (with the author's SMS if asked and
 * possible), and an admin's audited look at the kept number. Every action is
 * audited; the claim rules are in changeReportStatus and triage-store.ts.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { AppContext } from '../../context.js';
import { changeReportStatus, listReports, REPORT_TRANSITIONS, reportDetail, type ReportFilters } from '../../store/console-queries.js';
import { addReportNote, claimReport, NOTE_MAX_LENGTH, OPEN_STATUSES, releaseReport, setReportPriority, takeOverReport, triageCounts } from '../../store/triage-store.js';
import { insertSms, isOptedOut } from '../../store/sms-store.js';
import { audit } from '../../store/user-store.js';
import { reportStatusKey } from '../../sms/sms-text.js';
import { isPriority, priorityOf, PRIORITIES } from '../../flows/triage.js';
import { decryptText, maskPhone } from '../../privacy/phone.js';
import { requireRole, signedIn, verifyCsrf } from './console-auth.js';
import { recordingProxy } from './recording-proxy.js';
import { locale, t } from './console-i18n.js';
import { csvRow } from './csv.js';
import { reportWords } from './flow-words.js';
import { priorityLabel, PRIORITY_LABELS, reportEventDetail, reportEventLabel } from './labels.js';
import { messagePage, page, TIME_ZONE } from './page.js';
import { date, pageOf, queryOf, ROW_ID, str } from './query.js';

/** The clock and the day in the reader's language, made once per language. */
const formats = new Map<string, { clock: Intl.DateTimeFormat; day: Intl.DateTimeFormat }>();
function claimFormats() {
  const tag = locale();
  let made = formats.get(tag);
  if (!made) {
    made = {
      clock: new Intl.DateTimeFormat(tag, { timeZone: TIME_ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
      day: new Intl.DateTimeFormat(tag, { timeZone: TIME_ZONE, day: '2-digit', month: '2-digit' }),
    };
    formats.set(tag, made);
  }
  return made;
}

/** When a claim began, as a sentence ends: « à 21:40 » today, « le 30/11 à 21:40 » before ("at 21:40", "on 30/11 at 21:40"). */
export function atTime(d: Date | string, now = new Date()): string {
  const { clock, day } = claimFormats();
  const when = new Date(d);
  const time = clock.format(when);
  return day.format(when) === day.format(now) ? t('à {{time}}', { time }) : t('le {{day}} à {{time}}', { day: day.format(when), time });
}
/** Since when, in a list: « 21:40 » today, « 30/11 21:40 » before. */
export function sinceTime(d: Date | string, now = new Date()): string {
  const { clock, day } = claimFormats();
  const when = new Date(d);
  return day.format(when) === day.format(now) ? clock.format(when) : `${day.format(when)} ${clock.format(when)}`;
}

const notFound = (res: Response) => messagePage(res, 404, t('Signalement introuvable'), t('Aucun signalement ne porte ce numéro.'));

const CLAIM_FILTERS = ['mine', 'none', 'taken'] as const;

function reportFilters(q: Request['query'], who: string): ReportFilters {
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
  const claim = ['1', 'true'].includes(str(q.mine) ?? '') ? 'mine' : str(q.claim);
  if ((CLAIM_FILTERS as readonly string[]).includes(claim ?? '')) f.claim = claim as ReportFilters['claim'];
  if (f.claim === 'mine') f.who = who;
  if (str(q.sort) === 'recent') f.sort = 'recent';
  return f;
}

/** The filters as the address keeps them (`mine=1` for « Mes signalements »), without the account name. */
function filterQuery(f: ReportFilters): string {
  const { who: _who, claim, ...rest } = f;
  return queryOf({ ...rest, ...(claim === 'mine' ? { mine: '1' } : claim ? { claim } : {}) });
}

export function createReportRoutes(ctx: AppContext): Router {
  const router = express.Router();
  const { db } = ctx;
  const operator = requireRole('operator');
  const admin = requireRole('admin');
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  const words = () => ({ ...reportWords(ctx.flows.live()), priorityLabel, eventLabel: reportEventLabel, eventDetail: reportEventDetail, atTime, sinceTime });
  // The live version's triage.yaml (with flows a test brings, the file beside them).
  const triage = () => ctx.triage;

  router.get('/reports', operator, async (req, res) => {
    const who = signedIn(res);
    const f = reportFilters(req.query, who.name);
    const [list, counts] = await Promise.all([listReports(db, f, triage()), triageCounts(db, who.name)]);
    page(res, 'reports', f.claim === 'mine' ? t('Mes signalements') : t('Signalements'), 'reports', {
      ...list,
      f,
      counts,
      query: filterQuery({ ...f, page: undefined }),
      priorities: PRIORITY_LABELS,
      open: OPEN_STATUSES,
      ...words(),
    });
  });
  router.get('/reports.csv', operator, async (req, res) => {
    const who = signedIn(res);
    const f = reportFilters(req.query, who.name);
    await audit(db, who, 'export_reports', undefined, filterQuery({ ...f, page: undefined }));
    res.type('text/csv; charset=utf-8').attachment(t('kalata-signalements.csv'));
    let out = csvRow(['ref', 'created_at', 'status', 'incident', 'region', 'place', 'description', 'language', 'contact', 'priority', 'claimed_by', 'claimed_at']);
    const rules = triage();
    for (let page = 1; page <= 200; page++) {
      const list = await listReports(db, { ...f, page }, rules);
      // A recording's address at the gateway never leaves in an export: it says there is one.
      const said = (r: (typeof list.rows)[number], field: string) => (r.recorded.includes(field) ? t('(message vocal)') : r.fields[field]);
      for (const r of list.rows) out += csvRow([r.ref, r.created_at, r.status, r.incident, r.region, said(r, 'place'), said(r, 'description'), r.language, r.contact, r.effective_priority, r.claimed_by, r.claimed_at]);
      if (!list.hasNext) break;
    }
    res.send(out);
  });
  const showReport = async (req: Request, res: Response, extra: Record<string, unknown> = {}) => {
    const id = String(req.params.id);
    const found = ROW_ID.test(id) ? await reportDetail(db, id) : undefined;
    if (!found) return notFound(res);
    const { report } = found;
    page(res, 'report', t('Signalement {{ref}}', { ref: report.ref }), 'reports', {
      ...found,
      next: REPORT_TRANSITIONS[report.status] ?? [],
      isOpen: OPEN_STATUSES.includes(report.status),
      priority: priorityOf(triage(), report.incident, report.priority),
      typePriority: priorityOf(triage(), report.incident),
      priorities: PRIORITIES,
      noteMax: NOTE_MAX_LENGTH,
      revealed: null,
      message: null,
      ...words(),
      ...extra,
    });
  };
  const refused = async (req: Request, res: Response, status: number, message: string) => {
    res.status(status);
    await showReport(req, res, { message, messageClass: 'error' });
  };
  const heldMessage = (holder: string, since: Date) => t('Déjà pris par {{holder}} {{when}}.', { holder, when: atTime(since) });

  // What a caller said on the voice line, played from the gateway (src/web/console/recording-proxy.ts).
  router.get('/reports/:id/recording/:field', operator, recordingProxy(db, ctx.config.voiceRecordingHosts));
  router.get('/reports/:id', operator, async (req, res) => {
    await audit(db, signedIn(res), 'view_report', String(req.params.id).slice(0, 20));
    await showReport(req, res);
  });

  router.post('/reports/:id/claim', form, operator, verifyCsrf, async (req, res) => {
    const id = String(req.params.id);
    const who = signedIn(res);
    const r = ROW_ID.test(id) ? await claimReport(db, id, who.name) : ({ ok: false, reason: 'missing' } as const);
    if (!r.ok) {
      if (r.reason === 'missing') return notFound(res);
      if (r.reason === 'held') return await refused(req, res, 409, heldMessage(r.holder, r.since));
      return await refused(req, res, 409, t('Ce signalement est traité (statut final) : il n’y a plus rien à prendre en charge.'));
    }
    if (!r.already) await audit(db, who, 'claim_report', id);
    await showReport(req, res, { message: r.already ? t('Vous vous en occupez déjà.') : t('Vous vous en occupez : les autres le voient.'), messageClass: 'ok' });
  });
  router.post('/reports/:id/release', form, operator, verifyCsrf, async (req, res) => {
    const id = String(req.params.id);
    const who = signedIn(res);
    const r = ROW_ID.test(id) ? await releaseReport(db, id, who.name) : ({ ok: false, reason: 'missing' } as const);
    if (!r.ok) {
      if (r.reason === 'missing') return notFound(res);
      if (r.reason === 'held') return await refused(req, res, 409, t('Ce signalement est pris par {{holder}} {{when}} : seul {{holder}} peut le rendre.', { holder: r.holder, when: atTime(r.since) }));
      return await refused(req, res, 409, t('Personne ne s’occupe de ce signalement.'));
    }
    await audit(db, who, 'release_report', id);
    await showReport(req, res, { message: t('Signalement rendu : il est de nouveau « non pris ».'), messageClass: 'ok' });
  });
  router.post('/reports/:id/takeover', form, admin, verifyCsrf, async (req, res) => {
    const id = String(req.params.id);
    const who = signedIn(res);
    const r = ROW_ID.test(id) ? await takeOverReport(db, id, who.name) : ({ ok: false, reason: 'missing' } as const);
    if (!r.ok) {
      if (r.reason === 'missing') return notFound(res);
      return await refused(req, res, 409, t('Ce signalement est traité (statut final) : il n’y a plus rien à reprendre.'));
    }
    if (r.from !== who.name) await audit(db, who, r.from ? 'take_over_report' : 'claim_report', id, r.from ? `repris à ${r.from}` : undefined);
    await showReport(req, res, { message: r.from && r.from !== who.name ? t('Vous avez repris ce signalement à {{holder}}.', { holder: r.from }) : t('Vous vous en occupez.'), messageClass: 'ok' });
  });
  router.post('/reports/:id/priority', form, operator, verifyCsrf, async (req, res) => {
    const id = String(req.params.id);
    const who = signedIn(res);
    const wanted = String((req.body as Record<string, unknown>).priority ?? '');
    if (wanted !== 'auto' && !isPriority(wanted)) return await refused(req, res, 400, t('Choisissez une priorité dans la liste.'));
    const priority = isPriority(wanted) ? wanted : null;
    const r = ROW_ID.test(id) ? await setReportPriority(db, id, who.name, priority) : ({ ok: false } as const);
    if (!r.ok) return notFound(res);
    if (r.changed) await audit(db, who, 'report_priority', id, `${r.from ?? 'auto'} -> ${priority ?? 'auto'}`);
    const message = !r.changed
      ? t('La priorité était déjà celle-là.')
      : priority
        ? t('Priorité enregistrée : {{priority}}.', { priority: priorityLabel(priority) })
        : t('Priorité enregistrée : automatique (selon le type).');
    await showReport(req, res, { message, messageClass: 'ok' });
  });
  router.post('/reports/:id/note', form, operator, verifyCsrf, async (req, res) => {
    const id = String(req.params.id);
    const who = signedIn(res);
    const text = String((req.body as Record<string, unknown>).text ?? '').trim();
    if (!text) return await refused(req, res, 400, t('La note est vide.'));
    const added = ROW_ID.test(id) ? await addReportNote(db, id, who.name, text) : false;
    if (!added) return notFound(res);
    await audit(db, who, 'report_note', id);
    await showReport(req, res, { message: t('Note ajoutée à l’historique.'), messageClass: 'ok' });
  });

  router.post('/reports/:id/status', form, operator, verifyCsrf, async (req, res) => {
    const b = req.body as Record<string, string | undefined>;
    const id = String(req.params.id);
    const to = String(b.status ?? '');
    const note = b.note?.trim() ? b.note.trim().slice(0, NOTE_MAX_LENGTH) : null;
    const who = signedIn(res);
    const changed = ROW_ID.test(id) ? await changeReportStatus(db, id, to, who, note) : ({ ok: false, reason: 'missing' } as const);
    if (!changed.ok) {
      if (changed.reason === 'missing') return notFound(res);
      if (changed.reason === 'held') {
        return await refused(req, res, 409, `${heldMessage(changed.holder, changed.since)} ${t('Seul {{holder}} ou un administrateur peut changer son statut ; vous pouvez ajouter une note.', { holder: changed.holder })}`);
      }
      return await refused(req, res, 409, t('Ce changement de statut n’est pas permis.'));
    }
    if (changed.noteOnly) {
      await audit(db, who, 'report_note', id);
      return await showReport(req, res, { message: t('Note ajoutée à l’historique.'), messageClass: 'ok' });
    }
    await audit(db, who, 'report_status', id, `${changed.from} -> ${to}`);
    if (changed.claimed) await audit(db, who, 'claim_report', id, 'avec le changement de statut');
    let message = changed.claimed
      ? t('Statut enregistré. Vous vous en occupez maintenant.')
      : changed.released
        ? t('Statut enregistré. Traitement terminé : la prise en charge s’arrête.')
        : t('Statut enregistré.');
    if (b.notify === '1') {
      const report = await db.selectFrom('reports').select(['ref', 'phone_hash', 'phone_enc', 'language']).where('id', '=', id).executeTakeFirstOrThrow();
      if (!report.phone_enc || !report.phone_hash) {
        // Filed without SMS or without a number, or the number is past its retention.
        message += ` ${t('Pas de SMS : ce signalement ne garde pas de numéro.')}`;
      } else if (await isOptedOut(db, report.phone_hash)) {
        message += ` ${t('Pas de SMS : l’auteur a demandé STOP.')}`;
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
        message += ` ${t('SMS à l’auteur mis en file.')}`;
      }
    }
    await showReport(req, res, { message, messageClass: 'ok' });
  });
  router.post('/reports/:id/reveal', form, admin, verifyCsrf, async (req, res) => {
    const id = String(req.params.id);
    const report = ROW_ID.test(id) ? await db.selectFrom('reports').select(['ref', 'phone_enc']).where('id', '=', id).executeTakeFirst() : undefined;
    if (!report?.phone_enc) return messagePage(res, 404, t('Pas de numéro'), t('Ce signalement ne garde pas de numéro (choix de l’auteur, ou durée de conservation passée) : il n’y a rien à afficher.'));
    const reason = String((req.body as Record<string, unknown>).reason ?? '').trim().slice(0, 300);
    if (reason.length < 5) {
      res.status(400);
      return await showReport(req, res, { message: t('Indiquez pourquoi vous affichez ce numéro.'), messageClass: 'error' });
    }
    await audit(db, signedIn(res), 'reveal_number', report.ref, `${reason} (depuis ${req.ip ?? '?'})`);
    const phone = decryptText(ctx.secrets.dataEncryptionKey, report.phone_enc);
    await showReport(req, res, { revealed: phone, message: t('Numéro affiché pour {{phone}} : cette consultation est journalisée.', { phone: maskPhone(phone) }), messageClass: 'ok' });
  });
  return router;
}
