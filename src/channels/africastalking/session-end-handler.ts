/**
 * `POST /ussd/africastalking/events`: AT's end-of-session notification
 * (`sessionId, serviceCode, networkCode, phoneNumber, status, durationInMillis,
 * hopsCount, input, lastAppResponse, errorMessage, cost, date`). The runtime
 * closes the call record with the telco's own outcome. Always answered 200 once read:
 * a repeat is harmless, an unknown session is noted. What the caller typed
 * (`input`, `lastAppResponse`) and the number are never logged or stored here.
 */
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Logger } from '../../logger.js';
import { sanitizeText } from '../../runtime/sanitize.js';
import type { CallRuntime } from '../../runtime/call-runtime.js';
import { formField, optionalFormField, readForm } from './form.js';
import { CHANNEL } from './ussd-request.js';

const schema = z.object({
  sessionId: formField('sessionId', 128),
  status: formField('status', 32),
  durationInMillis: optionalFormField('durationInMillis', 12),
  hopsCount: optionalFormField('hopsCount', 6),
  cost: optionalFormField('cost', 64),
  errorMessage: optionalFormField('errorMessage', 500),
});

const int = (v: string | undefined) => (v && /^\d+$/.test(v) ? Math.min(Number(v), 2_147_483_647) : null);

export function atSessionEndHandler(runtime: Pick<CallRuntime, 'end'>, logger: Logger): RequestHandler {
  const log = logger.child({ subsystem: 'channel.africastalking' });
  return async (req, res) => {
    const b = readForm(req, res, schema);
    if (!b) return;
    try {
      const known = await runtime.end({
        channel: CHANNEL,
        gatewaySessionId: b.sessionId,
        status: sanitizeText(b.status),
        durationMs: int(b.durationInMillis),
        hops: int(b.hopsCount),
        cost: b.cost ? sanitizeText(b.cost) : null,
        error: b.errorMessage ? sanitizeText(b.errorMessage) : null,
      });
      if (!known) log.info({ session: b.sessionId, status: b.status }, 'end of an unknown session');
    } catch (err) {
      // The notification is informational: it must never make AT retry or alarm.
      log.warn({ err: (err as Error).message, session: b.sessionId }, 'end-of-session notification not recorded');
    }
    res.status(200).type('text/plain').send('ok');
  };
}
