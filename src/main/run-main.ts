/**
 * Runs an entrypoint: a known failure (bad config, invalid flows, a key that
 * is not the database's) prints one clear line, not a stack trace, and exits 1.
 */
import { ConfigError } from '../config/config.js';
import { FlowValidationError } from '../flows/problems.js';
import { KeyMismatchError } from '../privacy/key-fingerprints.js';
import { KeyRotationError } from '../privacy/key-rotation.js';
import { DatabaseBusyError } from '../store/database.js';

/** A mistake in how a command was called: printed as one line. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Failures whose message says all an operator needs. */
const ONE_LINE = [ConfigError, FlowValidationError, UsageError, DatabaseBusyError, KeyMismatchError, KeyRotationError];

export function runMain(main: () => unknown | Promise<unknown>): void {
  Promise.resolve()
    .then(main)
    .catch((err: unknown) => {
      if (ONE_LINE.some((known) => err instanceof known)) {
        console.error(`kalata: ${(err as Error).message}`);
      } else {
        console.error(err);
      }
      process.exit(1);
    });
}
