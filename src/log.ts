/**
 * Structured logging. Personal data (phone numbers, transcripts, keys pressed, custom
 * parameters) is only ever logged under the `pii` key, and that key is redacted at every level
 * unless the operator turns `LOG_PII` on (which the server announces with a warning at start-up).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Log what is under `pii` instead of `[redacted]`. */
  pii?: boolean;
}

export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  opts: LoggerOptions = {},
): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: opts.pii ? [] : { paths: ['pii', '*.pii'], censor: '[redacted]' },
    },
    destination,
  );
}

/** The server's logger from its configuration; says so loudly when personal data is logged. */
export function createServerLogger(
  config: { logLevel: string; logPii: boolean },
  destination?: pino.DestinationStream,
): Logger {
  const logger = createLogger(config.logLevel, destination, { pii: config.logPii });
  if (config.logPii) {
    logger.warn(
      { code: 'LOG_PII_ON' },
      'LOG_PII=true: phone numbers, transcripts and parameters are written to the logs',
    );
  }
  return logger;
}
