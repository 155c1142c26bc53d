/** Inflate request bodies with a hard cap on the inflated size, so a small gzip bomb cannot take the heap. */
import { gunzipSync, inflateSync } from 'node:zlib';
import { ErrorCode, PipelineError } from '../errors.ts';

export type ContentEncoding = 'identity' | 'gzip' | 'deflate';

export function decompress(body: Uint8Array, encoding: ContentEncoding, maxBytes: number): Uint8Array {
  if (encoding === 'identity') return body;
  try {
    return encoding === 'gzip' ? gunzipSync(body, { maxOutputLength: maxBytes }) : inflateSync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new PipelineError(ErrorCode.TOO_LARGE, `request inflates to more than ${maxBytes} bytes`, false, { cause: err });
    }
    throw new PipelineError(ErrorCode.DECOMPRESS, `cannot ${encoding}-decode the request body: ${e.message}`, false, { cause: err });
  }
}
