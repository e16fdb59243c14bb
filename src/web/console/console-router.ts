/**
 * The operator and admin console: server-rendered pages (Eta, escaped by
 * default), a little progressive JavaScript, and Chart.js served from this
 * server (no CDN). Every route denies by default; every form carries the
 * session's CSRF token.
 *
 * This file only assembles the console: each concept has its own routes file
 * (calls, reports, SMS, analytics, menus, ...), with the query parsing in
 * query.ts, the flows' words in flow-words.ts and the page rendering in page.ts.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';
import type { AppContext } from '../../context.js';
import type { FlowPublisher } from '../../flows/flow-publisher.js';
import { consoleHeaders, createLoginLimiter, createSemaphore, loadSession, sameOriginOnly } from './console-auth.js';
import { createAccountRoutes } from './accounts-routes.js';
import { consoleLanguage } from './console-i18n.js';
import { createAnalyticsRoutes } from './analytics-routes.js';
import { createAuditRoutes } from './audit-routes.js';
import { createCallRoutes } from './calls-routes.js';
import { createCallbackRoutes } from './callbacks-routes.js';
import { callbackCounts } from '../../store/callback-store.js';
import { createDashboardRoutes } from './dashboard-routes.js';
import { createEditorRoutes } from './editor-routes.js';
import { createLoginRoutes } from './login-routes.js';
import { createMenuRoutes } from './menus-routes.js';
import { createReportRoutes } from './reports-routes.js';
import { createReviewRoutes } from './review-routes.js';
import { createPromptsRoutes } from './prompts-routes.js';
import { createSimulatorRoutes } from './simulator-routes.js';
import { createSmsRoutes } from './sms-routes.js';
import { createStationRoutes } from './station-routes.js';
import { badQueryAnswer } from './query.js';

const here = dirname(fileURLToPath(import.meta.url));
// Chart.js's exports map hides its UMD build; it sits beside the CommonJS entry.
const chartJsFile = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

export function createConsoleRouter(ctx: AppContext, publisher: FlowPublisher): Router {
  const router = express.Router();
  const production = ctx.config.production;

  router.use('/assets', express.static(join(here, '..', 'assets'), { maxAge: '1h' }));
  router.get('/assets/chart.umd.min.js', (_req, res) => res.sendFile(chartJsFile, { maxAge: '1d' }));
  router.use(consoleHeaders(production), sameOriginOnly, loadSession(ctx.db, production), consoleLanguage());
  // One limiter and one cap on Argon2 checks for every password the console checks (sign-in, links).
  const limits = { limiter: createLoginLimiter(ctx.redis, ctx.redisPrefix), passwordChecks: createSemaphore(4) };

  router.use(createLoginRoutes(ctx, limits));
  router.use(createSimulatorRoutes(ctx));
  router.use(createDashboardRoutes(ctx, { callbacks: () => callbackCounts(ctx.db, { lateAfterMinutes: ctx.config.callbackAnswerMinutes }) }));
  router.use(createCallRoutes(ctx));
  router.use(createReportRoutes(ctx));
  router.use(createCallbackRoutes(ctx));
  router.use(createSmsRoutes(ctx));
  router.use(createAnalyticsRoutes(ctx));
  router.use(createMenuRoutes(ctx, publisher));
  router.use(createEditorRoutes(ctx));
  router.use(createStationRoutes(ctx));
  router.use(createReviewRoutes(ctx, publisher));
  router.use(createPromptsRoutes(ctx));
  router.use(createAccountRoutes(ctx, limits));
  router.use(createAuditRoutes(ctx));
  router.use(badQueryAnswer);
  return router;
}
