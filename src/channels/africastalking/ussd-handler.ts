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
  /** the caller gets the apology after this long, whatever is still running */
  deadlineMs: number;
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
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), options.deadlineMs);
    });
    const work = options.runtime.handle(parsed.turn);
    let reply;
    try {
      const outcome = await Promise.race([work, deadline]);
      if (outcome === 'deadline') {
        log.error({ session: parsed.turn.gatewaySessionId }, 'USSD step missed its deadline');
        work.catch((err: unknown) => log.error({ err }, 'USSD step failed after its deadline'));
        reply = options.runtime.apology();
      } else {
        reply = outcome;
      }
    } catch (err) {
      log.error({ err, session: parsed.turn.gatewaySessionId }, 'USSD step failed');
      reply = options.runtime.apology();
    } finally {
      clearTimeout(timer);
    }
    res.status(200).type('text/plain').send(formatUssdReply(reply));
  };
}
