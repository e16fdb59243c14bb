/**
 * `POST /ussd/hubtel`. Every readable request gets HTTP 200 with Hubtel's
 * JSON reply, every mandatory field set (`SessionId, Type, Message, Label,
 * DataType, FieldType`, and `ClientState`): an internal failure becomes a
 * localized `Release` apology. Only unreadable requests get a 4xx with a
 * plain reason.
 *
 * A `Release` or `Timeout` closes the call with that outcome and is not
 * stepped; anything sent on the session after it is answered with a release.
 * A `Query` is answered with a plain release: Kalata has no data to give.
 */
import express, { type RequestHandler } from 'express';
import type { TextForm } from '../../i18n/text-form.js';
import type { Logger } from '../../logger.js';
import type { CallReply, CallRuntime, CallTurn } from '../../runtime/call-runtime.js';
import type { HubtelSessionEnds } from './session-ends.js';
import { formatHubtelReply, hubtelBodySchema, toHubtelRequest, turnThatNeverSteps } from './ussd-request.js';

/** Parses Hubtel's JSON bodies: small, one flat object. */
export const parseHubtelJson = express.json({ limit: '8kb' });

/** The answer to a `Query`: the request is an API's, not a caller's. Plain ASCII, whatever form a gateway's text is set to. */
export const QUERY_REPLY: CallReply = { text: 'Kalata ne repond a aucune requete Query. Composez le code du service.', end: true };

export interface HubtelUssdHandlerOptions {
  runtime: CallRuntime;
  logger: Logger;
  serviceCodes: readonly string[];
  /** where a `Mobile` without `+` is read first (DEFAULT_COUNTRY) */
  defaultCountry: string;
  /** closes calls the gateway ends, and remembers them (see session-ends.ts) */
  sessionEnds: HubtelSessionEnds;
  /** the form Hubtel's screens are shown in (default: as written); `Label` is taken from the screen so follows it */
  textForm?: TextForm;
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
    const parsed = toHubtelRequest(body.data, options.serviceCodes, options.defaultCountry);
    if (!parsed.ok) {
      res.status(parsed.status).type('text/plain').send(parsed.reason);
      return;
    }
    const answer = (reply: CallReply) => res.status(200).json(formatHubtelReply(reply, parsed.echo));
    const session = parsed.echo.sessionId;
    const handle = async (turn: CallTurn): Promise<CallReply> => {
      try {
        return await options.runtime.handle({ ...turn, ...(req.ip ? { address: req.ip } : {}), ...(options.textForm ? { textForm: options.textForm } : {}) });
      } catch (err) {
        // handle() never throws; should it ever, the caller still gets the apology.
        log.error({ err, session }, 'USSD step failed');
        return options.runtime.apology(undefined, options.textForm);
      }
    };

    if (parsed.kind === 'query') {
      log.info({ session }, 'query request answered with a release');
      answer(QUERY_REPLY);
      return;
    }
    if (parsed.kind === 'end') {
      try {
        const known = await options.sessionEnds.close(session, parsed.status);
        log.debug({ session, type: parsed.status, known }, 'the gateway ended the session');
      } catch (err) {
        log.warn({ err: (err as Error).message, session, type: parsed.status }, 'end of session not recorded');
      }
      // Nothing is stepped: the runtime answers with the caller's "call over" release.
      answer(await handle(parsed.over));
      return;
    }

    let over: boolean;
    try {
      over = await options.sessionEnds.isOver(session);
    } catch (err) {
      // Redis is away: the runtime could not serve the turn either.
      log.warn({ err: (err as Error).message, session }, 'session state unavailable');
      answer(options.runtime.apology(undefined, options.textForm));
      return;
    }
    if (over) log.info({ session }, 'request on a session the gateway already ended');
    answer(await handle(over ? turnThatNeverSteps(parsed.turn) : parsed.turn));
  };
}
