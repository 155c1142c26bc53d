/**
 * One POST of a batch to Keep's generic ingest route, `POST {keep_url}/alerts/event`, with the
 * key in X-API-KEY. Never throws: the outcome says whether to retry. The key goes into the
 * request header only; nothing here logs, and results carry no headers.
 * With `ca` (a private CA for an https:// Keep) the POST goes through node:https with an agent that
 * trusts that CA, because the global fetch cannot be given one without the undici package.
 */
import https from 'node:https';
import type { AlertDto } from './keep-types.ts';
import { classifyStatus, parseRetryAfter } from './retry-policy.ts';

export type DeliveryResult =
  | { readonly kind: 'ok'; readonly status: number }
  | { readonly kind: 'retry'; readonly status?: number; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly kind: 'permanent'; readonly status: number; readonly reason: string }
  /** The caller's signal fired (shutdown deadline): neither success nor a Keep verdict. */
  | { readonly kind: 'aborted'; readonly reason: string };

export interface KeepClientOptions {
  readonly keepUrl: string;
  readonly apiKey?: string;
  readonly timeoutMs: number;
  readonly maxRetryAfterMs: number;
  /** PEM CA bundle that signed Keep's certificate (https:// only); the system CAs otherwise. */
  readonly ca?: Buffer | undefined;
}

interface PostInit { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal }
type Post = (url: string, init: PostInit) => Promise<Response>;

/** One keep-alive agent per CA buffer (the options object is built once at start-up). */
const agents = new WeakMap<Buffer, https.Agent>();

function postTrusting(ca: Buffer): Post {
  let agent = agents.get(ca);
  if (agent === undefined) {
    agent = new https.Agent({ ca, keepAlive: true });
    agents.set(ca, agent);
  }
  const a = agent;
  return (url, init) => new Promise<Response>((resolve, reject) => {
    // Same failure shape as fetch (TypeError with the socket error as cause), so networkReason reads both.
    const fail = (err: unknown): void => reject(new TypeError('fetch failed', { cause: err }));
    const req = https.request(url, { method: init.method, headers: init.headers, agent: a, signal: init.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
        const empty = status === 204 || status === 205 || status === 304;
        try {
          resolve(new Response(empty ? null : Buffer.concat(chunks), { status, headers }));
        } catch (err) {
          fail(err); // a status outside 200–599 cannot be a Response; treat it like a broken connection
        }
      });
    });
    req.on('error', fail);
    req.end(init.body);
  });
}

const MAX_REASON = 300;

export function keepEventUrl(keepUrl: string): string {
  return `${keepUrl.replace(/\/+$/, '')}/alerts/event`;
}

export async function postAlerts(opts: KeepClientOptions, batch: readonly AlertDto[], signal: AbortSignal): Promise<DeliveryResult> {
  // Keep takes one AlertDto or a list; a lone alert goes as an object, the common case.
  const body = JSON.stringify(batch.length === 1 ? batch[0] : batch);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (opts.apiKey) headers['x-api-key'] = opts.apiKey;
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  let res: Response;
  try {
    const post: Post = opts.ca !== undefined && /^https:/i.test(opts.keepUrl) ? postTrusting(opts.ca) : fetch;
    res = await post(keepEventUrl(opts.keepUrl), { method: 'POST', headers, body, signal: AbortSignal.any([signal, timeout]) });
  } catch (err) {
    if (signal.aborted) return { kind: 'aborted', reason: 'shutdown deadline' };
    if (timeout.aborted) return { kind: 'retry', reason: `timeout after ${opts.timeoutMs} ms` };
    return { kind: 'retry', reason: networkReason(err) };
  }
  let text = '';
  try {
    text = await res.text();
  } catch {
    // The verdict is in the status; an unreadable body only costs us the reason text.
  }
  const cls = classifyStatus(res.status);
  if (cls === 'ok') return { kind: 'ok', status: res.status };
  const reason = `HTTP ${res.status}${text ? `: ${oneLine(text)}` : ''}`;
  if (cls === 'permanent') return { kind: 'permanent', status: res.status, reason };
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), Date.now(), opts.maxRetryAfterMs);
  return retryAfterMs === undefined ? { kind: 'retry', status: res.status, reason } : { kind: 'retry', status: res.status, reason, retryAfterMs };
}

/** fetch wraps socket errors as TypeError('fetch failed') with the errno code on `cause`. */
function networkReason(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause && typeof cause === 'object') {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return err instanceof Error ? err.message : 'network error';
}

const oneLine = (s: string): string => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length <= MAX_REASON ? t : `${t.slice(0, MAX_REASON - 1)}…`;
};
