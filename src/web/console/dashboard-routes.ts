/** The dashboard: what an operator watches on election night. */
import express, { type Router } from 'express';
import type { AppContext } from '../../context.js';
import { countsForDashboard } from '../../store/console-queries.js';
import { requireRole } from './console-auth.js';
import { page } from './page.js';

export function createDashboardRoutes(ctx: AppContext): Router {
  const router = express.Router();
  const { db } = ctx;
  const operator = requireRole('operator');
  router.get('/', operator, async (_req, res) => page(res, 'home', 'Tableau de bord', 'home', { counts: await countsForDashboard(db) }));
  router.get('/api/counters', operator, async (_req, res) => {
    res.json(await countsForDashboard(db));
  });
  return router;
}
