/**
 * The simulator's routes: open without an account outside production, for
 * operators (with the CSRF token on every step) in production.
 */
import express, { type Router } from 'express';
import type { AppContext } from '../../context.js';
import { requireRole, verifyCsrf } from './console-auth.js';
import { t } from './console-i18n.js';
import { page } from './page.js';
import { simulatorStep } from './simulator.js';
import { createSimulatorPhone, DEFAULT_SIMULATOR_PHONE } from './simulator-phone.js';
import { createSimulatorVoice } from './simulator-voice.js';

export function createSimulatorRoutes(ctx: AppContext): Router {
  const router = express.Router();
  const production = ctx.config.production;
  const gate = production ? [requireRole('operator')] : [];
  const csrf = production ? [verifyCsrf] : [];
  const json = (limit: string) => express.json({ limit });
  router.get('/simulator', ...gate, (_req, res) => page(res, 'simulator', t('Simulateur'), 'simulator', { flows: [...ctx.flows.live().starts.keys()], languages: ctx.flows.live().languages, phone: DEFAULT_SIMULATOR_PHONE }));
  router.post('/simulator/step', ...gate, json('32kb'), ...csrf, simulatorStep(ctx.flows, ctx.lookup));
  const phone = createSimulatorPhone({ ctx, lookup: ctx.lookup });
  router.post('/simulator/call', ...gate, json('4kb'), ...csrf, phone.call);
  router.post('/simulator/sms', ...gate, json('4kb'), ...csrf, phone.sms);
  router.get('/simulator/inbox', ...gate, phone.inbox);
  // The voice mode: the voice line's turns and prompts, on the same runtime pieces as Africa's Talking's voice handler.
  const voice = createSimulatorVoice({ ctx, lookup: ctx.lookup });
  router.post('/simulator/voice', ...gate, json('4kb'), ...csrf, voice.turn);
  return router;
}
