/**
 * Config → the security option objects of the receivers, the ClickHouse client and the Keep client.
 * Every file is read here, once, at start-up; a file that cannot be read is a ConfigError naming the
 * key and the path (never the content). Secret values go only into the returned objects, never into
 * messages.
 */
import fs from 'node:fs';
import type { ReceiverAuth, ReceiverTls } from '../receive/auth.ts';
import { ConfigError } from './load.ts';
import type { Config } from './schema.ts';

export interface SecurityOptions {
  /** → startGrpcServer / startHttpServer `{ tls, auth }`. */
  readonly receiver: { readonly tls?: ReceiverTls; readonly auth?: ReceiverAuth };
  /** → openClickHouse `{ password, caCert }` (password is the configured one when no file is set). */
  readonly clickhouse: { readonly password: string; readonly caCert?: Buffer };
  /** → the Keep client `{ apiKey, ca }`. */
  readonly keep: { readonly apiKey: string; readonly ca?: Buffer };
}

type Read = (key: string, file: string) => Buffer | undefined;

/** Reads every configured file; all problems are reported together, like loadConfig's. */
export function securityFromConfig(cfg: Readonly<Config>): SecurityOptions {
  const problems: string[] = [];
  const read: Read = (key, file) => {
    if (file === '') return undefined;
    try {
      return fs.readFileSync(file);
    } catch (err) {
      problems.push(`${key}: cannot read "${file}" (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`);
      return undefined;
    }
  };
  const secret = (key: string, file: string): string | undefined => {
    const b = read(key, file);
    if (b === undefined) return undefined;
    const s = b.toString('utf8').replace(/[\r\n]+$/, '');
    if (s === '') problems.push(`${key}: "${file}" is empty`);
    return s;
  };

  const r = cfg.receiver;
  const cert = read('receiver.tls_cert_file', r.tls_cert_file);
  const key = read('receiver.tls_key_file', r.tls_key_file);
  const clientCa = read('receiver.tls_client_ca_file', r.tls_client_ca_file);
  const tokens = [...splitTokens(r.auth_token)];
  const tokensFile = read('receiver.auth_tokens_file', r.auth_tokens_file);
  if (tokensFile !== undefined) {
    const fromFile = tokenLines(tokensFile.toString('utf8'));
    if (fromFile.length === 0) problems.push(`receiver.auth_tokens_file: "${r.auth_tokens_file}" holds no token (one per line; # starts a comment)`);
    tokens.push(...fromFile);
  }
  const chPassword = secret('storage.clickhouse_password_file', cfg.storage.clickhouse_password_file);
  const chCa = read('storage.clickhouse_ca_file', cfg.storage.clickhouse_ca_file);
  const keepKey = secret('alerts.keep_api_key_file', cfg.alerts.keep_api_key_file);
  const keepCa = read('alerts.keep_ca_file', cfg.alerts.keep_ca_file);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    receiver: {
      ...(cert !== undefined && key !== undefined ? { tls: { cert, key, ...(clientCa !== undefined ? { clientCa } : {}) } } : {}),
      ...(tokens.length > 0 ? { auth: { tokens } } : {}),
    },
    clickhouse: { password: chPassword ?? cfg.storage.clickhouse_password, ...(chCa !== undefined ? { caCert: chCa } : {}) },
    keep: { apiKey: keepKey ?? cfg.alerts.keep_api_key, ...(keepCa !== undefined ? { ca: keepCa } : {}) },
  };
}

/** `receiver.auth_token`: one token, or several separated by commas (rotation). */
function splitTokens(s: string): string[] {
  return s.split(',').map((t) => t.trim()).filter((t) => t !== '');
}

/** One token per line; blank lines and `#` comments are skipped, surrounding whitespace (and CR) trimmed. */
export function tokenLines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}
