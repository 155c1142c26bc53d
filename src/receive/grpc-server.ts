/**
 * OTLP/gRPC logs receiver: `opentelemetry.proto.collector.logs.v1.LogsService/Export` on @grpc/grpc-js.
 * The request deserializer is the identity, so the raw (already gRPC-decompressed) message goes to the
 * handler, which decodes it in a worker. Status mapping comes only from wire-status.ts; every retryable
 * error carries RetryInfo, because the collector retries RESOURCE_EXHAUSTED only when RetryInfo is present.
 * With `tls` the port speaks only TLS (client certificates required when a client CA is given); with
 * `auth` every call needs an accepted token, checked on its metadata before the message is read.
 */
import type { Server } from 'node:net';
import { capConnections, closeSilentConnections, DEFAULT_MAX_CONNECTIONS } from './connection-cap.ts';
import * as grpc from '@grpc/grpc-js';
import { encodeResponseProtobuf, type ExportOutcome } from '../decode/export-response.ts';
import { isPipelineError, type PipelineError } from '../errors.ts';
import { toGrpcStatus } from './wire-status.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createAccounting, retryAfterSeconds } from './accounting.ts';
import { createAuthCheck, unauthenticated, type AuthCheck, type ReceiverAuth, type ReceiverTls } from './auth.ts';
import { BodyBudget, defaultBodyBudgetBytes } from './body-budget.ts';
import { receiveGuard } from './grpc-receive-guard.ts';
import { DEFAULT_MAX_REQUEST_BYTES, splitHostPort } from './listen.ts';
import { encodeRpcStatus } from './rpc-status.ts';
import type { ExportHandler, RunningServer } from './types.ts';

export const LOGS_EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

export interface GrpcServerOptions {
  /** host:port; port 0 picks a free one. */
  listen: string;
  maxRequestBytes?: number;
  handler: ExportHandler;
  logger: Logger;
  /** Serve TLS only (and require client certificates when `tls.clientCa` is set). */
  tls?: ReceiverTls | undefined;
  /** Require one of these tokens on every call. */
  auth?: ReceiverAuth | undefined;
  /** A connection without a call for this long is closed (GOAWAY). Default 5 minutes. */
  connectionIdleMs?: number;
  /** A call whose whole message has not arrived this long after its headers is ended (retryable). Default 60 s, as HTTP's request timeout. */
  receiveTimeoutMs?: number;
  /** Bytes of messages still being received, across the port's calls. Default defaultBodyBudgetBytes(maxRequestBytes). */
  receiveBudget?: BodyBudget;
  /** Connections open at once on the port (receiver.max_connections). Default DEFAULT_MAX_CONNECTIONS. */
  maxConnections?: number;
  /** A connection that has sent no byte this long after opening is closed. Default 10 s (HTTP's headers timeout). */
  silentConnectionMs?: number;
}

/** Calls one connection may have open at once: a collector's exporter runs num_consumers (default 10). */
const MAX_CONCURRENT_STREAMS = 64;

export function grpcCredentials(tls: ReceiverTls | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(tls.clientCa ?? null, [{ cert_chain: tls.cert, private_key: tls.key }], tls.clientCa !== undefined);
}

const identity = (b: Buffer): Buffer => b;
const serializeOutcome = (o: ExportOutcome): Buffer => {
  const bytes = encodeResponseProtobuf(o);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
};

const logsService: grpc.ServiceDefinition = {
  Export: {
    path: LOGS_EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: serializeOutcome,
    responseDeserialize: identity,
  },
};

/** PipelineError → gRPC status (with RetryInfo details for retryable errors). */
function grpcStatusOf(err: unknown): grpc.StatusObject {
  const code = toGrpcStatus(err);
  const details = isPipelineError(err) ? err.message : 'internal error';
  const metadata = new grpc.Metadata();
  if (isPipelineError(err) && err.retryable) {
    metadata.set('grpc-status-details-bin', Buffer.from(encodeRpcStatus(code, details, retryAfterSeconds(err))));
  }
  return { code, details, metadata };
}

