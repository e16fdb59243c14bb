/** Analytics: calls per hour, languages, topics, reports by region and type, and each flow's funnel. */
import express, { type Router } from 'express';
import type { AppContext } from '../../context.js';
import { analytics } from '../../store/console-queries.js';
import { requireRole } from './console-auth.js';
import { flowWords } from './flow-words.js';
import { languageLabel } from './labels.js';
import { fmtHour, page } from './page.js';

export function createAnalyticsRoutes(ctx: AppContext): Router {
  const router = express.Router();
  const { db } = ctx;
  router.get('/analytics', requireRole('operator'), async (_req, res) => {
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
  return router;
}
