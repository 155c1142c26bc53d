/**
 * `<data_dir>/serve.json`: how a running `serve` is reached, so commands that find the embedded data
 * directory locked by it (`otel-sigma detections`) ask it over HTTP instead. Written once the listeners
 * are up, removed when serve stops; a file left by a killed serve is recognised by its dead pid.
 * It holds no secret: whether a token and TLS are needed, not which.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isProcessAlive } from '../os/process-alive.ts';

export interface ServeInfo {
  readonly pid: number;
  /** The bound OTLP/HTTP listener, host:port, which also answers /api/v1/detections. */
  readonly http: string;
  readonly tls: boolean;
  /** The server requires a client certificate (receiver.tls_client_ca_file). */
  readonly mtls: boolean;
  /** A token is required (receiver.auth_token / auth_tokens_file). */
  readonly auth: boolean;
  readonly database: string;
  readonly table: string;
  readonly startedAt: string;
}

export const serveInfoFile = (dataDir: string): string => path.join(dataDir, 'serve.json');

/** Atomic (temp file + rename): a reader never sees half a file. */
export function writeServeInfo(dataDir: string, info: ServeInfo): void {
  const file = serveInfoFile(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info)}\n`, { mode: 0o644 });
  renameSync(tmp, file);
}

/** Removes the file if it is still this process's (a newer serve may have replaced it). */
export function removeServeInfo(dataDir: string): void {
  const info = readServeInfo(dataDir, () => true);
  if (info?.pid === process.pid) rmSync(serveInfoFile(dataDir), { force: true });
}

/** The running serve of this data directory, or undefined (no file, unreadable, or its process is gone). */
export function readServeInfo(dataDir: string, alive: (pid: number) => boolean = isProcessAlive): ServeInfo | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(serveInfoFile(dataDir), 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Partial<ServeInfo>;
  if (typeof r.pid !== 'number' || typeof r.http !== 'string' || !alive(r.pid)) return undefined;
  return {
    pid: r.pid,
    http: r.http,
    tls: r.tls === true,
    mtls: r.mtls === true,
    auth: r.auth === true,
    database: typeof r.database === 'string' ? r.database : '',
    table: typeof r.table === 'string' ? r.table : '',
    startedAt: typeof r.startedAt === 'string' ? r.startedAt : '',
  };
}
