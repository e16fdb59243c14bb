/** The audit log (admins): who did what, filtered, newest first, paged by row. */
import express, { type Request, type Router } from 'express';
import type { AppContext } from '../../context.js';
import { auditUsers, listAudit, type AuditFilters } from '../../store/console-queries.js';
import { requireRole } from './console-auth.js';
import { t } from './console-i18n.js';
import { AUDIT_ACTIONS, auditActionLabel } from './labels.js';
import { page } from './page.js';
import { BadQuery, date, queryOf, str } from './query.js';

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
    if (typeof q.before !== 'string' || !/^\d{1,18}$/.test(q.before)) throw new BadQuery(t('« before » doit être un numéro de ligne du journal.'));
    f.before = q.before;
  }
  return f;
}

export function createAuditRoutes(ctx: AppContext): Router {
  const router = express.Router();
  router.get('/audit', requireRole('admin'), async (req, res) => {
    const f = auditFilters(req.query);
    const list = await listAudit(ctx.db, f);
    const { before: _before, ...kept } = f;
    page(res, 'audit', t('Journal'), 'audit', { ...list, f, query: queryOf(kept), users: await auditUsers(ctx.db), actions: AUDIT_ACTIONS, label: auditActionLabel });
  });
  return router;
}
