/**
 * `GET /api/v1/detections` on the HTTP listener: the detections this serve stored, so they can be read
 * while it holds the embedded data directory. The parameters are `otel-sigma detections`' flags
 * (`since`, `event-time`, `rule`, `level`, `host`, `source`, `tag`, `limit`) plus `format=ndjson|json`;
 * rows are streamed as JSON lines (default) or one JSON array. It sits behind the listener's token and
 * TLS like /metrics (an extra route of http-server.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClickHouseClient } from '@clickhouse/client';
import { ErrorCode, isPipelineError } from '../errors.ts';
import { filterTextFromParams, parseDetectionsFilter, streamDetections, type DetectionsFilter } from '../store/detections-query.ts';
import type { Logger } from '../telemetry/logger.ts';
import { metrics } from '../telemetry/metrics.ts';
import type { RouteHandler } from './http-server.ts';

export const DETECTIONS_PATH = '/api/v1/detections';

export interface DetectionsRouteOptions {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly table: string;
  readonly logger: Logger;
}

const CONTENT_TYPE = { ndjson: 'application/x-ndjson; charset=utf-8', json: 'application/json; charset=utf-8' } as const;

export function createDetectionsRoute(opts: DetectionsRouteOptions): RouteHandler {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      plain(res, 405, 'method not allowed; use GET\n', { allow: 'GET, HEAD' });
      return;
    }
    let filter: DetectionsFilter;
    let format: keyof typeof CONTENT_TYPE;
    try {
      const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
      const f = params.get('format') ?? 'ndjson';
      if (f !== 'ndjson' && f !== 'json') throw new Error(`format: got "${f}"; expected ndjson or json`);
      format = f;
      params.delete('format');
      filter = parseDetectionsFilter(filterTextFromParams(params));
    } catch (err) {
      plain(res, 400, `${(err as Error).message}\n`);
      return;
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, { 'content-type': CONTENT_TYPE[format] });
      res.end();
      return;
    }
    stream(opts, filter, format, req, res).catch((err: unknown) => {
      const code = isPipelineError(err) ? err.code : ErrorCode.INTERNAL;
      metrics.errors.inc({ stage: 'store', code });
      opts.logger.warn({ code, err: (err as Error).message }, 'Reading detections for /api/v1/detections failed.');
      // Rows already sent: cut the chunked body short, so the client sees an incomplete answer, never a short one.
      if (res.headersSent) res.destroy();
      else plain(res, isPipelineError(err) && err.retryable ? 503 : 500, `${(err as Error).message}\n`);
    });
  };
}

async function stream(opts: DetectionsRouteOptions, filter: DetectionsFilter, format: keyof typeof CONTENT_TYPE, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let first = true;
  const write = async (text: string): Promise<void> => {
    if (!res.headersSent) res.writeHead(200, { 'content-type': CONTENT_TYPE[format] });
    if (!res.write(text) && !res.destroyed) await new Promise<void>((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
  };
  await streamDetections(opts.client, { database: opts.database, table: opts.table, ...filter }, async (rows) => {
    if (req.destroyed || res.destroyed) return;
    let text = '';
    for (const r of rows) {
      const json = JSON.stringify(r);
      text += format === 'ndjson' ? `${json}\n` : `${first ? '[' : ','}${json}`;
      first = false;
    }
    await write(text);
  });
  if (format === 'json') await write(first ? '[]\n' : ']\n');
  else if (!res.headersSent) res.writeHead(200, { 'content-type': CONTENT_TYPE[format] });
  res.end();
}

function plain(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
