/** One pino logger for the process. Nothing is logged per record; errors carry `stage` and `code`. */
import { pino, type Logger, type LogFn } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env['OTEL_SIGMA_LOG_LEVEL'] ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'otel-sigma' },
    hooks: { logMethod: withoutBoundKeys },
    // Secrets never reach the log even if an object carrying them is logged by mistake.
    redact: { paths: ['*.keep_api_key', '*.password', '*.apiKey', '*.authorization', 'headers["x-api-key"]'], censor: '[redacted]' },
  });
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });

/**
 * pino writes a child's bindings and the call's fields side by side, so `log.child({ stage: 'store' })`
 * plus `.warn({ stage: 'store' }, …)` printed `"stage"` twice (JSON parsers keep one, log tools may not).
 * Components name their stage themselves (they are also given the root logger), so a field equal to a
 * bound one is dropped here; one that differs is kept as `<key>_detail`. Runs only for enabled levels,
 * and nothing is logged per record.
 */
function withoutBoundKeys(this: Logger, args: Parameters<LogFn>, method: LogFn): void {
  const fields: unknown = args[0];
  if (typeof fields !== 'object' || fields === null || fields instanceof Error) {
    method.apply(this, args);
    return;
  }
  const bound = this.bindings();
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(fields)) {
    if (!Object.hasOwn(bound, key)) continue;
    out ??= { ...(fields as Record<string, unknown>) };
    const value = out[key];
    delete out[key];
    if (value !== bound[key]) out[`${key}_detail`] = value;
  }
  if (out === undefined) method.apply(this, args);
  else method.apply(this, [out, ...args.slice(1)] as Parameters<LogFn>);
}

/** A URL as it may be logged: scheme, host, port and path; user, password and query (which may hold secrets) left out. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
