/**
 * Reads `GET /api/v1/detections` of a running serve (found through its serve.json) as JSON lines.
 * The token is the one the command's own configuration holds, as serve's does. Over TLS the server
 * must present exactly the certificate configured as receiver.tls_cert_file (pinned by fingerprint:
 * serve usually listens on an address its certificate does not name, e.g. 127.0.0.1 or 0.0.0.0).
 */
import http from 'node:http';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { DETECTIONS_PATH } from '../receive/detections-route.ts';
import { splitHostPort, unbracket } from '../receive/listen.ts';
import type { DetectionRow } from '../store/detection-row.ts';
import type { ServeInfo } from './serve-info.ts';

export interface ServeClientOptions {
  /** Sent as `Authorization: Bearer` when serve requires a token. */
  readonly token?: string | undefined;
  /** PEM of the certificate serve presents (receiver.tls_cert_file); required when serve speaks TLS. */
  readonly serverCert?: Buffer | undefined;
  /** Client certificate and key, when serve requires one (receiver.tls_client_ca_file). */
  readonly clientCert?: Buffer | undefined;
  readonly clientKey?: Buffer | undefined;
  readonly timeoutMs?: number;
}

/** An error of the connection itself (serve gone since it wrote serve.json): the caller may read the store instead. */
export class ServeUnreachableError extends Error {
  readonly code = 'ERR_SERVE_UNREACHABLE';
}

/** Where to connect: a wildcard listen address is reached on loopback. */
export function connectAddress(listen: string): { host: string; port: number } {
  const { host, port } = splitHostPort(listen);
  const h = unbracket(host);
  if (h === '' || h === '0.0.0.0') return { host: '127.0.0.1', port };
  if (h === '::' || h === '[::]') return { host: '::1', port };
  return { host: h, port };
}

export function fetchDetections(info: ServeInfo, params: URLSearchParams, o: ServeClientOptions, onRows: (rows: DetectionRow[]) => void): Promise<void> {
  const { host, port } = connectAddress(info.http);
  const where = `${info.tls ? 'https' : 'http'}://${info.http}`;
  if (info.auth && (o.token === undefined || o.token === '')) {
    return Promise.reject(new Error(`the running serve (pid ${info.pid}, ${where}) requires a token: set receiver.auth_token as serve has it (--auth-token, OTEL_SIGMA_AUTH_TOKEN or --config)`));
  }
  const headers: http.OutgoingHttpHeaders = { accept: 'application/x-ndjson' };
  if (o.token !== undefined && o.token !== '') headers['authorization'] = `Bearer ${o.token}`;
  const base = { host, port, path: `${DETECTIONS_PATH}?${params.toString()}`, method: 'GET', headers, timeout: o.timeoutMs ?? 60_000 };
  let request: http.ClientRequest;
  if (info.tls) {
    if (o.serverCert === undefined) {
      return Promise.reject(new Error(`the running serve (pid ${info.pid}) speaks TLS: give the certificate it presents (receiver.tls_cert_file: --tls-cert-file or --config) so it can be verified`));
    }
    if (info.mtls && (o.clientCert === undefined || o.clientKey === undefined)) {
      return Promise.reject(new Error(`the running serve (pid ${info.pid}) requires a client certificate (mutual TLS): give --client-cert FILE and --client-key FILE`));
    }
    const pinned = new X509Certificate(o.serverCert).fingerprint256;
    request = https.request({
      ...base,
      ca: o.serverCert,
      // The configured certificate itself is the trust anchor, whether or not it is self-signed.
      allowPartialTrustChain: true,
      checkServerIdentity: (_host, cert) => (cert.fingerprint256 === pinned ? undefined : new Error(`serve at ${where} presented a certificate other than receiver.tls_cert_file`)),
      ...(o.clientCert !== undefined && o.clientKey !== undefined ? { cert: o.clientCert, key: o.clientKey } : {}),
    });
  } else {
    request = http.request(base);
  }
  return new Promise<void>((resolve, reject) => {
    let answered = false;
    request.on('timeout', () => request.destroy(new Error(`serve at ${where} did not answer within ${base.timeout} ms`)));
    request.on('error', (err: NodeJS.ErrnoException) => {
      if (!answered && (err.code === 'ECONNREFUSED' || err.code === 'ENOENT')) reject(new ServeUnreachableError(`serve at ${where} (pid ${info.pid}) refused the connection`, { cause: err }));
      else reject(err);
    });
    request.on('response', (res) => {
      answered = true;
      if (res.statusCode !== 200) {
        let body = '';
        res.setEncoding('utf8').on('data', (s: string) => (body += s)).on('end', () => {
          const hint = res.statusCode === 401 ? ' (the token this command sends is not one serve accepts: receiver.auth_token)' : '';
          reject(new Error(`serve at ${where} answered ${res.statusCode}: ${body.trim()}${hint}`));
        });
        return;
      }
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const text = rest + chunk;
        const end = text.lastIndexOf('\n');
        if (end < 0) {
          rest = text;
          return;
        }
        rest = text.slice(end + 1);
        try {
          onRows(text.slice(0, end).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as DetectionRow));
        } catch (err) {
          res.destroy(err as Error);
        }
      });
      res.on('error', reject);
      // A body cut short (serve failed mid-answer) ends without `complete`: an error, never a short list.
      res.on('end', () => (res.complete && rest.trim() === '' ? resolve() : reject(new Error(`the answer from serve at ${where} was cut short`))));
      res.on('aborted', () => reject(new Error(`the answer from serve at ${where} was cut short`)));
    });
    request.end();
  });
}
