/**
 * `npm run start:worker`: the SMS worker alone (sends follow-ups, relays the
 * outbox). Several can share one Redis and one PostgreSQL.
 */
import { loadConfig } from '../config/config.js';
import { createContext } from '../context.js';
import { runMain } from './run-main.js';
import { keepServingOnUnhandledRejection } from './process-guards.js';

runMain(async () => {
  const config = loadConfig();
  const ctx = await createContext(config, { worker: true });
  keepServingOnUnhandledRejection(ctx.logger);
  console.log(`Kalata SMS worker running (${ctx.smsTransport.name === 'dry-run' ? 'dry-run: no AT_USERNAME/AT_API_KEY, nothing is sent' : (ctx.smsTransport.description ?? "Africa's Talking")})`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    ctx.logger.info({ signal }, 'stopping: finishing jobs in progress');
    void ctx.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
});
