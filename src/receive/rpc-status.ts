/**
 * google.rpc.Status encoded by hand (protobufjs Writer), for the `grpc-status-details-bin` trailer and
 * OTLP/HTTP error bodies. Field numbers: google/rpc/status.proto (code=1, message=2, details=3),
 * google/protobuf/any.proto (type_url=1, value=2), google/rpc/error_details.proto RetryInfo (retry_delay=1),
 * google/protobuf/duration.proto (seconds=1, nanos=2).
 */
import protobuf from 'protobufjs/minimal.js';

export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

function encodeRetryInfo(delaySeconds: number): Uint8Array {
  const whole = Math.floor(delaySeconds);
  const nanos = Math.round((delaySeconds - whole) * 1e9);
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).fork();
  if (whole > 0) w.uint32(1 << 3).int64(whole);
  if (nanos > 0) w.uint32(2 << 3).int32(nanos);
  w.ldelim();
  return w.finish();
}

/** Status{code, message, details=[Any(RetryInfo)] when retryDelaySeconds is given}. */
export function encodeRpcStatus(code: number, message: string, retryDelaySeconds?: number): Uint8Array {
  const w = protobuf.Writer.create();
  if (code !== 0) w.uint32(1 << 3).int32(code);
  if (message !== '') w.uint32((2 << 3) | 2).string(message);
  if (retryDelaySeconds !== undefined) {
    w.uint32((3 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).string(RETRY_INFO_TYPE_URL);
    w.uint32((2 << 3) | 2).bytes(encodeRetryInfo(retryDelaySeconds));
    w.ldelim();
  }
  return w.finish();
}

/** The same Status in the OTLP/JSON mapping (RetryInfo is a protobuf-only hint; HTTP uses Retry-After). */
export function encodeRpcStatusJson(code: number, message: string): string {
  return JSON.stringify({ code, message });
}
