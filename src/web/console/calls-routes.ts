/** Call logs: the filtered list, its CSV export (audited), and one call's transcript. */
import express, { type Request, type Router } from 'express';
import type { AppContext } from '../../context.js';
import { callTranscript, listCalls, type CallFilters } from '../../store/console-queries.js';
import { audit } from '../../store/user-store.js';
import { PRIVATE_INPUT } from '../../privacy/private-input.js';
import { requireRole, signedIn } from './console-auth.js';
import { t } from './console-i18n.js';
import { csvRow } from './csv.js';
import { flowWords } from './flow-words.js';
import { CALL_OUTCOME_LABELS, LANGUAGE_LABELS } from './labels.js';
import { messagePage, page } from './page.js';
import { date, int, pageOf, queryOf, str, UUID } from './query.js';

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

export function createCallRoutes(ctx: AppContext): Router {
  const router = express.Router();
  // The lists read from a standby where one is set (DATABASE_READ_URL); the audit log is written to the primary.
  const { db, readDb } = ctx;
  const operator = requireRole('operator');

  router.get('/calls', operator, async (req, res) => {
    const f = callFilters(req.query);
    const list = await listCalls(readDb, f);
    page(res, 'calls', t('Appels'), 'calls', { ...list, f, query: queryOf({ ...f }), ...flowWords(ctx.flows.live()), outcomes: CALL_OUTCOME_LABELS, languages: LANGUAGE_LABELS });
  });
  router.get('/calls.csv', operator, async (req, res) => {
    const f = callFilters(req.query);
    const { rows } = await listCalls(readDb, { ...f, page: 1 }, 10_000);
    await audit(db, signedIn(res), 'export_calls', undefined, queryOf({ ...f }));
    res.type('text/csv; charset=utf-8').attachment(t('kalata-appels.csv'));
    let out = csvRow(['started_at', 'phone', 'language', 'network', 'service_code', 'steps', 'last_node', 'outcome', 'duration_s']);
    for (const c of rows) {
      const duration = Math.round((new Date(c.updated_at).getTime() - new Date(c.started_at).getTime()) / 1000);
      out += csvRow([c.started_at, c.phone_masked, c.language, c.network_code, c.service_code, c.steps, c.last_node, c.outcome, duration]);
    }
    res.send(out);
  });
  router.get('/calls/:id', operator, async (req, res) => {
    const id = String(req.params.id);
    const found = UUID.test(id) ? await callTranscript(readDb, id) : undefined;
    if (!found) return messagePage(res, 404, t('Appel introuvable'), t('Aucun appel ne porte cet identifiant : il a pu être effacé à la fin de sa durée de conservation.'));
    await audit(db, signedIn(res), 'view_call', id);
    page(res, 'call', t('Appel'), 'calls', { ...found, hidden: PRIVATE_INPUT, ...flowWords(ctx.flows.live()) });
  });
  return router;
}
