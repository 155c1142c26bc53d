/**
 * The one place pipeline errors become wire statuses (gRPC and HTTP), so both OTLP transports answer
 * the same error alike; the collector's exporters decide on these whether to retry.
 */
import { status } from '@grpc/grpc-js';
import { ErrorCode, isPipelineError } from '../errors.ts';

/** OTLP/gRPC: the collector's exporter retries UNAVAILABLE, and RESOURCE_EXHAUSTED only with RetryInfo. */
export function toGrpcStatus(err: unknown): status {
  if (!isPipelineError(err)) return status.INTERNAL;
  switch (err.code) {
    case ErrorCode.DECODE:
    case ErrorCode.DECOMPRESS:
      return status.INVALID_ARGUMENT;
    case ErrorCode.TOO_LARGE:
      return status.RESOURCE_EXHAUSTED; // no RetryInfo: resending the same request cannot succeed
    case ErrorCode.UNAUTHENTICATED:
      return status.UNAUTHENTICATED;
    case ErrorCode.UNSUPPORTED_MEDIA:
      return status.UNIMPLEMENTED;
    case ErrorCode.BACKPRESSURE:
      // Retried by the collector only because the gRPC receiver always attaches RetryInfo to retryable errors.
      return status.RESOURCE_EXHAUSTED;
    default:
      return err.retryable ? status.UNAVAILABLE : status.INTERNAL;
  }
}

/** OTLP/HTTP: 429/502/503/504 are retried by senders, 400 never. */
export function toHttpStatus(err: unknown): number {
  if (!isPipelineError(err)) return 500;
  switch (err.code) {
    case ErrorCode.DECODE:
    case ErrorCode.DECOMPRESS:
      return 400;
    case ErrorCode.TOO_LARGE:
      return 413;
    case ErrorCode.UNSUPPORTED_MEDIA:
      return 415;
    case ErrorCode.UNAUTHENTICATED:
      return 401;
    case ErrorCode.BACKPRESSURE:
      return 429;
    default:
      return err.retryable ? 503 : 500;
  }
}
