/**
 * The Express app: telco webhooks, health and readiness. One error handler
 * turns anything unexpected into a plain 4xx/5xx reason, never a stack trace.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { atUssdAnswer, atUssdHandler } from '../channels/africastalking/ussd-handler.js';
import { AT_FORM_LIMITS, parseAtForm } from '../channels/africastalking/form.js';
import { atDeliveryReportHandler, atInboundSmsHandler } from '../channels/africastalking/sms-handlers.js';
import { atSessionEndHandler } from '../channels/africastalking/session-end-handler.js';
import { atVoiceHandler, parseVoiceForm } from '../channels/africastalking/voice-handler.js';
import { voiceMediaHandler } from '../channels/voice/voice-media.js';
import { hubtelUssdHandler, parseHubtelJson } from '../channels/hubtel/ussd-handler.js';
import { createHubtelSessionEnds } from '../channels/hubtel/session-ends.js';
import type { AppContext } from '../context.js';
import { createConsoleRouter } from './console/console-router.js';
import { metricsAccess } from './metrics-access.js';
import { withTelcoFastPath } from './telco-fast-path.js';

/** Mounts a telco path, behind the `WEBHOOK_SECRET` path segment when one is set. */
function telcoPath(path: string, secret: string | undefined): string {
  return secret ? `${path}/:secret` : path;
}

function requireSecret(secret: string | undefined): RequestHandler {
  if (!secret) return (_req, _res, next) => next();
  // Digests have one length, so the comparison says nothing about the secret's length either.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  const expected = digest(secret);
  return (req, res, next) => {
    if (timingSafeEqual(digest(String(req.params.secret ?? '')), expected)) next();
    else res.status(404).type('text/plain').send('not found');
  };
}

export function createApp(ctx: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  // No ETag on answers: gateways never revalidate a POST, and hashing every reply costs CPU.
  app.set('etag', false);
  app.set('trust proxy', ctx.config.trustProxy);
  const secret = ctx.config.webhookSecret;

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await ctx.readiness();
    const ready = Object.values(checks).every((c) => c === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'degraded', checks });
  });

  const atUssd = { runtime: ctx.calls, serviceCodes: ctx.config.serviceCodes, markerKey: ctx.secrets.phoneHashKey, defaultCountry: ctx.config.defaultCountry, textForm: ctx.config.textForms.africastalking };
  app.post(telcoPath('/ussd/africastalking', secret), requireSecret(secret), parseAtForm, atUssdHandler(atUssd));

  app.post(
    telcoPath('/ussd/hubtel', secret),
    requireSecret(secret),
    parseHubtelJson,
    hubtelUssdHandler({
      runtime: ctx.calls,
      logger: ctx.logger,
      serviceCodes: ctx.config.serviceCodes,
      defaultCountry: ctx.config.defaultCountry,
      textForm: ctx.config.textForms.hubtel,
      sessionEnds: createHubtelSessionEnds({ runtime: ctx.calls, redis: ctx.redis, prefix: ctx.redisPrefix, ttlSeconds: ctx.config.sessionTtlSeconds }),
    }),
  );
  app.post(
    telcoPath('/voice/africastalking', secret),
    requireSecret(secret),
    parseVoiceForm,
    atVoiceHandler({
      runtime: ctx.calls,
      flows: ctx.flows,
      logger: ctx.logger,
      defaultCountry: ctx.config.defaultCountry,
      speaker: { tts: new Set(ctx.config.voiceTts) },
      sayVoice: ctx.config.voiceSayVoice,
      ...(ctx.config.publicUrl ? { publicUrl: ctx.config.publicUrl } : {}),
      ...(secret ? { secret } : {}),
      callbackNumbers: new Set(ctx.config.voiceCallbackNumbers),
      missedCall: ctx.missedCalls,
    }),
  );
  app.get('/voice/media/:file', voiceMediaHandler(ctx.media));
  app.post(telcoPath('/ussd/africastalking/events', secret), requireSecret(secret), parseAtForm, atSessionEndHandler(ctx.calls, ctx.logger));
  app.post(telcoPath('/sms/africastalking/inbound', secret), requireSecret(secret), parseAtForm, atInboundSmsHandler(ctx.inboundSms, ctx.logger, ctx.config.defaultCountry));
  app.post(telcoPath('/sms/africastalking/delivery', secret), requireSecret(secret), parseAtForm, atDeliveryReportHandler(ctx.deliveryReports, ctx.logger));

  // A gateway misconfigured to GET gets told, rather than a bare 404.
  for (const path of ['/ussd/africastalking', '/voice/africastalking', '/ussd/hubtel', '/ussd/africastalking/events', '/sms/africastalking/inbound', '/sms/africastalking/delivery']) {
    app.all(telcoPath(path, secret), requireSecret(secret), (_req, res) => {
      res.status(405).set('Allow', 'POST').type('text/plain').send('use POST');
    });
  }

  // Production: the bearer METRICS_TOKEN, or a scraper on this machine (see metrics-access.ts).
  app.get('/metrics', metricsAccess({ production: ctx.config.production, token: ctx.config.metricsToken }), async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  app.use(createConsoleRouter(ctx, ctx.publisher));

  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found');
  });
  const onError: ErrorRequestHandler = (err: { status?: number; statusCode?: number; type?: string; message?: string }, _req, res, _next) => {
    const status = err.status ?? err.statusCode ?? 500;
    if (status >= 500) ctx.logger.error({ err }, 'request failed');
    const reason =
      err.type === 'entity.too.large'
        ? 'request body too large'
        : err.type === 'entity.parse.failed' || err.type === 'parameters.too.many'
          ? 'request body cannot be read'
          : err.type === 'charset.unsupported' || err.type === 'encoding.unsupported'
            ? 'unsupported body encoding'
            : status < 500
              ? 'bad request'
              : 'internal error';
    res.status(status).type('text/plain').send(reason);
  };
  app.use(onError);
  // AT's USSD callback, the busiest path, in its plain form: read without Express's router and body parser.
  return withTelcoFastPath(app, [{ path: '/ussd/africastalking', limits: AT_FORM_LIMITS, answer: atUssdAnswer(atUssd) }], secret);
}
