/** The SMS outbox: the list by status, and one message's text and history. */
import express, { type Router } from 'express';
import type { AppContext } from '../../context.js';
import { listSms, smsDetail } from '../../store/console-queries.js';
import { requireRole } from './console-auth.js';
import { t } from './console-i18n.js';
import { flowWords } from './flow-words.js';
import { SMS_STATUS_LABELS } from './labels.js';
import { messagePage, page } from './page.js';
import { pageOf, ROW_ID, str } from './query.js';

export function createSmsRoutes(ctx: AppContext): Router {
  const router = express.Router();
  const { db } = ctx;
  const operator = requireRole('operator');
  router.get('/sms', operator, async (req, res) => {
    const status = str(req.query.status);
    const list = await listSms(db, pageOf(req.query), status);
    page(res, 'sms', t('SMS'), 'sms', { ...list, f: { status }, statuses: SMS_STATUS_LABELS, ...flowWords(ctx.flows.live()) });
  });
  router.get('/sms/:id', operator, async (req, res) => {
    const id = String(req.params.id);
    const found = ROW_ID.test(id) ? await smsDetail(db, id) : undefined;
    if (!found) return messagePage(res, 404, t('SMS introuvable'), t('Aucun SMS ne porte ce numéro.'));
    page(res, 'sms-message', t('SMS {{id}}', { id }), 'sms', { ...found, ...flowWords(ctx.flows.live()) });
  });
  return router;
}
