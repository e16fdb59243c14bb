/**
 * `POST /ussd/hubtel`. Every readable request gets HTTP 200 with a JSON
 * `{ Type, Message, ClientState }`: an internal failure becomes a localized
 * `Release` apology. Only unreadable requests get a 4xx with a plain reason.
 * A `Release` or `Timeout` request says the call is over: it is answered and
 * not stepped.
 */
import express, { type RequestHandler } from 'express';
import type { Logger } from '../../logger.js';
import type { UssdRuntime } from '../../runtime/ussd-runtime.js';
import { formatHubtelReply, hubtelBodySchema, toHubtelRequest } from './ussd-request.js';

/** Parses Hubtel's JSON bodies: small, one flat object. */
export const parseHubtelJson = express.json({ limit: '8kb' });

export interface HubtelUssdHandlerOptions {
  runtime: UssdRuntime;
  logger: Logger;
  serviceCodes: readonly string[];
}

export function hubtelUssdHandler(options: HubtelUssdHandlerOptions): RequestHandler {
  const log = options.logger.child({ subsystem: 'channel.hubtel' });
  return async (req, res) => {
    if (!req.is('application/json')) {
      res.status(415).type('text/plain').send('expected Content-Type: application/json');
      return;
    }
    const body = hubtelBodySchema.safeParse(req.body);
    if (!body.success) {
      res.status(400).type('text/plain').send(body.error.issues[0]!.message);
      return;
    }
    const parsed = toHubtelRequest(body.data, options.serviceCodes);
    if (!parsed.ok) {
      res.status(parsed.status).type('text/plain').send(parsed.reason);
      return;
    }
    if (parsed.kind === 'end') {
      log.debug({ session: parsed.gatewaySessionId, type: body.data.Type }, 'the gateway ended the session');
      res.status(200).json(formatHubtelReply({ text: '', end: true }, parsed.clientState));
      return;
    }
    // handle() never throws: every failure is already a localized apology.
    const reply = await options.runtime.handle({ ...parsed.turn, ...(req.ip ? { address: req.ip } : {}) });
    res.status(200).json(formatHubtelReply(reply, parsed.clientState));
  };
}
