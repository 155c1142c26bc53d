/**
 * Receiver transport security options and the token check shared by both receivers.
 * Tokens arrive the way the collector sends them: `bearertokenauth` → `Authorization: Bearer <t>`, or a
 * static `headers:` entry → `X-API-Key: <t>` (or a literal `Authorization: Bearer <t>`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ErrorCode, PipelineError } from '../errors.ts';

export interface ReceiverTls {
  /** PEM certificate chain presented to clients. */
  readonly cert: Buffer;
  /** PEM private key of `cert`. */
  readonly key: Buffer;
  /** PEM CA bundle; when set, clients must present a certificate it signed (mutual TLS). */
  readonly clientCa?: Buffer | undefined;
}

export interface ReceiverAuth {
  /** Accepted tokens; several while one is being rotated out. Must not be empty. */
  readonly tokens: readonly string[];
}

/** What a refused request gets; deliberately says nothing about which part was wrong. */
export const UNAUTHENTICATED_MESSAGE = 'missing or invalid credentials: send Authorization: Bearer <token> or X-API-Key: <token>';

export const unauthenticated = (): PipelineError => new PipelineError(ErrorCode.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE, false);

/** Header value(s) as received: a string, a list (repeated header) or nothing. */
export type HeaderValue = string | readonly string[] | Buffer | undefined;

export type AuthCheck = (authorization: readonly HeaderValue[], apiKey: readonly HeaderValue[]) => boolean;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Compiles the token list once. Comparison is of SHA-256 digests with timingSafeEqual against every
 * accepted token (no early exit), so neither a token's length nor its prefix leaks through timing.
 */
export function createAuthCheck(auth: ReceiverAuth): AuthCheck {
  const accepted = auth.tokens.filter((t) => t !== '').map(digest);
  if (accepted.length === 0) throw new TypeError('receiver auth needs at least one non-empty token');
  const matches = (candidate: string): boolean => {
    if (candidate === '') return false;
    const d = digest(candidate);
    let ok = false;
    for (const a of accepted) ok = timingSafeEqual(a, d) || ok;
    return ok;
  };
  return (authorization, apiKey) => {
    for (const v of flatten(authorization)) {
      const m = /^\s*bearer\s+(\S+)\s*$/i.exec(v);
      if (m !== null && matches(m[1]!)) return true;
    }
    for (const v of flatten(apiKey)) if (matches(v.trim())) return true;
    return false;
  };
}

function flatten(values: readonly HeaderValue[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (v === undefined) continue;
    if (typeof v === 'string') out.push(v);
    else if (Buffer.isBuffer(v)) out.push(v.toString('utf8'));
    else out.push(...v);
  }
  return out;
}
