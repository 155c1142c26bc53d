/**
 * A stand-in for Keep's ingest API (keep cannot be installed here) that enforces the documented
 * contract of `POST /alerts/event` (shared docs wire-formats.md §D, keep/api/models/alert.py)
 * and fails on anything else: every deviation answers 4xx and lands in `violations`, so a test
 * that checks `violations` is empty proves the sender spoke the contract.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KEEP_DESCRIPTION_FORMATS, KEEP_MAX_FINGERPRINT, KEEP_SEVERITIES, KEEP_STATUSES, type AlertDto } from '../../src/alert/keep-types.ts';

export interface KeepServerOptions {
  readonly apiKey: string;
  /** Answer the first N valid requests with `status` instead of 202. */
  readonly failFirst?: number;
  /** Status for the failFirst requests; default 503. */
  readonly status?: number;
  /** Retry-After header sent with failFirst / down answers. */
  readonly retryAfter?: string;
  /** Listen on this port (to bring a server back where a sender expects it); default 0. */
  readonly port?: number;
}

export interface RecordedRequest {
  readonly status: number;
  readonly alertCount: number;
  readonly query: string;
}

export interface KeepServer {
  readonly url: string;
  readonly port: number;
  /** Alerts accepted (202), in arrival order. */
  readonly alerts: AlertDto[];
  /** Contract violations, one line each: what was wrong with which request. */
  readonly violations: string[];
  readonly requests: RecordedRequest[];
  /** While down, valid requests get 503 (with Retry-After when configured); so does one that began while down. */
  setDown(down: boolean): void;
  waitForAlerts(n: number, timeoutMs?: number): Promise<AlertDto[]>;
  close(): Promise<void>;
}

const ALLOWED_QUERY = new Set(['fingerprint', 'provider_id']);
const MAX_BODY = 10 * 1024 * 1024;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Violations of the AlertDto contract in `v` ([] when valid). */
export function validateAlertDto(v: unknown, at = 'alert'): string[] {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return [`${at}: not a JSON object`];
  const a = v as Record<string, unknown>;
  const out: string[] = [];
  const bad = (field: string, why: string): void => void out.push(`${at}.${field}: ${why} (got ${JSON.stringify(a[field])?.slice(0, 80)})`);
  const isStr = (x: unknown): x is string => typeof x === 'string';

  if (!isStr(a['name']) || a['name'].trim() === '') bad('name', 'must be a non-empty string');
  if (!(KEEP_STATUSES as readonly unknown[]).includes(a['status'])) bad('status', `must be one of ${KEEP_STATUSES.join('|')}`);
  if (!(KEEP_SEVERITIES as readonly unknown[]).includes(a['severity'])) bad('severity', `must be one of ${KEEP_SEVERITIES.join('|')}`);
  if (!isIso(a['lastReceived'])) bad('lastReceived', 'must be an ISO-8601 string');
  if (!isStr(a['id']) || a['id'] === '') bad('id', 'must be a non-empty string');
  if (!isStr(a['fingerprint']) || a['fingerprint'] === '' || a['fingerprint'].length > KEEP_MAX_FINGERPRINT) bad('fingerprint', `must be a string of 1..${KEEP_MAX_FINGERPRINT} chars`);
  const src = a['source'];
  if (!Array.isArray(src) || src.length === 0 || !src.every(isStr)) bad('source', 'must be a non-empty list of strings');
  for (const f of ['description', 'message', 'service', 'environment'] as const) {
    if (f in a && !isStr(a[f])) bad(f, 'must be a string');
  }
  if ('description_format' in a && !(KEEP_DESCRIPTION_FORMATS as readonly unknown[]).includes(a['description_format'])) bad('description_format', 'must be markdown|html');
  if ('url' in a && !isHttpUrl(a['url'])) bad('url', 'must be an absolute http(s) URL');
  if ('firingStartTime' in a && !isIso(a['firingStartTime'])) bad('firingStartTime', 'must be an ISO-8601 string');
  if ('labels' in a) {
    const l = a['labels'];
    if (typeof l !== 'object' || l === null || Array.isArray(l)) bad('labels', 'must be an object');
    else for (const [k, lv] of Object.entries(l)) if (!isStr(lv)) out.push(`${at}.labels.${k}: must be a string (got ${JSON.stringify(lv)})`);
  }
  return out;
}

