/**
 * Call-back requests ("ask for a person"): the queue, oldest first, with who
 * has what; one request's page; claim (atomic: of two operators, one gets it
 * and the other is told who has it), put back, reveal the number to call
 * (audited, with a reason: the operator who claimed it, or an admin) and
 * record the outcome, which deletes the number.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { AppContext } from '../../context.js';
import { decryptText, maskPhone } from '../../privacy/phone.js';
import {
  callbackDetail,
  claimCallback,
  listCallbacks,
  OPERATOR_OUTCOMES,
  recordCallbackOutcome,
  releaseCallback,
  sealedNumberFor,
  type CallbackOutcome,
} from '../../store/callback-store.js';
import { audit } from '../../store/user-store.js';
import { requireRole, signedIn, verifyCsrf } from './console-auth.js';
import { callbackOutcomeLabel, callbackStatusLabel, callbackTopicLabel, spacedPhone, waitedLabel } from './callback-labels.js';
import { t } from './console-i18n.js';
import { languageLabel } from './labels.js';
import { messagePage, page } from './page.js';
import { ROW_ID, str } from './query.js';

/** The audit action of a call-back number shown to an operator. */
export const REVEAL_CALLBACK_ACTION = 'reveal_callback_number';

const notFound = (res: Response) => messagePage(res, 404, t('Demande introuvable'), t('Aucune demande de rappel ne porte ce numéro.'));

export function createCallbackRoutes(ctx: AppContext): Router {
  const router = express.Router();
  const { db } = ctx;
  const operator = requireRole('operator');
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  const lateAfterMinutes = ctx.config.callbackAnswerMinutes;
  const words = () => {
    const flows = ctx.flows.live();
    return {
      topicLabel: (topic: string | null) => callbackTopicLabel(flows, topic),
      statusLabel: callbackStatusLabel,
      outcomeLabel: callbackOutcomeLabel,
      languageLabel,
      waited: (since: Date) => waitedLabel(since),
      spaced: spacedPhone,
      lateAfterMinutes,
    };
  };

  router.get('/callbacks', operator, async (req, res) => {
    const simulated = ['1', 'true'].includes(str(req.query.simulated) ?? '');
    const queue = await listCallbacks(db, { lateAfterMinutes, simulated });
    const late = queue.open.filter((r) => r.late).length;
    page(res, 'callbacks', t('Rappels'), 'callbacks', { ...queue, late, simulated, me: signedIn(res).name, ...words() });
  });

  const show = async (req: Request, res: Response, extra: Record<string, unknown> = {}) => {
    const id = String(req.params.id);
    const found = ROW_ID.test(id) ? await callbackDetail(db, id, { lateAfterMinutes }) : undefined;
    if (!found) return notFound(res);
    const who = signedIn(res);
    const mine = found.status === 'claimed' && (found.claimed_by === who.name || who.role === 'admin');
    page(res, 'callback', t('Demande de rappel n° {{id}}', { id: found.id }), 'callbacks', {
      r: found,
      mine,
      revealed: null,
      message: null,
      messageClass: 'ok',
      outcomes: OPERATOR_OUTCOMES.map((o) => ({ value: o, label: callbackOutcomeLabel(o) })),
      ...words(),
      ...extra,
    });
  };

  router.get('/callbacks/:id', operator, async (req, res) => {
    await show(req, res);
  });

  router.post('/callbacks/:id/claim', form, operator, verifyCsrf, async (req, res) => {
    const id = String(req.params.id);
    const who = signedIn(res);
    const claim = ROW_ID.test(id) ? await claimCallback(db, id, who.name) : ({ ok: false, reason: 'missing' } as const);
    if (claim.ok) return await show(req, res, { message: t('Demande prise en charge : elle est à vous. Affichez le numéro pour appeler.') });
    if (claim.reason === 'missing') return notFound(res);
    res.status(409);
    const message =
      claim.status === 'done'
        ? t('Cette demande est déjà terminée : rien à prendre.')
        : claim.claimedBy === who.name
          ? t('Vous avez déjà pris cette demande.')
          : claim.claimedBy
            ? t('Trop tard : {{holder}} a déjà pris cette demande.', { holder: claim.claimedBy })
            : t('Trop tard : un autre compte a déjà pris cette demande.');
    await show(req, res, { message, messageClass: 'error' });
  });

  router.post('/callbacks/:id/release', form, operator, verifyCsrf, async (req, res) => {
    const id = String(req.params.id);
    const who = signedIn(res);
    const released = ROW_ID.test(id) && (await releaseCallback(db, id, who.name, who.role === 'admin'));
    if (!released) {
      res.status(409);
      return await show(req, res, { message: t('Seul le compte qui a pris cette demande (ou un administrateur) peut la remettre dans la file.'), messageClass: 'error' });
    }
    await show(req, res, { message: t('Demande remise dans la file : un autre conseiller peut la prendre.') });
  });

  router.post('/callbacks/:id/reveal', form, operator, verifyCsrf, async (req, res) => {
    const id = String(req.params.id);
    const who = signedIn(res);
    const sealed = ROW_ID.test(id) ? await sealedNumberFor(db, id, who.name, who.role === 'admin') : undefined;
    if (!sealed) {
      res.status(409);
      return await show(req, res, {
        message: t('Le numéro ne s’affiche que pour le compte qui a pris la demande, tant qu’elle est ouverte (ou pour un administrateur). Il est effacé une fois l’issue notée.'),
        messageClass: 'error',
      });
    }
    const reason = String((req.body as Record<string, unknown>).reason ?? '').trim().slice(0, 300);
    if (reason.length < 5) {
      res.status(400);
      return await show(req, res, { message: t('Indiquez pourquoi vous affichez ce numéro (5 caractères au moins).'), messageClass: 'error' });
    }
    await audit(db, who, REVEAL_CALLBACK_ACTION, `rappel ${id}`, `${reason} (depuis ${req.ip ?? '?'})`);
    const phone = decryptText(ctx.secrets.dataEncryptionKey, sealed);
    await show(req, res, { revealed: phone, message: t('Numéro affiché pour {{phone}} : cette consultation est journalisée.', { phone: maskPhone(phone) }) });
  });

  router.post('/callbacks/:id/outcome', form, operator, verifyCsrf, async (req, res) => {
    const id = String(req.params.id);
    const who = signedIn(res);
    const b = req.body as Record<string, string | undefined>;
    const outcome = String(b.outcome ?? '') as CallbackOutcome;
    if (!OPERATOR_OUTCOMES.includes(outcome)) {
      res.status(400);
      return await show(req, res, { message: t('Choisissez l’issue de l’appel.'), messageClass: 'error' });
    }
    const note = b.note?.trim() ? b.note.trim().slice(0, 1000) : null;
    const done = ROW_ID.test(id) && (await recordCallbackOutcome(db, id, { user: who.name, asAdmin: who.role === 'admin', outcome, note }));
    if (!done) {
      res.status(409);
      return await show(req, res, { message: t('Seul le compte qui a pris cette demande (ou un administrateur) peut noter son issue, tant qu’elle est ouverte.'), messageClass: 'error' });
    }
    await show(req, res, { message: t('Issue enregistrée. Le numéro est effacé de cette demande.') });
  });
  return router;
}
