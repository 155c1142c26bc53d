/**
 * Bounds what a gRPC call may hold while its message is still arriving, as the HTTP receiver bounds bodies
 * (http-body.ts), and maps grpc-js's inflate failure to the status HTTP gives it:
 *  - the whole message must arrive within `receiveTimeoutMs` of the call's headers; a stalled upload is
 *    ended (retryable) and its stream reset, which frees what it held;
 *  - bytes of messages still being received count against a BodyBudget (per port); a call that would cross
 *    it is ended the same way. 400 stalled calls pushed RSS past 5 GB before;
 *  - a message that cannot be inflated (garbage gzip) is ERR_DECOMPRESS → INVALID_ARGUMENT, not INTERNAL.
 * grpc-js offers no hook for either, so the guard reaches two internals of its base call: the HTTP/2 stream
 * (`stream`) and the inflate step (`decompressMessage`). It must be the first interceptor, so that it gets
 * the base call; test/integration/receive/grpc-receive-guard.test.ts fails if a grpc-js upgrade moves them.
 */
import { constants as h2, type ServerHttp2Stream } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { ErrorCode, PipelineError } from '../errors.ts';
import { metrics } from '../telemetry/metrics.ts';
import type { BodyBudget } from './body-budget.ts';

export interface ReceiveGuardOptions {
  readonly budget: BodyBudget;
  readonly receiveTimeoutMs: number;
  /** Counts the refusal (accounting) and turns it into the call's status (an Error, as grpc-js rejects with). */
  refuse(err: PipelineError): grpc.StatusObject & Error;
}

/** The parts of grpc-js's BaseServerInterceptingCall the guard uses (not in its typings). */
interface BaseCallInternals {
  stream?: ServerHttp2Stream;
  decompressMessage?: (message: Buffer, encoding: string) => Buffer | Promise<Buffer>;
}

export function receiveGuard(o: ReceiveGuardOptions): grpc.ServerInterceptor {
  return (_method, call) => {
    const base = call as unknown as BaseCallInternals;
    const stream = base.stream;
    // Unguarded rather than a thrown error inside grpc-js's stream handler (which would take the process down).
    if (stream === undefined || typeof base.decompressMessage !== 'function') return new grpc.ServerInterceptingCall(call);
    const inflate = base.decompressMessage.bind(call);
    base.decompressMessage = async (message, encoding) => {
      try {
        return await inflate(message, encoding);
      } catch (status) {
        if ((status as Partial<grpc.StatusObject>).code !== grpc.status.INTERNAL) throw status;
        throw o.refuse(new PipelineError(ErrorCode.DECOMPRESS, `cannot ${encoding}-decode the request message`, false));
      }
    };

    let held = 0;
    let receiving = true;
    const done = (): void => {
      if (!receiving) return;
      receiving = false;
      clearTimeout(timer);
      stream.off('data', onData);
      o.budget.give(held);
      held = 0;
    };
    const cut = (reason: 'receive_timeout' | 'receive_budget', err: PipelineError): void => {
      done();
      metrics.uploadsCut.inc({ transport: 'grpc', reason });
      call.sendStatus(o.refuse(err));
      // The status ends our side; a peer still sending (or stalled) keeps the stream, and the partial
      // message grpc-js buffered for it, open until this reset. NO_ERROR after a complete response asks the
      // client to stop sending without failing the response (RFC 9113 §8.1); CANCEL made Node clients drop it.
      setImmediate(() => {
        if (!stream.closed) stream.close(h2.NGHTTP2_NO_ERROR);
      });
    };
    const onData = (chunk: Buffer): void => {
      if (!o.budget.take(chunk.length)) {
        cut('receive_budget', new PipelineError(ErrorCode.BACKPRESSURE, `request messages being received hold the ${o.budget.maxBytes}-byte budget; retry later`, true, { retryAfterSeconds: 1 }));
        return;
      }
      held += chunk.length;
    };
    const timer = setTimeout(() => {
      cut('receive_timeout', new PipelineError(ErrorCode.BACKPRESSURE, `the request message did not arrive within ${o.receiveTimeoutMs} ms; retry`, true, { retryAfterSeconds: 1 }));
    }, o.receiveTimeoutMs);
    timer.unref();
    stream.on('data', onData);

    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMessage((message, next) => {
        done(); // the whole message is here: from now on the memory limiter accounts it
        next(message);
      })
      .withOnCancel(() => done())
      .build();
    return new grpc.ServerInterceptingCall(call, new grpc.ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendStatus((status, next) => {
        done();
        next(status);
      })
      .build());
  };
}
