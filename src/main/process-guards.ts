/**
 * A long-running process (web, worker) outlives any one failed promise: a
 * rejection nobody handled is a bug to log, not a reason to drop every call in
 * progress and the SMS worker with them. Node's default is to exit.
 */
import type { Logger } from '../logger.js';

/** Logs unhandled rejections (without their values' contents beyond the message) and keeps serving. */
export function keepServingOnUnhandledRejection(logger: Logger): void {
  const log = logger.child({ subsystem: 'process' });
  process.on('unhandledRejection', (reason: unknown) => {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    log.error({ err: { type: err.name, message: err.message, stack: err.stack } }, 'unhandled promise rejection (bug): logged, still serving');
  });
}
