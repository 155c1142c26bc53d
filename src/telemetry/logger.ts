/** One pino logger for the process. Nothing is logged per record; errors carry `stage` and `code`. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env['OTEL_SIGMA_LOG_LEVEL'] ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'otel-sigma' },
    // Secrets never reach the log even if an object carrying them is logged by mistake.
    redact: { paths: ['*.keep_api_key', '*.password', '*.apiKey', '*.authorization', 'headers["x-api-key"]'], censor: '[redacted]' },
  });
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
