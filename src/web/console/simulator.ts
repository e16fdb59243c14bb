/**
 * The browser phone: runs the real engine on the live flows, statelessly.
 * The session travels with the page (it is plain data); nothing is recorded
 * and effects are only shown.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { start, step } from '../../engine/step.js';
import type { Session } from '../../engine/types.js';
import type { FlowRegistry } from '../../flows/flow-registry.js';

const body = z.union([
  z.object({ lang: z.enum(['fr', 'bm']), flow: z.string().max(40).optional() }),
  z.object({ session: z.record(z.string(), z.unknown()), input: z.string().max(200) }),
]);

export function simulatorStep(registry: FlowRegistry): RequestHandler {
  return (req, res) => {
    const parsed = body.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'expected { lang, flow? } or { session, input }' });
      return;
    }
    const flows = registry.live();
    const now = Date.now();
    let result;
    if ('lang' in parsed.data) {
      const { lang, flow } = parsed.data;
      if (flow && !flows.starts.has(flow)) {
        res.status(400).json({ error: `no flow ${flow}` });
        return;
      }
      result = start(flows, { id: randomUUID(), ref: 'KA-SIMULE0', lang, languageKnown: Boolean(flow), ...(flow ? { flow } : {}) }, now);
    } else {
      const session = parsed.data.session as unknown as Session;
      const pinned = registry.get(String(session.flowHash)) ?? flows;
      if (typeof session.node !== 'string' || !pinned.nodes.has(session.node)) {
        res.status(400).json({ error: 'this simulated call is from a version no longer kept: call again' });
        return;
      }
      result = step(pinned, session, parsed.data.input, now);
    }
    res.json({ session: result.session, screen: result.screen, effects: result.effects, node: result.session.node });
  };
}