function isIso(v: unknown): boolean {
  return typeof v === 'string' && ISO_8601.test(v) && !Number.isNaN(Date.parse(v));
}

function isHttpUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

export async function startKeepServer(opts: KeepServerOptions): Promise<KeepServer> {
  const alerts: AlertDto[] = [];
  const violations: string[] = [];
  const requests: RecordedRequest[] = [];
  let failLeft = opts.failFirst ?? 0;
  let down = false;
  let tasks = 0;
  const waiters = new Set<() => void>();

  const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer, downAtStart: boolean): void => {
    const url = new URL(req.url ?? '/', 'http://keep.local');
    const what = `${req.method} ${url.pathname}${url.search}`;
    const fail = (status: number, why: string): void => {
      violations.push(`${what}: ${why}`);
      requests.push({ status, alertCount: 0, query: url.search });
      reply(res, status, { detail: why });
    };
    if (url.pathname !== '/alerts/event') return fail(404, 'unknown route (only POST /alerts/event)');
    if (req.method !== 'POST') return fail(405, 'method not allowed');
    const extra = [...url.searchParams.keys()].filter((k) => !ALLOWED_QUERY.has(k));
    if (extra.length > 0) return fail(400, `unexpected query parameter(s) ${extra.join(', ')}`);
    if (req.headers['x-api-key'] !== opts.apiKey) return fail(401, 'missing or wrong X-API-KEY');
    const ctype = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (ctype !== 'application/json') return fail(400, `Content-Type must be application/json (got ${req.headers['content-type']})`);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return fail(400, 'body is not JSON');
    }
    const list = Array.isArray(body) ? body : [body];
    if (list.length === 0) return fail(400, 'empty list of alerts');
    const problems = list.flatMap((a, i) => validateAlertDto(a, Array.isArray(body) ? `alert[${i}]` : 'alert'));
    if (problems.length > 0) return fail(400, problems.join('; '));

    // A request that reached Keep during an outage is answered as down even when the outage ends while
    // its body is still being read: otherwise a test that ends the outage right after a sender gave up on
    // such a request (its shutdown deadline) saw Keep accept what the sender never knew was delivered.
    const isDown = down || downAtStart;
    if (isDown || failLeft > 0) {
      if (!isDown) failLeft--;
      const status = isDown ? 503 : (opts.status ?? 503);
      requests.push({ status, alertCount: list.length, query: url.search });
      return reply(res, status, { detail: 'unavailable' }, opts.retryAfter ? { 'retry-after': opts.retryAfter } : {});
    }
    alerts.push(...(list as AlertDto[]));
    requests.push({ status: 202, alertCount: list.length, query: url.search });
    reply(res, 202, { task_name: `process_event_${++tasks}` });
    for (const w of waiters) w();
  };

  const server = createServer((req, res) => {
    const downAtStart = down;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) {
        violations.push(`${req.method} ${req.url}: body larger than ${MAX_BODY} bytes`);
        return reply(res, 413, { detail: 'too large' });
      }
      handle(req, res, Buffer.concat(chunks), downAtStart);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    alerts,
    violations,
    requests,
    setDown(d: boolean) {
      down = d;
    },
    waitForAlerts(n: number, timeoutMs = 5000): Promise<AlertDto[]> {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (alerts.length < n) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(alerts.slice(0, n));
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`waited ${timeoutMs} ms for ${n} alerts, got ${alerts.length}; violations: ${violations.join(' | ') || 'none'}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close(): Promise<void> {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Waits until `server` has accepted `n` alerts (rejects after `timeoutMs`, naming any violations). */
export function waitForAlerts(server: KeepServer, n: number, timeoutMs = 5000): Promise<AlertDto[]> {
  return server.waitForAlerts(n, timeoutMs);
}
