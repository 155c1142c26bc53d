/**
 * One way to reach ClickHouse: @clickhouse/client over HTTP when a URL is configured, otherwise the
 * embedded engine (chdb) plugged into the same client through `createChdbConnection`. Everything
 * above this file sees one `ClickHouseClient` and one SQL dialect.
 *
 * libchdb binds a single data directory per process and locks it (`<dir>/status`), so the embedded
 * handle must be opened once, on the main thread, by one process; a second process gets ERR_STORE.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { ErrorCode, PipelineError } from '../errors.ts';

/**
 * chdb types its connection against @clickhouse/client-common while @clickhouse/client ships its own
 * copy of the same declarations; structurally equal, nominally distinct, hence the cast.
 */
export type InjectedConnection = NonNullable<ClickHouseClientConfigOptions['connection']>;

/** The client would print failed requests to the console itself; callers see every error and log it once, structured. */
const QUIET = { level: ClickHouseLogLevel.OFF };

export interface ClickHouseOptions {
  /** e.g. `http://clickhouse:8123`; absent or empty selects the embedded engine. */
  readonly url?: string;
  readonly username?: string;
  readonly password?: string;
  /** Embedded engine data directory (created if missing). Ignored when `url` is set. */
  readonly dataDir: string;
  /** https:// only: PEM CA bundle that signed the server's certificate (a private CA); the system CAs otherwise. */
  readonly caCert?: Buffer | undefined;
  /** HTTP only: per-request timeout. The embedded engine runs in-process and has none. */
  readonly requestTimeoutMs?: number;
}

export interface ClickHouseHandle {
  readonly client: ClickHouseClient;
  readonly embedded: boolean;
  /** True when a trivial query succeeds; never throws. */
  ping(): Promise<boolean>;
  /** Idempotent. For the embedded engine this releases the data directory lock. */
  close(): Promise<void>;
}

export function openClickHouse(opts: ClickHouseOptions): ClickHouseHandle {
  if (opts.url !== undefined && opts.url !== '') {
    const client = createClient({
      url: opts.url,
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
      ...(opts.caCert !== undefined ? { tls: { ca_cert: opts.caCert } } : {}),
      request_timeout: opts.requestTimeoutMs ?? 30_000,
      application: 'otel-sigma',
      log: QUIET,
    });
    return handle(client, false);
  }
  return handle(openEmbedded(opts.dataDir), true);
}

function openEmbedded(dataDir: string): ClickHouseClient {
  const dir = resolve(dataDir);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (cause) {
    throw new PipelineError(ErrorCode.STORE, `Cannot create the embedded ClickHouse data directory ${dir}: ${(cause as Error).message}`, false, { cause });
  }
  try {
    // Throws synchronously when the directory is locked or another directory is already bound.
    return createClient({ connection: createChdbConnection({ path: dir }) as unknown as InjectedConnection, log: QUIET });
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    // libchdb prints "Cannot lock file <dir>/status" to stderr only; the thrown error just says
    // "Failed to create connection". The status file names the holder's PID, so ask it.
    const holder = statusFilePid(dir);
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
      throw new PipelineError(
        ErrorCode.STORE,
        `The embedded ClickHouse data directory ${dir} is held by another otel-sigma process (pid ${holder}, e.g. a running \`otel-sigma serve\`). ` +
          'Stop that process, point this one at a different data directory, or set storage.clickhouse_url (--clickhouse-url) so both use a ClickHouse server.',
        false,
        { cause },
      );
    }
    const hint = holder === process.pid || holder === undefined ? ' (a process can use only one embedded data directory at a time)' : '';
    throw new PipelineError(ErrorCode.STORE, `Cannot open the embedded ClickHouse at ${dir}: ${msg}${hint}`, false, { cause });
  }
}

/** ClickHouse writes `PID: <n>` into `<dir>/status` while it holds the directory and removes the file on close. */
function statusFilePid(dir: string): number | undefined {
  try {
    const m = /^PID:\s*(\d+)/m.exec(readFileSync(join(dir, 'status'), 'utf8'));
    return m?.[1] !== undefined ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function handle(client: ClickHouseClient, embedded: boolean): ClickHouseHandle {
  let closing: Promise<void> | undefined;
  return {
    client,
    embedded,
    async ping() {
      try {
        const r = await client.ping();
        return r.success;
      } catch {
        return false;
      }
    },
    close() {
      closing ??= client.close();
      return closing;
    },
  };
}
