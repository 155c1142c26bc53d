/**
 * OTLP/HTTP logs receiver plus the service's operational endpoints (/healthz, /readyz, /metrics) on one
 * node:http server. Slow clients are bounded by header/request timeouts; close() stops accepting, lets
 * in-flight requests finish within the grace period, then destroys whatever connections remain.
 * With `tls` it is a node:https server (client certificates required when a client CA is given); with
 * `auth`, /v1/logs, /readyz, /metrics and extra routes need a token, /healthz stays open for probes; under
 * mTLS the same routes need the client certificate and /healthz does not.
 */
import { capConnections, DEFAULT_MAX_CONNECTIONS } from './connection-cap.ts';
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../telemetry/logger.ts';
import { metrics, registry } from '../telemetry/metrics.ts';
import { createAccounting } from './accounting.ts';
import { createAuthCheck, UNAUTHENTICATED_MESSAGE, type ReceiverAuth, type ReceiverTls } from './auth.ts';
import { ErrorCode } from '../errors.ts';
import { createExportRoute, type Send } from './http-export.ts';
import { BodyBudget, defaultBodyBudgetBytes } from './body-budget.ts';
import { DEFAULT_MAX_REQUEST_BYTES, splitHostPort, unbracket } from './listen.ts';
import type { ExportHandler, HealthSource, RunningServer } from './types.ts';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpTimeouts {
  /** Time allowed for a client to send the request headers. */
  headersMs: number;
  /** Time allowed for a client to send the whole request (headers and body). */
  requestMs: number;
  /** How long an idle keep-alive connection is kept open. */
  keepAliveMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, requestMs: 60_000, keepAliveMs: 5_000 };

export interface HttpServerOptions {
  /** host:port; port 0 picks a free one. */
  listen: string;
  maxRequestBytes?: number;
  handler: ExportHandler;
  health: HealthSource;
  logger: Logger;
  /** More routes by exact path (checked after the built-in ones). */
  extraRoutes?: Map<string, RouteHandler>;
  timeouts?: Partial<HttpTimeouts>;
  /** Serve HTTPS only (and require client certificates when `tls.clientCa` is set). */
  tls?: ReceiverTls | undefined;
  /** Require one of these tokens (see the file comment for which paths). */
  auth?: ReceiverAuth | undefined;
  /** Bytes of request bodies received at once, across connections. Default 4 × maxRequestBytes, at least 256 MiB. */
  bodyBudgetBytes?: number;
  /** Connections open at once on the port (receiver.max_connections). Default DEFAULT_MAX_CONNECTIONS. */
  maxConnections?: number;
}

