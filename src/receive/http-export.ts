/**
 * `POST /v1/logs` (OTLP/HTTP): checks media type and encoding, reads the body under the wire limit and
 * hands the raw bytes to the handler. Answers in the request's content type: ExportLogsServiceResponse on
 * 200 (also for partial success), google.rpc.Status on errors, Retry-After on 429/503. When the server
 * requires a token, it is checked first: a refused request gets 401 + WWW-Authenticate and its body is never read.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { ContentEncoding } from '../decode/decompress.ts';
import type { PayloadFormat } from '../decode/export-request.ts';
import { encodeResponseJson, encodeResponseProtobuf } from '../decode/export-response.ts';
import { ErrorCode, PipelineError, isPipelineError } from '../errors.ts';
import { toGrpcStatus, toHttpStatus } from './wire-status.ts';
import type { Accounting } from './accounting.ts';
import { unauthenticated } from './auth.ts';
import { retryAfterSeconds } from './accounting.ts';
import type { BodyBudget } from './body-budget.ts';
import { readLimitedBody } from './http-body.ts';
import { encodeRpcStatus, encodeRpcStatusJson } from './rpc-status.ts';
import type { ExportHandler } from './types.ts';

export type Send = (res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: string | Uint8Array, close?: boolean) => void;

const CONTENT_TYPE: Record<PayloadFormat, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };

export function payloadFormat(contentType: string | undefined): PayloadFormat | undefined {
  const media = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (media === 'application/x-protobuf' || media === 'application/protobuf') return 'protobuf';
  if (media === 'application/json') return 'json';
  return undefined;
}

export function contentEncoding(header: string | undefined): ContentEncoding | undefined {
  const enc = (header ?? '').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return 'identity';
  if (enc === 'gzip' || enc === 'x-gzip') return 'gzip';
  if (enc === 'deflate') return 'deflate';
  return undefined;
}

export interface ExportRouteOptions {
  maxRequestBytes: number;
  handler: ExportHandler;
  accounting: Accounting;
  send: Send;
  isClosing(): boolean;
  /** False → 401 before anything else is looked at. Absent = no authentication. */
  authorize?: ((req: IncomingMessage) => boolean) | undefined;
  /** Shared by every body being received (see BodyBudget). */
  bodyBudget?: BodyBudget;
}

export function createExportRoute(o: ExportRouteOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const fail = (res: ServerResponse, err: unknown, format: PayloadFormat | undefined, close = false): void => {
    o.accounting.failure(err);
    const status = toHttpStatus(err);
    const message = isPipelineError(err) ? err.message : 'internal error';
    const headers: OutgoingHttpHeaders = {};
    if (status === 429 || status === 503) headers['retry-after'] = String(retryAfterSeconds(err));
    if (status === 401) headers['www-authenticate'] = 'Bearer realm="otel-sigma"';
    if (format === undefined) {
      headers['content-type'] = 'text/plain; charset=utf-8';
      o.send(res, status, headers, `${message}\n`, close);
    } else {
      headers['content-type'] = CONTENT_TYPE[format];
      const code = toGrpcStatus(err);
      o.send(res, status, headers, format === 'json' ? encodeRpcStatusJson(code, message) : encodeRpcStatus(code, message), close);
    }
  };

  return async (req, res) => {
    const format = payloadFormat(req.headers['content-type']);
    if (o.authorize && !o.authorize(req)) {
      fail(res, unauthenticated(), format, true);
      return;
    }
    if (format === undefined) {
      const msg = `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}; use application/x-protobuf or application/json`;
      fail(res, new PipelineError(ErrorCode.UNSUPPORTED_MEDIA, msg, false), undefined);
      return;
    }
    const encoding = contentEncoding(req.headers['content-encoding']);
    if (encoding === undefined) {
      const msg = `unsupported Content-Encoding ${JSON.stringify(req.headers['content-encoding'])}; use gzip, deflate or identity`;
      fail(res, new PipelineError(ErrorCode.UNSUPPORTED_MEDIA, msg, false), format);
      return;
    }
    if (o.isClosing()) {
      fail(res, new PipelineError(ErrorCode.SHUTTING_DOWN, 'receiver is shutting down; retry later', true), format, true);
      return;
    }
    let body: Buffer | null;
    try {
      body = await readLimitedBody(req, o.maxRequestBytes, o.bodyBudget);
    } catch (err) {
      // The rest of the body is never read: answer now and drop the connection.
      fail(res, err, format, true);
      return;
    }
    if (body === null) return; // the client went away; there is nobody to answer
    try {
      const outcome = await o.handler({ body, format, encoding, transport: 'http' });
      o.accounting.success(outcome);
      o.send(res, 200, { 'content-type': CONTENT_TYPE[format] }, format === 'json' ? encodeResponseJson(outcome) : encodeResponseProtobuf(outcome));
    } catch (err) {
      fail(res, err, format);
    }
  };
}
