/**
 * `POST /ussd/africastalking`. Every readable request gets HTTP 200 with
 * `CON`/`END` text: AT shows callers nothing for a 4xx/5xx, so an internal
 * failure becomes a localized `END` apology. Only unreadable requests get a
 * 4xx with a plain reason, which is what a developer testing with curl needs.
 */
import type { RequestHandler } from 'express';
import type { CallRuntime } from '../../runtime/call-runtime.js';
import type { TextForm } from '../../i18n/text-form.js';
import { readForm } from './form.js';
import { formatCallReply, toCallTurn, ussdBodySchema } from './ussd-request.js';

export interface UssdHandlerOptions {
  runtime: CallRuntime;
  serviceCodes: readonly string[];
  /** keys the position stored between steps (PHONE_HASH_KEY) */
  markerKey: string;
  /** where a number without `+` is read first (DEFAULT_COUNTRY) */
  defaultCountry: string;
  /** the form screens are shown in (AT_TEXT_FORM; default as written) */
  textForm?: TextForm;
}

export function atUssdHandler(options: UssdHandlerOptions): RequestHandler {
  return async (req, res) => {
    const body = readForm(req, res, ussdBodySchema);
    if (!body) return;
    const parsed = toCallTurn(body, options.serviceCodes, options.markerKey, options.defaultCountry);
    if (!parsed.ok) {
      res.status(parsed.status).type('text/plain').send(parsed.reason);
      return;
    }
    // handle() never throws: every failure is already a localized apology.
    const reply = await options.runtime.handle({ ...parsed.turn, ...(options.textForm ? { textForm: options.textForm } : {}), ...(req.ip ? { address: req.ip } : {}) });
    res.status(200).type('text/plain').send(formatCallReply(reply));
  };
}