export async function startHttpServer(opts: HttpServerOptions): Promise<RunningServer> {
  const timeouts = { ...DEFAULT_HTTP_TIMEOUTS, ...opts.timeouts };
  let closing = false;
  let inFlight = 0;

  const httpOptions: http.ServerOptions = {
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    // How often the two timeouts above are enforced.
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, timeouts.headersMs / 2)),
  };
  const tls = opts.tls;
  const server: http.Server = tls === undefined ? http.createServer(httpOptions) : https.createServer({
    ...httpOptions,
    cert: tls.cert,
    key: tls.key,
    minVersion: 'TLSv1.2',
    // A client that opens TCP and never finishes the handshake holds a socket only this long.
    handshakeTimeout: timeouts.headersMs,
    // mTLS: the certificate is asked for but checked per request below, so a probe without one still gets
    // /healthz (a Docker or Kubernetes health check has no client certificate); every other route needs it.
    ...(tls.clientCa !== undefined ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
  });
  const needsCert = tls?.clientCa !== undefined;
  const certified = (req: IncomingMessage): boolean => !needsCert || (req.socket as TLSSocket).authorized;
  const authCheck = opts.auth ? createAuthCheck(opts.auth) : undefined;
  const authorize = authCheck && ((req: IncomingMessage): boolean => authCheck([req.headers.authorization], [req.headers['x-api-key']]));

  const send: Send = (res, status, headers, body, close = false) => {
    if (res.headersSent || res.destroyed) return;
    const h: OutgoingHttpHeaders = { ...headers, 'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength };
    if (close || closing) h['connection'] = 'close';
    res.writeHead(status, h);
    res.end(body);
  };
  const text = (res: ServerResponse, status: number, body: string, headers: OutgoingHttpHeaders = {}): void =>
    send(res, status, { 'content-type': 'text/plain; charset=utf-8', ...headers }, body);

  const maxRequestBytes = opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const exportRoute = createExportRoute({
    maxRequestBytes,
    bodyBudget: new BodyBudget(opts.bodyBudgetBytes ?? defaultBodyBudgetBytes(maxRequestBytes)),
    handler: opts.handler,
    accounting: createAccounting('http', opts.logger),
    send,
    isClosing: () => closing,
    authorize,
  });
  /** Operational routes: refused with a plain 401 (the export route answers in OTLP's own error format). */
  const allowed = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (authorize === undefined || authorize(req)) return true;
    metrics.errors.inc({ stage: 'receive', code: ErrorCode.UNAUTHENTICATED });
    text(res, 401, `${UNAUTHENTICATED_MESSAGE}\n`, { 'www-authenticate': 'Bearer realm="otel-sigma"' });
    return false;
  };

  const onGet = (req: IncomingMessage, res: ServerResponse, fn: () => void): void => {
    if (req.method === 'GET' || req.method === 'HEAD') fn();
    else text(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      // Sockets freed while closing are not reused: drop them instead of waiting for keep-alive to expire.
      if (closing && inFlight === 0) server.closeIdleConnections();
    });
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path !== '/healthz' && !certified(req)) {
      metrics.errors.inc({ stage: 'receive', code: ErrorCode.UNAUTHENTICATED });
      const reason = (req.socket as TLSSocket).authorizationError;
      send(res, 401, { 'content-type': 'text/plain; charset=utf-8' }, `a client certificate signed by the configured CA is required${reason ? ` (${String(reason)})` : ''}\n`, true);
      return;
    }
    switch (path) {
      case '/v1/logs':
        if (req.method !== 'POST') text(res, 405, 'method not allowed; use POST\n', { allow: 'POST' });
        else exportRoute(req, res).catch((err: unknown) => {
          opts.logger.error({ stage: 'receive', err }, 'OTLP/HTTP route failed');
          text(res, 500, 'internal error\n');
        });
        return;
      case '/healthz':
        onGet(req, res, () => (opts.health.live() ? text(res, 200, 'ok\n') : text(res, 503, 'not live\n')));
        return;
      case '/readyz':
        if (!allowed(req, res)) return;
        onGet(req, res, () => {
          const r = opts.health.ready();
          send(res, r.ready ? 200 : 503, { 'content-type': 'application/json' }, JSON.stringify({ ready: r.ready, reasons: r.reasons }));
        });
        return;
      case '/metrics':
        if (!allowed(req, res)) return;
        onGet(req, res, () => {
          registry.metrics().then(
            (body) => send(res, 200, { 'content-type': registry.contentType }, body),
            () => text(res, 500, 'metrics unavailable\n'),
          );
        });
        return;
    }
    const extra = opts.extraRoutes?.get(path);
    if (extra) {
      if (allowed(req, res)) extra(req, res);
    }
    else text(res, 404, 'not found\n');
  });

  capConnections(server, opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS, 'http');
  const { host, port } = splitHostPort(opts.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, unbracket(host), () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  // After startup nothing may take the process down; accept-level errors (e.g. EMFILE) are logged.
  server.on('error', (err) => opts.logger.error({ stage: 'receive', err }, 'OTLP/HTTP server error'));

  let closed: Promise<void> | undefined;
  return {
    address: `${host}:${bound.port}`,
    close(graceMs: number): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        const timer = setTimeout(() => server.closeAllConnections(), Math.max(0, graceMs));
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}