/** The same status as the error a unary callback takes. */
export function toGrpcError(err: unknown): grpc.StatusObject & grpc.ServerErrorResponse {
  const s = grpcStatusOf(err);
  return Object.assign(new Error(s.details), s);
}

/**
 * Checks the token when the call's metadata arrives, so a refused call ends before its message is read
 * (and never buffered or decompressed).
 */
function authInterceptor(check: AuthCheck, refused: (err: PipelineError) => void): grpc.ServerInterceptor {
  return (_method, call) => {
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        if (check(metadata.get('authorization'), metadata.get('x-api-key'))) {
          next(metadata);
          return;
        }
        const err = unauthenticated();
        refused(err);
        call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: err.message, metadata: new grpc.Metadata() });
      })
      .build();
    return new grpc.ServerInterceptingCall(call, new grpc.ResponderBuilder().withStart((next) => next(listener)).build());
  };
}

export async function startGrpcServer(opts: GrpcServerOptions): Promise<RunningServer> {
  const maxRequestBytes = opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const accounting = createAccounting('grpc', opts.logger);
  const guard = receiveGuard({
    budget: opts.receiveBudget ?? new BodyBudget(defaultBodyBudgetBytes(maxRequestBytes)),
    receiveTimeoutMs: opts.receiveTimeoutMs ?? 60_000,
    refuse: (err) => {
      accounting.failure(err);
      return toGrpcError(err);
    },
  });
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxRequestBytes,
    // Responses are a few bytes; no reason to allow large ones.
    'grpc.max_send_message_length': 4 * 1024 * 1024,
    // Connection hygiene: idle connections (a sender that connects and says nothing) are closed, dead peers
    // are found by keepalive pings, and no connection lives forever (so load balancers can rebalance).
    'grpc.max_connection_idle_ms': opts.connectionIdleMs ?? 5 * 60_000,
    'grpc.max_connection_age_ms': 30 * 60_000,
    'grpc.max_connection_age_grace_ms': 60_000,
    'grpc.keepalive_time_ms': 2 * 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.max_concurrent_streams': MAX_CONCURRENT_STREAMS,
    // The receive guard first: it needs grpc-js's base call (see grpc-receive-guard.ts).
    interceptors: [guard, ...(opts.auth ? [authInterceptor(createAuthCheck(opts.auth), (err) => accounting.failure(err))] : [])],
  });

  const exportCall = (call: grpc.ServerUnaryCall<Buffer, ExportOutcome>, callback: grpc.sendUnaryData<ExportOutcome>): void => {
    let pending: Promise<ExportOutcome>;
    try {
      pending = opts.handler({ body: call.request, format: 'protobuf', encoding: 'identity', transport: 'grpc' });
    } catch (err) {
      pending = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    pending.then(
      (outcome) => {
        accounting.success(outcome);
        callback(null, outcome);
      },
      (err: unknown) => {
        accounting.failure(err);
        callback(toGrpcError(err));
      },
    );
  };
  server.addService(logsService, { Export: exportCall });

  const { host } = splitHostPort(opts.listen);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(opts.listen, grpcCredentials(opts.tls), (err, p) => (err ? reject(err) : resolve(p)));
  });
  // grpc-js has no option for it: cap the HTTP/2 servers it listens with (test/integration/receive fails if
  // an upgrade renames the field).
  const listeners = (server as unknown as { http2Servers?: Map<Server, unknown> }).http2Servers;
  if (!(listeners instanceof Map) || listeners.size === 0) throw new Error('grpc-js internals changed: no http2Servers to cap connections on');
  for (const l of listeners.keys()) {
    capConnections(l, opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS, 'grpc');
    closeSilentConnections(l, opts.silentConnectionMs ?? 10_000, 'grpc');
  }

  let closing: Promise<void> | undefined;
  return {
    address: `${host}:${port}`,
    close(graceMs: number): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        // tryShutdown refuses new calls and waits for running ones; forceShutdown cuts whatever is left.
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, Math.max(0, graceMs));
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}
