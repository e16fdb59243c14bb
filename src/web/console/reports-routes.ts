/**
 * Fraud reports: the filtered list, its CSV export (audited), one report's
 * page, a change of status (with the author's SMS if asked and possible), and
 * an admin's audited look at the kept number.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { AppContext } from '../../context.js';
import { changeReportStatus, listReports, REPORT_TRANSITIONS, reportDetail, type ReportFilters } from '../../store/console-queries.js';
import { insertSms, isOptedOut } from '../../store/sms-store.js';
import { audit } from '../../store/user-store.js';
import { reportStatusKey } from '../../sms/sms-text.js';
import { decryptText, maskPhone } from '../../privacy/phone.js';
import { requireRole, signedIn, verifyCsrf } from './console-auth.js';
import { csvRow } from './csv.js';
import { reportWords } from './flow-words.js';
import { messagePage, page } from './page.js';
import { date, pageOf, queryOf, ROW_ID, str } from './query.js';

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

export function createReportRoutes(ctx: AppContext): Router {
  const router = express.Router();
  const { db } = ctx;
  const operator = requireRole('operator');
  const admin = requireRole('admin');
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  const words = () => reportWords(ctx.flows.live());

  router.get('/reports', operator, async (req, res) => {
    const f = reportFilters(req.query);
    const list = await listReports(db, f);
    page(res, 'reports', 'Signalements', 'reports', { ...list, f, query: queryOf({ ...f }), ...words() });
  });
  router.get('/reports.csv', operator, async (req, res) => {
    const f = reportFilters(req.query);
    await audit(db, signedIn(res), 'export_reports', undefined, queryOf({ ...f }));
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
    const found = ROW_ID.test(id) ? await reportDetail(db, id) : undefined;
    if (!found) return messagePage(res, 404, 'Signalement introuvable', 'Aucun signalement ne porte ce numéro.');
    page(res, 'report', `Signalement ${found.report.ref}`, 'reports', { ...found, next: REPORT_TRANSITIONS[found.report.status] ?? [], revealed: null, message: null, ...words(), ...extra });
  };
  router.get('/reports/:id', operator, async (req, res) => {
    await audit(db, signedIn(res), 'view_report', String(req.params.id).slice(0, 20));
    await showReport(req, res);
  });
  router.post('/reports/:id/status', form, operator, verifyCsrf, async (req, res) => {
    const b = req.body as Record<string, string | undefined>;
    const id = String(req.params.id);
    const to = String(b.status ?? '');
    const note = b.note?.trim() ? b.note.trim().slice(0, 1000) : null;
    const who = signedIn(res);
    const changed = ROW_ID.test(id) ? await changeReportStatus(db, id, to, who.name, note) : { ok: false };
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
    const report = ROW_ID.test(id) ? await db.selectFrom('reports').select(['ref', 'phone_enc']).where('id', '=', id).executeTakeFirst() : undefined;
    if (!report?.phone_enc) return messagePage(res, 404, 'Pas de numéro', 'Ce signalement ne garde pas de numéro (choix de l’auteur, ou durée de conservation passée) : il n’y a rien à afficher.');
    const reason = String((req.body as Record<string, unknown>).reason ?? '').trim().slice(0, 300);
    if (reason.length < 5) {
      res.status(400);
      return await showReport(req, res, { message: 'Indiquez pourquoi vous affichez ce numéro.', messageClass: 'error' });
    }
    await audit(db, signedIn(res), 'reveal_number', report.ref, `${reason} (depuis ${req.ip ?? '?'})`);
    const phone = decryptText(ctx.secrets.dataEncryptionKey, report.phone_enc);
    await showReport(req, res, { revealed: phone, message: `Numéro affiché pour ${maskPhone(phone)} : cette consultation est journalisée.`, messageClass: 'ok' });
  });
  return router;
}
