/**
 * One way to reach ClickHouse: @clickhouse/client over HTTP when a URL is configured, otherwise the
 * embedded engine (chdb) plugged into the same client through `createChdbConnection`. Everything
 * above this file sees one `ClickHouseClient` and one SQL dialect.
 *
 * libchdb binds a single data directory per process and locks it (`<dir>/status`), so the embedded
 * handle must be opened once, on the main thread, by one process; a second process gets ERR_STORE.
 */
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { ClickHouseLogLevel, createClient, parseError, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { ErrorCode, PipelineError } from '../errors.ts';
import { safeUrl, type Logger } from '../telemetry/logger.ts';
import { isProcessAlive } from '../os/process-alive.ts';

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
  /** What messages name: the server URL (without credentials) or `embedded ClickHouse in <dir>`. */
  readonly target: string;
  /**
   * INSERT rows that are already JSONEachRow text. Over HTTP they are streamed as they are; the embedded
   * engine takes the bytes without a copy (the generic path would join them into one JS string, then
   * transcode it for the native side: a third of the main thread's store time under load).
   * Errors have @clickhouse/client's shape (`code` = the ClickHouse error code) either way.
   */
  readonly insertJsonRows: (table: string, chunks: readonly Buffer[], settings: Readonly<Record<string, string>>) => Promise<void>;
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
    return handle(client, httpInsert(client), false, safeUrl(opts.url));
  }
  const { client, rawInsert } = openEmbedded(opts.dataDir);
  const insert: RowInserter = async (table, chunks, settings) => {
    try {
      await rawInsert({ table, values: Buffer.concat(chunks), format: 'JSONEachRow', settings });
    } catch (err) {
      const mapped = parseError(err instanceof Error ? err.message : String(err));
      if (mapped !== err) (mapped as { cause?: unknown }).cause = err;
      throw mapped;
    }
  };
  return handle(client, insert, true, `embedded ClickHouse in ${resolve(opts.dataDir)}`);
}

export type RowInserter = ClickHouseHandle['insertJsonRows'];

/** insertJsonRows through the client's generic exec (HTTP; any injected connection). */
export function httpInsert(client: ClickHouseClient): RowInserter {
  return async (table, chunks, settings) => {
    const rs = await client.exec({ query: `INSERT INTO ${table} FORMAT JSONEachRow`, values: Readable.from(chunks), clickhouse_settings: settings });
    rs.stream.destroy();
  };
}

interface ChdbRawInsert {
  (params: { table: string; values: Buffer; format: 'JSONEachRow'; settings: Readonly<Record<string, string>> }): Promise<unknown>;
}

function openEmbedded(dataDir: string): { client: ClickHouseClient; rawInsert: ChdbRawInsert } {
  const dir = resolve(dataDir);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (cause) {
    throw new PipelineError(ErrorCode.STORE, `Cannot create the embedded ClickHouse data directory ${dir}: ${(cause as Error).message}`, false, { cause });
  }
  // libchdb reports an unwritable directory only on stderr and throws "Failed to create connection":
  // find out first, so the message names the real cause (a read-only mount, a full disk, permissions).
  const probe = join(dir, `.write-probe-${process.pid}`);
  try {
    writeFileSync(probe, 'otel-sigma');
    unlinkSync(probe);
  } catch (cause) {
    throw new PipelineError(ErrorCode.STORE, `The embedded ClickHouse data directory ${dir} is not writable: ${(cause as Error).message}. ` +
      'Give otel-sigma a writable storage.data_dir (--data-dir), or set storage.clickhouse_url to use a ClickHouse server.', false, { cause });
  }
  try {
    // Throws synchronously when the directory is locked or another directory is already bound.
    const connection = createChdbConnection({ path: dir });
    const client = createClient({ connection: connection as unknown as InjectedConnection, log: QUIET });
    return { client, rawInsert: (params) => connection.chdb.rawInsert(params) };
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    // libchdb prints "Cannot lock file <dir>/status" to stderr only; the thrown error just says
    // "Failed to create connection". The status file names the holder's PID, so ask it.
    const holder = statusFilePid(dir);
    if (holder !== undefined && holder !== process.pid && isProcessAlive(holder)) {
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

/** The live process holding the embedded data directory `dataDir`, if any. */
export function embeddedStoreHolder(dataDir: string): number | undefined {
  const pid = statusFilePid(resolve(dataDir));
  return pid !== undefined && isProcessAlive(pid) ? pid : undefined;
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


function handle(client: ClickHouseClient, insertJsonRows: RowInserter, embedded: boolean, target: string): ClickHouseHandle {
  let closing: Promise<void> | undefined;
  return {
    client,
    embedded,
    target,
    insertJsonRows,
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

export interface WaitOptions {
  /** Give up after this long (storage.connect_timeout_s); 0 = one attempt. */
  readonly timeoutMs: number;
  readonly logger?: Logger | undefined;
  /** Longest wait for one answer (a server that accepts connections but does not answer yet). */
  readonly attemptTimeoutMs?: number;
  /** First pause between attempts; doubles up to 10 s, with jitter. */
  readonly initialDelayMs?: number;
}

/**
 * Start-up: a ClickHouse server may still be starting (a supervisor starts both), so refused
 * connections and unanswered requests are retried with backoff until `timeoutMs` has passed, one log
 * line per failed attempt naming the URL. Then it rejects with ERR_STORE naming the URL and what went
 * wrong last. The embedded engine is in-process: nothing to wait for.
 * `/ping` does not check credentials: those are the migration's first statement's business, which
 * fails at once with ClickHouse's own message.
 */
export async function waitUntilReachable(h: ClickHouseHandle, o: WaitOptions): Promise<void> {
  if (h.embedded) return;
  const started = performance.now();
  const attemptMs = o.attemptTimeoutMs ?? 10_000;
  let delay = o.initialDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    const left = o.timeoutMs - (performance.now() - started);
    const limit = Math.round(Math.max(100, Math.min(attemptMs, left)));
    const reason = await pingOnce(h.client, limit);
    if (reason === undefined) {
      if (attempt > 1) o.logger?.info({ stage: 'store', url: h.target, attempts: attempt }, `ClickHouse at ${h.target} is reachable.`);
      return;
    }
    const elapsed = performance.now() - started;
    const pause = Math.min(delay * (0.8 + Math.random() * 0.4), o.timeoutMs - elapsed);
    if (pause <= 0) {
      throw new PipelineError(ErrorCode.STORE, `ClickHouse at ${h.target} was not reachable within ${o.timeoutMs / 1000} s (storage.connect_timeout_s): ${reason}`, true);
    }
    o.logger?.warn({ stage: 'store', code: ErrorCode.STORE, url: h.target, attempt, retryInMs: Math.round(pause), reason }, `ClickHouse at ${h.target} is not reachable yet (${reason}); retrying.`);
    await new Promise((r) => setTimeout(r, pause));
    delay = Math.min(delay * 2, 10_000);
  }
}

/** undefined when ClickHouse answered /ping, else why not. */
async function pingOnce(client: ClickHouseClient, limitMs: number): Promise<string | undefined> {
  const signal = AbortSignal.timeout(limitMs);
  try {
    const r = await client.ping({ select: false, abort_signal: signal });
    if (r.success) return undefined;
    return signal.aborted ? `no answer within ${limitMs} ms` : describe(r.error);
  } catch (err) {
    return signal.aborted ? `no answer within ${limitMs} ms` : describe(err);
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  return code !== undefined && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}
