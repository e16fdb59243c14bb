/**
 * Structured logs (pino), one child per subsystem. Phone numbers, keys and
 * report texts never reach a log: redaction is a safety net, the code logs
 * pseudonyms only.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

const E164 = /\+?\b(?:00)?223\d{8}\b/g;

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'kalata' },
      redact: {
        paths: ['phone', 'phoneNumber', '*.phone', '*.phoneNumber', 'apiKey', '*.apiKey', 'text', '*.text', 'req.headers.cookie'],
        censor: '[redacted]',
      },
      hooks: {
        // Last line of defence: a Malian number that slipped into a message is masked.
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? a.replace(E164, '+223••••••••') : a));
          method.apply(this, masked as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
