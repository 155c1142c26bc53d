/**
 * Which ClickHouse failures are worth retrying, and how long to wait. Like Vector's
 * ClickhouseRetryLogic: the server rejecting the data or the statement (bad SQL, wrong types,
 * unknown table, unparsable input, denied access) is permanent — the same insert will fail again —
 * while everything else (network errors, timeouts, 5xx, TOO_MANY_PARTS, memory limits, a server
 * starting up) is retried.
 */

/** ClickHouse error codes (`Code: N.`) that no retry can fix. */
const PERMANENT_CODES: ReadonlySet<string> = new Set([
  '6', //   CANNOT_PARSE_TEXT
  '16', //  NO_SUCH_COLUMN_IN_TABLE
  '25', //  CANNOT_PARSE_ESCAPE_SEQUENCE
  '26', //  CANNOT_PARSE_QUOTED_STRING
  '27', //  CANNOT_PARSE_INPUT_ASSERTION_FAILED
  '38', //  CANNOT_PARSE_DATE
  '41', //  CANNOT_PARSE_DATETIME
  '43', //  ILLEGAL_TYPE_OF_ARGUMENT
  '44', //  ILLEGAL_COLUMN
  '47', //  UNKNOWN_IDENTIFIER
  '53', //  TYPE_MISMATCH (Vector: "type mismatch")
  '60', //  UNKNOWN_TABLE
  '62', //  SYNTAX_ERROR
  '69', //  ARGUMENT_OUT_OF_BOUND
  '70', //  CANNOT_CONVERT_TYPE
  '72', //  CANNOT_PARSE_NUMBER
  '81', //  UNKNOWN_DATABASE
  '115', // UNKNOWN_SETTING
  '117', // INCORRECT_DATA (Vector: "incorrect data")
  '164', // READONLY
  '497', // ACCESS_DENIED
  '516', // AUTHENTICATION_FAILED
]);

/** `{ code: '60', type: 'UNKNOWN_TABLE' }` as produced by @clickhouse/client's parseError (HTTP and chdb alike). */
export function clickHouseErrorCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^\d+$/.test(code) ? code : undefined;
}

export function isRetryableStoreError(err: unknown): boolean {
  const code = clickHouseErrorCode(err);
  return code === undefined || !PERMANENT_CODES.has(code);
}

export interface BackoffOptions {
  /** First delay before jitter. */
  readonly baseMs: number;
  /** Cap on a single delay before jitter. */
  readonly maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries from
 * many writers spread out but never collapse to zero. `attempt` counts failures so far (1 = first).
 */
export function backoffDelayMs(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}
