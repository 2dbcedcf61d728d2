/**
 * Structured logging. Personal data (phone numbers, transcripts, custom parameters) is only ever
 * logged under the `pii` key, which is redacted unless the level is debug or lower.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const debug = level === 'debug' || level === 'trace';
  return pino(
    {
      level,
      base: undefined,
      redact: debug ? [] : { paths: ['pii', '*.pii'], censor: '[redacted]' },
    },
    destination,
  );
}
