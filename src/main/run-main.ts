/**
 * Runs an entrypoint: a known failure (bad config, invalid flows) prints one
 * clear line, not a stack trace, and exits 1.
 */
import { ConfigError } from '../config/config.js';
import { FlowValidationError } from '../flows/problems.js';
import { DatabaseBusyError } from '../store/database.js';

/** A mistake in how a command was called: printed as one line. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function runMain(main: () => unknown | Promise<unknown>): void {
  Promise.resolve()
    .then(main)
    .catch((err: unknown) => {
      if (err instanceof ConfigError || err instanceof FlowValidationError || err instanceof UsageError || err instanceof DatabaseBusyError) {
        console.error(`kalata: ${err.message}`);
      } else {
        console.error(err);
      }
      process.exit(1);
    });
}
