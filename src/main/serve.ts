/**
 * Runs the web process: flows validated, migrations run, then the HTTP
 * server. Prints where to send the first call. Stops cleanly on SIGTERM.
 */
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../config/config.js';
import { createContext } from '../context.js';
import { createApp } from '../web/app.js';
import { createSetupToken, SETUP_LINK_TTL_MS } from '../store/user-store.js';
import { keepServingOnUnhandledRejection } from './process-guards.js';

/** `worker`: also run the SMS worker in this process (npm start). */
export async function serveWeb(options: { worker: boolean }): Promise<void> {
  const config = loadConfig();
  const ctx = await createContext(config, { worker: options.worker });
  keepServingOnUnhandledRejection(ctx.logger);
  // In production an edit on disk is checked, and published by an admin from the console.
  const stopWatching = ctx.publisher.watch({ publish: !config.production });
  const server = createApp(ctx).listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const base = `http://localhost:${port}`;
  const secret = config.webhookSecret ? '/<WEBHOOK_SECRET>' : '';
  const callback = `${base}/ussd/africastalking${secret}`;
  const lines = [
    `Kalata is running on ${base} (flows ${ctx.flows.live().hash})`,
    `  USSD callback (Africa's Talking): POST ${base}/ussd/africastalking${secret}`,
    `  SMS (Africa's Talking): POST ${base}/sms/africastalking/inbound${secret} and /sms/africastalking/delivery${secret}`,
    `  SMS sending: ${options.worker ? (ctx.smsTransport.name === 'dry-run' ? 'worker running, dry-run (no AT_USERNAME/AT_API_KEY: messages are recorded, not sent)' : `worker running, through ${ctx.smsTransport.description ?? "Africa's Talking"}`) : 'by the separate worker (npm run start:worker)'}`,
    `  console: ${base}/   (accounts: the Comptes page for admins, or npm run users)`,
    `  simulator: ${base}/simulator`,
    `  health: ${base}/healthz   readiness: ${base}/readyz   metrics: ${base}/metrics`,
    `  database: ${ctx.embedded.database ? `embedded PGlite in ${ctx.embedded.database}` : 'PostgreSQL (DATABASE_URL)'}`,
    `  redis: ${ctx.embedded.redis ? `private redis-server at ${ctx.embedded.redis}` : 'REDIS_URL'}`,
    '',
    'A first call (then repeat with text=1, text=1*1, ...):',
    `  curl -s ${callback} --data-urlencode sessionId=demo-1 --data-urlencode 'serviceCode=*384*123#' --data-urlencode phoneNumber=+22376000000 --data-urlencode text=`,
  ];
  // No account yet: a one-time link for the first admin, so that npm start never needs stopping (its PGlite is this process's).
  const setupToken = await createSetupToken(ctx.db).catch((err: unknown) => {
    ctx.logger.warn({ subsystem: 'accounts', err: (err as Error).message }, 'no setup link: the database did not answer');
    return undefined;
  });
  if (setupToken) {
    lines.push('', `No account yet: create the first admin in the browser with this link (single use, valid ${SETUP_LINK_TTL_MS / 3600_000} hour; a new one at each start until an account exists):`, `${base}/setup?token=${setupToken}`);
    ctx.logger.info({ subsystem: 'accounts' }, 'first-admin setup link printed');
  }
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    ctx.logger.info({ signal }, 'stopping');
    stopWatching();
    // Streams (the dashboard's) end now, not after the 5 s below: their browsers reconnect to a process that runs.
    ctx.beginStop();
    server.close(() => {
      void ctx.close().then(() => process.exit(0));
    });
    // Connections kept alive by a gateway must not hold the shutdown forever.
    setTimeout(() => server.closeAllConnections(), 5000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
