/**
 * Errors that cross a module boundary. Callers match on `code` (stable, documented in docs/operations.md's
 * "Error codes"), never on message text; `retryable` says whether the sender should try again.
 * receive/wire-status.ts is the only place that turns them into wire statuses. This module imports
 * nothing: every detection worker loads it, and a transport library here would load in each of them.
 */

export const ErrorCode = {
  /** Request body is not a valid ExportLogsServiceRequest (protobuf or JSON). */
  DECODE: 'ERR_DECODE',
  /** Compressed body could not be inflated. */
  DECOMPRESS: 'ERR_DECOMPRESS',
  /** Request larger than receiver.max_request_bytes. */
  TOO_LARGE: 'ERR_TOO_LARGE',
  /** Content-Type / Content-Encoding not supported. */
  UNSUPPORTED_MEDIA: 'ERR_UNSUPPORTED_MEDIA',
  /** The detect queue is full: the sender should retry later. */
  BACKPRESSURE: 'ERR_BACKPRESSURE',
  /** The service is shutting down. */
  SHUTTING_DOWN: 'ERR_SHUTTING_DOWN',
  /** A worker failed while processing a request. */
  WORKER: 'ERR_WORKER',
  /** Writing detections to ClickHouse failed. */
  STORE: 'ERR_STORE',
  /** Delivering an alert failed. */
  ALERT: 'ERR_ALERT',
  /** The correlation stage could not keep a request's matches (its log is full, or the shared Redis is unreachable). */
  CORRELATION: 'ERR_CORRELATION',
  /** Configuration is invalid. */
  CONFIG: 'ERR_CONFIG',
  /** A rule file could not be loaded. */
  RULE_LOAD: 'ERR_RULE_LOAD',
  /** Missing or wrong credentials. */
  UNAUTHENTICATED: 'ERR_UNAUTHENTICATED',
  /** Anything unexpected. */
  INTERNAL: 'ERR_INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class PipelineError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** Seconds the sender should wait before retrying (retryable errors only). */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, retryable: boolean, opts?: ErrorOptions & { retryAfterSeconds?: number }) {
    super(message, opts);
    this.name = 'PipelineError';
    this.code = code;
    this.retryable = retryable;
    this.retryAfterSeconds = opts?.retryAfterSeconds;
  }
}

export const isPipelineError = (e: unknown): e is PipelineError =>
  e instanceof Error && typeof (e as Partial<PipelineError>).code === 'string' && typeof (e as Partial<PipelineError>).retryable === 'boolean';
