/**
 * The Menus page (admins): the live version, the validator's problems, every
 * screen in both languages with its length and encoding, and the publish
 * button that checks the files on disk and makes them live.
 */
import express, { type Response, type Router } from 'express';
import type { AppContext } from '../../context.js';
import type { FlowNode } from '../../engine/types.js';
import { renderPages } from '../../engine/render.js';
import { measure, limitFor } from '../../i18n/gsm.js';
import { outgoing } from '../../flows/flow-validator.js';
import type { FlowPublisher, PublishResult } from '../../flows/flow-publisher.js';
import { checkFlows, flowOptions, type FlowCheck } from '../../flows/flow-set.js';
import type { Problem } from '../../flows/problems.js';
import { SAMPLE_REF } from '../../flows/screen-report.js';
import { loadReview, reviewSources, withReviewWarnings } from '../../i18n/review.js';
import { listFlowVersions } from '../../store/console-queries.js';
import { listVersions } from '../../content/version-store.js';
import { audit } from '../../store/user-store.js';
import { requireRole, signedIn, verifyCsrf } from './console-auth.js';
import { t } from './console-i18n.js';
import { byProcess, codeSegments, nodeKindLabel, problemMessage } from './labels.js';
import { page } from './page.js';

export function createMenuRoutes(ctx: AppContext, publisher: FlowPublisher): Router {
  const router = express.Router();
  const { db } = ctx;
  const admin = requireRole('admin');
  const form = express.urlencoded({ extended: false, limit: '16kb' });

  // The publisher has no check until the first reload: the page shows this one, made once, of the files at boot.
  let bootCheck: FlowCheck | undefined;
  const currentCheck = () => publisher.last() ?? (bootCheck ??= checkFlows(flowOptions(ctx.config)));
  const showFlows = async (res: Response, result?: PublishResult) => {
    const flows = ctx.flows.live();
    const check = currentCheck();
    const review = loadReview(reviewSources(flowOptions(ctx.config)));
    const problems = problemLines([...withReviewWarnings(check.problems, review), ...review.problems]);
    const tree = [...flows.starts.keys()].map((flowId) => ({
      id: flowId,
      nodes: [...flows.nodes.values()].filter((n) => n.flow === flowId).map((n) => describeNode(ctx, n)),
    }));
    const message = result
      ? result.published
        ? t('Publié : version {{hash}}.', { hash: result.hash })
        : result.check.flows
          ? t('Rien de nouveau à publier.')
          : t('Refusé : la version en ligne reste. Corrigez les erreurs ci-dessous.')
      : null;
    page(res, 'flows', t('Menus'), 'flows', {
      liveHash: flows.hash,
      problems,
      versions: ctx.content
        ? (await listVersions(db, 20)).map((v) => ({ id: v.id, at: v.createdAt, by: byProcess(v.author), note: byProcess(v.note), live: v.live }))
        : (await listFlowVersions(db)).map((v) => ({ id: v.hash, at: v.published_at, by: v.published_by, note: '', live: false })),
      tree,
      result: message ? { message, published: result!.published, errors: !result!.check.flows } : null,
    });
  };
  router.get('/flows', admin, (_req, res) => showFlows(res));
  router.post('/flows/reload', form, admin, verifyCsrf, async (_req, res) => {
    const who = signedIn(res);
    const result = await publisher.reload(who.name);
    await audit(db, who, result.published ? 'publish_flows' : 'reload_flows', result.hash, result.check.flows ? undefined : 'rejected');
    if (!result.check.flows) res.status(422);
    await showFlows(res, result);
  });
  return router;
}

/** The problems as the Menus page lists them: errors first, one per line, in the reader's language, codes apart. */
function problemLines(problems: readonly Problem[]) {
  const order = (p: Problem) => (p.severity === 'error' ? 0 : 1);
  return [...problems]
    .sort((a, b) => order(a) - order(b))
    .map((p) => ({ severity: p.severity, label: p.severity === 'error' ? t('Erreur') : t('Avertissement'), where: `${p.file}:${p.line}:${p.col}`, message: codeSegments(problemMessage(p.message)) }));
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
