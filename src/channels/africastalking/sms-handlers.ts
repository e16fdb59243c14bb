/**
 * Africa's Talking SMS callbacks: incoming messages
 * (`from, to, text, date, id, linkId`) and delivery reports
 * (`id, status, phoneNumber, networkCode, failureReason`). Both answer 200
 * once recorded, 400 with a reason when a field is missing (or `from` is not
 * a number by the rule of ../phone-number.ts), and never a 5xx for an
 * unknown id or status. A delivery report is matched on `id` alone: its
 * `phoneNumber` is not read.
 */
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { formField, optionalFormField, readForm } from './form.js';
import type { Logger } from '../../logger.js';
import { toE164 } from '../phone-number.js';
import { sanitizeText } from '../../runtime/sanitize.js';
import type { DeliveryReports } from '../../sms/delivery-reports.js';
import type { InboundResult, InboundSms } from '../../sms/inbound-sms.js';

const inboundSchema = z.object({
  id: formField('id', 128),
  from: formField('from', 32),
  text: z.string({ error: 'text is missing' }).max(1600, 'text is longer than 1600 characters'),
  to: optionalFormField('to', 32),
  date: optionalFormField('date', 64),
  linkId: optionalFormField('linkId', 128),
});

const deliverySchema = z.object({
  id: formField('id', 128),
  status: formField('status', 64),
  failureReason: optionalFormField('failureReason', 128),
  phoneNumber: optionalFormField('phoneNumber', 32),
  networkCode: optionalFormField('networkCode', 32),
  retryCount: optionalFormField('retryCount', 8),
});

const AT_DATE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:\d{2})?$/;

/**
 * AT sends `2006-01-02T15:04:05Z` or `2006-01-02 15:04:05` (UTC, as
 * nyaruka/courier's AT handler reads them). Anything else, a time without
 * seconds included, is "now": the message is kept, never refused over its
 * timestamp, and never read in the server's local time zone.
 */
export function parseAtDate(raw: string | undefined, now: Date): Date {
  const m = raw ? AT_DATE.exec(raw.trim()) : null;
  if (!m) return now;
  const d = new Date(`${m[1]}T${m[2]}${m[3] ?? 'Z'}`);
  return Number.isNaN(d.getTime()) ? now : d;
}

/** `defaultCountry`: where a sender without `+` is read first (DEFAULT_COUNTRY). */
export function atInboundSmsHandler(handle: (m: InboundSms) => Promise<InboundResult>, logger: Logger, defaultCountry: string): RequestHandler {
  const log = logger.child({ subsystem: 'channel.africastalking.sms' });
  return async (req, res) => {
    const b = readForm(req, res, inboundSchema);
    if (!b) return;
    const phone = toE164(b.from, defaultCountry);
    if (!phone) {
      res.status(400).type('text/plain').send('from is not a phone number');
      return;
    }
    try {
      const result = await handle({
        gatewayId: b.id,
        phone,
        to: b.to || null,
        text: sanitizeText(b.text).trim(),
        receivedAt: parseAtDate(b.date || undefined, new Date()),
        linkId: b.linkId || null,
      });
      res.status(200).type('text/plain').send(result.duplicate ? 'duplicate' : 'ok');
    } catch (err) {
      // AT retries a callback that fails: a 503 asks for exactly that, and the id deduplicates it.
      log.error({ err }, 'inbound SMS not recorded');
      res.status(503).type('text/plain').send('not recorded, try again');
    }
  };
}

export function atDeliveryReportHandler(record: DeliveryReports, logger: Logger): RequestHandler {
  const log = logger.child({ subsystem: 'channel.africastalking.sms' });
  return async (req, res) => {
    const b = readForm(req, res, deliverySchema);
    if (!b) return;
    try {
      const outcome = await record({ gatewayMessageId: b.id, status: sanitizeText(b.status), failureReason: b.failureReason ? sanitizeText(b.failureReason) : null });
      if (outcome === 'unknown_message') log.info({ gatewayMessageId: b.id, status: b.status }, 'delivery report for an unknown message, recorded');
      else if (outcome === 'unknown_status') log.info({ gatewayMessageId: b.id, status: b.status }, 'delivery status outside AT\'s list: recorded, message unchanged');
      res.status(200).type('text/plain').send('ok');
    } catch (err) {
      log.error({ err }, 'delivery report not recorded');
      res.status(503).type('text/plain').send('not recorded, try again');
    }
  };
}
