/**
 * Small raw OTLP clients for tests: send one ExportLogsServiceRequest over gRPC (optionally gzip
 * message compression) or HTTP (protobuf/JSON, optionally gzip/deflate), and decode what comes back
 * (ExportLogsServiceResponse, google.rpc.Status, RetryInfo) with protobufjs reflection, independently
 * of the server's hand-written encoders. Both can speak TLS (optionally with a client certificate) and
 * send extra headers/metadata such as credentials.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { ExportLogsServiceResponse } from './otlp-proto.ts';

export const LOGS_EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

export interface GrpcExportResult {
  code: grpc.status;
  details: string;
  /** Raw ExportLogsServiceResponse bytes (OK only). */
  response: Buffer | undefined;
  trailers: grpc.Metadata;
}

/** Client side of TLS: the CA to trust and, for mTLS, the client's own certificate. */
export interface ClientTls {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface GrpcExportOptions {
  gzip?: boolean;
  deadlineMs?: number;
  tls?: ClientTls;
  /** Request metadata, e.g. { authorization: 'Bearer t' }. */
  metadata?: Record<string, string>;
}

/** One unary Export call on a fresh channel (gzip message compression unless gzip: false). */
export function sendGrpcExport(address: string, body: Uint8Array, opts: GrpcExportOptions = {}): Promise<GrpcExportResult> {
  const creds = opts.tls ? grpc.credentials.createSsl(opts.tls.ca, opts.tls.key ?? null, opts.tls.cert ?? null) : grpc.credentials.createInsecure();
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(opts.metadata ?? {})) md.set(k, v);
  const client = new grpc.Client(address, creds, {
    'grpc.default_compression_algorithm': opts.gzip === false ? grpc.compressionAlgorithms.identity : grpc.compressionAlgorithms.gzip,
    'grpc.max_send_message_length': -1,
  });
  return new Promise((resolve) => {
    let response: Buffer | undefined;
    const call = client.makeUnaryRequest<Uint8Array, Buffer>(
      LOGS_EXPORT_PATH,
      (b) => Buffer.from(b),
      (b) => b,
      body,
      md,
      { deadline: Date.now() + (opts.deadlineMs ?? 10_000) },
      (_err, value) => {
        response = value;
      },
    );
    call.on('status', (s: grpc.StatusObject) => {
      // The unary callback runs before 'status'; defer one tick so `response` is set either way.
      setImmediate(() => {
        client.close();
        resolve({ code: s.code, details: s.details, response, trailers: s.metadata });
      });
    });
  });
}

export interface HttpExportResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpExportOptions {
  format?: 'protobuf' | 'json';
  /** Compress the body and set Content-Encoding. */
  compress?: 'gzip' | 'deflate';
  /** Overrides (e.g. to send a bad Content-Type or Content-Encoding). */
  headers?: Record<string, string>;
  method?: string;
  path?: string;
  /** Send without Content-Length (chunked), in pieces of this size. */
  chunkSize?: number;
  /** Use HTTPS with this trust (and client certificate). */
  tls?: ClientTls;
}

/** One request on a fresh connection; `address` is host:port. */
export function sendHttpExport(address: string, body: Uint8Array | string, opts: HttpExportOptions = {}): Promise<HttpExportResult> {
  let payload: Buffer = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const headers: Record<string, string> = {
    'content-type': (opts.format ?? 'protobuf') === 'json' ? 'application/json' : 'application/x-protobuf',
  };
  if (opts.compress === 'gzip') payload = gzipSync(payload);
  if (opts.compress === 'deflate') payload = deflateSync(payload);
  if (opts.compress) headers['content-encoding'] = opts.compress;
  if (opts.chunkSize === undefined) headers['content-length'] = String(payload.length);
  Object.assign(headers, opts.headers);
  const [host, port] = splitAddress(address);
  return new Promise((resolve, reject) => {
    const common = { host, port, method: opts.method ?? 'POST', path: opts.path ?? '/v1/logs', headers, agent: false as const };
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    };
    const t = opts.tls;
    const req = t ? https.request({ ...common, ca: t.ca, servername: isIP(host) ? '' : host, ...(t.cert && t.key ? { cert: t.cert, key: t.key } : {}) }, onResponse) : http.request(common, onResponse);
    req.on('error', reject);
    if (opts.chunkSize === undefined) {
      req.end(payload);
      return;
    }
    const size = opts.chunkSize;
    let off = 0;
    const pump = (): void => {
      while (off < payload.length) {
        const piece = payload.subarray(off, off + size);
        off += piece.length;
        if (!req.write(piece)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/** GET helper for /healthz, /readyz, /metrics. */
export function httpGet(address: string, path: string, opts: { headers?: Record<string, string>; tls?: ClientTls } = {}): Promise<HttpExportResult> {
  return sendHttpExport(address, '', { method: 'GET', path, headers: { 'content-type': 'text/plain', ...opts.headers }, ...(opts.tls ? { tls: opts.tls } : {}) });
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[(.*)\]$/, '$1'), Number(address.slice(i + 1))];
}

export function decodeExportResponse(bytes: Uint8Array): { rejectedLogRecords: number; errorMessage: string } {
  const o = ExportLogsServiceResponse.toObject(ExportLogsServiceResponse.decode(bytes), { longs: Number, defaults: true }) as {
    partialSuccess?: { rejectedLogRecords: number; errorMessage: string };
  };
  return { rejectedLogRecords: o.partialSuccess?.rejectedLogRecords ?? 0, errorMessage: o.partialSuccess?.errorMessage ?? '' };
}

const rpc = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
            Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
          },
        },
        rpc: {
          nested: {
            Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 } } },
            RetryInfo: { fields: { retry_delay: { type: 'google.protobuf.Duration', id: 1 } } },
          },
        },
      },
    },
  },
});
const StatusT = rpc.lookupType('google.rpc.Status');
const RetryInfoT = rpc.lookupType('google.rpc.RetryInfo');

export interface RpcStatus {
  code: number;
  message: string;
  /** RetryInfo.retry_delay in seconds when a RetryInfo detail is present. */
  retryDelaySeconds: number | undefined;
  detailTypes: string[];
}

export function decodeRpcStatus(bytes: Uint8Array): RpcStatus {
  const s = StatusT.toObject(StatusT.decode(bytes), { longs: Number, defaults: true }) as {
    code: number; message: string; details: { type_url: string; value: Uint8Array }[];
  };
  let retryDelaySeconds: number | undefined;
  for (const d of s.details) {
    if (d.type_url !== 'type.googleapis.com/google.rpc.RetryInfo') continue;
    const ri = RetryInfoT.toObject(RetryInfoT.decode(d.value), { longs: Number, defaults: true }) as { retry_delay?: { seconds: number; nanos: number } };
    retryDelaySeconds = (ri.retry_delay?.seconds ?? 0) + (ri.retry_delay?.nanos ?? 0) / 1e9;
  }
  return { code: s.code, message: s.message, retryDelaySeconds, detailTypes: s.details.map((d) => d.type_url) };
}

/** The google.rpc.Status a gRPC server put in the `grpc-status-details-bin` trailer, if any. */
export function grpcStatusDetails(trailers: grpc.Metadata): RpcStatus | undefined {
  const v = trailers.get('grpc-status-details-bin')[0];
  return v === undefined ? undefined : decodeRpcStatus(typeof v === 'string' ? Buffer.from(v) : v);
}
