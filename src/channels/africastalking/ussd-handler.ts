/**
 * `POST /ussd/africastalking`. Every readable request gets HTTP 200 with
 * `CON`/`END` text: AT shows callers nothing for a 4xx/5xx, so an internal
 * failure becomes a localized `END` apology. Only unreadable requests get a
 * 4xx with a plain reason, which is what a developer testing with curl needs.
 */
import express, { type RequestHandler } from 'express';
import type { Logger } from '../../logger.js';
import type { UssdRuntime } from '../../runtime/ussd-runtime.js';
import { formatUssdReply, parseUssdRequest } from './ussd-request.js';

export interface UssdHandlerOptions {
  runtime: UssdRuntime;
  logger: Logger;
  serviceCodes: readonly string[];
}

export const parseAtForm = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 });

export function atUssdHandler(options: UssdHandlerOptions): RequestHandler {
  const log = options.logger.child({ subsystem: 'channel.africastalking' });
  return async (req, res) => {
    if (!req.is('application/x-www-form-urlencoded')) {
      res.status(415).type('text/plain').send('expected Content-Type: application/x-www-form-urlencoded');
      return;
    }
    const parsed = parseUssdRequest(req.body, options.serviceCodes);
    if (!parsed.ok) {
      res.status(parsed.status).type('text/plain').send(parsed.reason);
      return;
    }
    let reply;
    try {
      reply = await options.runtime.handle(parsed.turn);
    } catch (err) {
      // handle() answers every failure itself; this is the last line of defence.
      log.error({ err }, 'USSD step failed');
      reply = options.runtime.apology();
    }
    res.status(200).type('text/plain').send(formatUssdReply(reply));
  };
}
