/**
 * `POST /ussd/africastalking`. Every readable request gets HTTP 200 with
 * `CON`/`END` text: AT shows callers nothing for a 4xx/5xx, so an internal
 * failure becomes a localized `END` apology. Only unreadable requests get a
 * 4xx with a plain reason, which is what a developer testing with curl needs.
 *
 * The same answer serves Express (below) and the server's lean path for this
 * webhook (web/telco-fast-path.ts), which reads the form itself.
 */
import type { RequestHandler } from 'express';
import type { CallRuntime } from '../../runtime/call-runtime.js';
import type { TextForm } from '../../i18n/text-form.js';
import { checkForm, requireFormType, type PlainAnswer } from './form.js';
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

/** Answers one parsed form body; `address` is the sender's, for the per-address limit. */
export function atUssdAnswer(options: UssdHandlerOptions): (form: unknown, address: string | undefined) => Promise<PlainAnswer> {
  return async (form, address) => {
    const body = checkForm(ussdBodySchema, form);
    if (!body.ok) return body.answer;
    const parsed = toCallTurn(body.data, options.serviceCodes, options.markerKey, options.defaultCountry);
    if (!parsed.ok) return { status: parsed.status, text: parsed.reason };
    // handle() never throws: every failure is already a localized apology.
    const reply = await options.runtime.handle({ ...parsed.turn, ...(options.textForm ? { textForm: options.textForm } : {}), ...(address ? { address } : {}) });
    return { status: 200, text: formatCallReply(reply) };
  };
}

export function atUssdHandler(options: UssdHandlerOptions): RequestHandler {
  const answer = atUssdAnswer(options);
  return async (req, res) => {
    if (!requireFormType(req, res)) return;
    const out = await answer(req.body, req.ip);
    res.status(out.status).type('text/plain').send(out.text);
  };
}
