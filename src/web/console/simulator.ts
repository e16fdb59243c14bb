/**
 * The browser phone: runs the real engine on the live flows, statelessly,
 * with the real lookups (polling stations).
 * The session travels with the page (it is plain data); nothing is recorded
 * and effects are only shown. This is the page's "one flow" mode; a whole
 * call from a number goes through the real runtime (simulator-phone.ts).
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { languageCode } from '../../i18n/languages.js';
import { start, step } from '../../engine/step.js';
import type { Effect, Session } from '../../engine/types.js';
import type { FlowRegistry } from '../../flows/flow-registry.js';
import { settle, type Lookup } from '../../runtime/lookups.js';
import { t } from './console-i18n.js';

/** The session the page sends back: checked, since it comes from the client. */
const sessionSchema = z.object({
  v: z.literal(1),
  id: z.string().max(64),
  flowHash: z.string().max(64),
  lang: languageCode,
  node: z.string().max(100),
  page: z.number().int().min(0).max(100),
  trail: z.array(z.string().max(100)).max(32),
  answers: z.record(z.string().max(40), z.string().max(200)),
  invalid: z.number().int().min(0).max(10),
  ref: z.string().max(20),
  ended: z.boolean(),
  outcome: z.enum(['completed', 'too_many_invalid', 'abandoned', 'error']).optional(),
  picked: z.object({ node: z.string().max(100), items: z.array(z.object({ value: z.string().max(80), label: z.string().max(120) })).max(97) }).optional(),
  startedAt: z.number(),
  updatedAt: z.number(),
});

const body = z.union([
  z.object({ lang: languageCode, flow: z.string().max(40).optional() }),
  z.object({ session: sessionSchema, input: z.string().max(200) }),
]);

/**
 * The simulator's lookups: the real lists of places and centres, but never a
 * NINA number. Anyone allowed to use the simulator could otherwise find where
 * any voter is registered; a NINA typed here is always "not in the list".
 */
export function withoutNina(lookup: Lookup): Lookup {
  return (request) =>
    // A call-back request is never filed in this mode (nothing is kept): none is ever waiting either.
    request.source === 'station_by_nina' || request.source === 'callback_open' ? Promise.resolve({ kind: 'not_found' }) : lookup(request);
}

/** A caller's language, as an effect names it: `langue : bambara`. */
export const languageInWords = (lang: string) => t('langue : {{language}}', { language: lang === 'bm' ? t('bambara') : t('français') });

/** How a report keeps in touch with its caller, in words. */
export const contactInWords = (contact: string | undefined) => (contact === 'no_number' ? t('sans numéro') : contact === 'sms' ? t('avec SMS discret') : t('numéro gardé, sans SMS'));

/** What the engine's effects would do, in words (the page shows these instead of JSON), in the reader's language. */
export function effectsInWords(effects: readonly Effect[]): string[] {
  return effects.map((e) => {
    switch (e.type) {
      case 'set_language':
        return languageInWords(e.lang);
      case 'save_report':
        return t("Signalement {{ref}} ({{how}}) : serait enregistré, rien n'est gardé dans ce mode", { ref: e.ref, how: contactInWords(e.contact) });
      case 'send_sms':
        return t("SMS discret ({{ref}}) : serait mis en file, rien n'est envoyé dans ce mode", { ref: e.ref });
      case 'request_callback':
        return t("Demande de rappel par un conseiller : serait mise dans la file des rappels, rien n'est gardé dans ce mode");
    }
  });
}

/**
 * One step of a simulated call on `registry`'s flows: the live ones, or (the
 * menu editor's preview) a draft's, given as a registry of its own.
 */
export function simulatorStep(registry: Pick<FlowRegistry, 'live' | 'get'>, realLookup: Lookup): RequestHandler {
  const lookup = withoutNina(realLookup);
  return async (req, res) => {
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
      if (!flows.languages.includes(lang)) {
        res.status(400).json({ error: `no language ${lang} (${flows.languages.join(', ')})` });
        return;
      }
      if (flow && !flows.starts.has(flow)) {
        res.status(400).json({ error: `no flow ${flow}` });
        return;
      }
      result = await settle(flows, start(flows, { id: randomUUID(), ref: 'KA-SIMULE0', lang, languageKnown: Boolean(flow), ...(flow ? { flow } : {}) }, now), lookup, now);
    } else {
      const session: Session = parsed.data.session;
      const pinned = registry.get(String(session.flowHash)) ?? flows;
      if (typeof session.node !== 'string' || !pinned.nodes.has(session.node)) {
        res.status(400).json({ error: 'this simulated call is from a version no longer kept: call again' });
        return;
      }
      result = await settle(pinned, step(pinned, session, parsed.data.input, now), lookup, now);
    }
    res.json({ session: result.session, screen: result.screen, effects: result.effects, words: effectsInWords(result.effects), node: result.session.node });
  };
}
