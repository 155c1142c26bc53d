/**
 * Reads an HTTP request body with a hard limit on wire bytes: a declared Content-Length above the limit
 * is refused before reading anything, and a streamed body is abandoned the moment it crosses the limit,
 * so no more than `maxBytes` is ever held. Inflating is the decoder's job (it caps the inflated size).
 */
import type { IncomingMessage } from 'node:http';
import { ErrorCode, PipelineError } from '../errors.ts';
import { metrics } from '../telemetry/metrics.ts';
import type { BodyBudget } from './body-budget.ts';

const tooLarge = (maxBytes: number): PipelineError =>
  new PipelineError(ErrorCode.TOO_LARGE, `request body exceeds the ${maxBytes}-byte limit`, false);

/** Resolves with the body, or null when the client went away before sending all of it. */
export function readLimitedBody(req: IncomingMessage, maxBytes: number, budget?: BodyBudget): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBytes) {
      reject(tooLarge(maxBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      budget?.give(size);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
    };
    const onData = (chunk: Buffer): void => {
      if (budget !== undefined && !budget.take(chunk.length)) {
        metrics.uploadsCut.inc({ transport: 'http', reason: 'receive_budget' });
        cleanup();
        chunks.length = 0;
        req.pause();
        reject(new PipelineError(ErrorCode.BACKPRESSURE, `request bodies being received hold the ${budget.maxBytes}-byte budget; retry later`, true, { retryAfterSeconds: 1 }));
        return;
      }
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        chunks.length = 0;
        req.pause();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onClose = (): void => {
      cleanup();
      resolve(null);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}
