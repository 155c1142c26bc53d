/**
 * Reads SigNoz's logs table page by page in the order of its sorting key (ts_bucket_start,
 * resource_fingerprint, severity_text, timestamp, id) with keyset pagination: each page starts strictly
 * after the last key of the previous one. In that order ClickHouse reads the parts in order and stops at
 * the LIMIT (no sort of the rest of a 30-minute bucket, which holds ~20M rows for a 1,000-host fleet, for
 * every page), the key condition skips the granules before the page by the primary index, and memory is
 * one page whatever the range.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { ErrorCode, PipelineError } from '../errors.ts';
import type { BodyLayout } from '../convert/signoz-fields.ts';
import { bodyBinaryColumn, SIGNOZ_COLUMNS, type SignozRow } from './signoz-row.ts';

/** SigNoz's bucket width: ts_bucket_start = floor(timestamp / 1800 s) * 1800 s, in seconds. */
export const BUCKET_SECONDS = 1800n;

/** Position in the table: the last row done (its sorting key). */
export interface RowKey {
  readonly bucket: string;
  /** resource_fingerprint */
  readonly fp: string;
  /** severity_text */
  readonly sev: string;
  readonly ts: string;
  readonly id: string;
}

const UINT64_COLUMNS = ['ts_bucket_start', 'timestamp', 'observed_timestamp'] as const;

/** The page order: logs_v2's sorting key. */
export const PAGE_ORDER = 'ts_bucket_start, resource_fingerprint, severity_text, timestamp, id';

export interface PageQuery {
  /** `db.table`, already validated. */
  readonly table: string;
  /** Inclusive lower bound on `timestamp`, ns. */
  readonly fromNs: bigint;
  /** Exclusive upper bound on `timestamp`, ns; undefined = no bound (follow mode). */
  readonly toNs?: bigint | undefined;
  /** Extra SQL condition over the row (the rules' prefilter); must only ever widen what the rules would match. */
  readonly where?: string | undefined;
  /** `WITH … ` clause the condition relies on (convert's field aliases), '' or undefined for none. */
  readonly with?: string | undefined;
  readonly limit: number;
  /** The table's body columns (body_v2 is read too when it has one). */
  readonly layout?: BodyLayout | undefined;
  /** A condition returned per row as `sigma_hit` (UInt8) instead of filtering on it. */
  readonly tag?: string | undefined;
}

/** The rules' filter is long SQL (a few MB for the whole SigmaHQ ruleset); ClickHouse parses at most 256 KiB and 50k AST nodes by default. */
export const QUERY_SIZE = { max_query_size: '67108864', max_ast_elements: '50000000', max_expanded_ast_elements: '50000000' };
/** JSON output of a page: integers as numbers (the UInt64 columns are selected as text; see pageSql). */
const PAGE_FORMAT = { output_format_json_quote_64bit_integers: 0 as const, ...QUERY_SIZE };

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

export function assertTableName(name: string): string {
  if (!TABLE_NAME.test(name)) throw new PipelineError(ErrorCode.CONFIG, `"${name}" is not a table name (expected db.table)`, false);
  return name;
}

export const sqlString = (s: string): string => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

const bucketOf = (ns: bigint): bigint => (ns / 1_000_000_000n / BUCKET_SECONDS) * BUCKET_SECONDS;

/** The row range condition (no keyset), shared by the page query and the count for the ETA. */
export function rangeCondition(q: Omit<PageQuery, 'limit'>): string {
  // The bucket bound lets ClickHouse skip parts by the primary key; one bucket of slack in case an
  // exporter computed the bucket from a slightly different clock than the record's timestamp.
  const low = bucketOf(q.fromNs) - BUCKET_SECONDS;
  const parts = [`ts_bucket_start >= ${low > 0n ? low : 0n}`, `timestamp >= ${q.fromNs}`];
  if (q.toNs !== undefined) parts.push(`ts_bucket_start <= ${bucketOf(q.toNs) + BUCKET_SECONDS}`, `timestamp < ${q.toNs}`);
  if (q.where !== undefined && q.where.trim() !== '') parts.push(`(${q.where})`);
  return parts.join(' AND ');
}

export function pageSql(q: PageQuery, after: RowKey | undefined): string {
  let cond = rangeCondition(q);
  if (after !== undefined) cond += ` AND ${afterCondition(after)}`;
  const cols: string[] = [...SIGNOZ_COLUMNS];
  if (q.layout?.bodyV2 === true) cols.push(bodyBinaryColumn(q.layout.bodyPromoted));
  if (q.tag !== undefined) cols.push(`toUInt8(${q.tag}) AS sigma_hit`);
  // The UInt64 columns as text (ns exceed 2^53).
  return `SELECT * REPLACE (${UINT64_COLUMNS.map((c) => `toString(${c}) AS ${c}`).join(', ')}) FROM (` +
    `${q.with ?? ''}SELECT ${cols.join(', ')} FROM ${q.table} WHERE ${cond} ORDER BY ${PAGE_ORDER} LIMIT ${Math.trunc(q.limit)})`;
}

/**
 * Rows strictly after `k` in PAGE_ORDER, spelled as an OR of key-prefix conditions rather than one tuple
 * comparison: ClickHouse's primary-key analysis understands these, so the granules before `k` are skipped.
 */
export function afterCondition(k: RowKey): string {
  const b = BigInt(k.bucket);
  const fp = sqlString(k.fp);
  const sev = sqlString(k.sev);
  const t = BigInt(k.ts);
  return `ts_bucket_start >= ${b} AND (ts_bucket_start > ${b} OR (ts_bucket_start = ${b} AND (resource_fingerprint > ${fp} ` +
    `OR (resource_fingerprint = ${fp} AND (severity_text > ${sev} OR (severity_text = ${sev} AND (timestamp, id) > (${t}, ${sqlString(k.id)})))))))`;
}

/**
 * One page as ClickHouse wrote it (JSONEachRow bytes): parsed by whoever evaluates it, not here. The
 * bytes go to a worker as they are (transferred, not copied); the main thread only reads the last line.
 */
export interface PageBytes {
  readonly bytes: Uint8Array;
  readonly rows: number;
  /** Key of the page's last row (undefined for an empty page). */
  readonly last: RowKey | undefined;
}

const NL = 0x0a;

export async function readPageBytes(client: ClickHouseClient, q: PageQuery, after: RowKey | undefined): Promise<PageBytes> {
  const chunks: Buffer[] = [];
  try {
    // exec hands back the raw body (HTTP) or chdb's result bytes: no UTF-16 string of the page here.
    const rs = await client.exec({ query: `${pageSql(q, after)} FORMAT JSONEachRow`, clickhouse_settings: PAGE_FORMAT });
    for await (const c of rs.stream) chunks.push(c as Buffer);
  } catch (cause) {
    throw storeError(`Reading ${q.table} failed`, cause);
  }
  // A buffer of our own (chdb's result memory is not ours to transfer to a worker).
  const bytes = Buffer.concat(chunks);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === NL) end--;
  if (end === 0) return { bytes, rows: 0, last: undefined };
  let rows = 1;
  for (let i = bytes.indexOf(NL); i !== -1 && i < end; i = bytes.indexOf(NL, i + 1)) rows++;
  const lastLine = bytes.subarray(bytes.lastIndexOf(NL, end - 1) + 1, end).toString('utf8');
  return { bytes, rows, last: keyOf(JSON.parse(lastLine) as SignozRow) };
}

/** Which body layouts the logs table can hold (SigNoz's migration 2001 added body_v2 and body_promoted). */
export async function bodyLayout(client: ClickHouseClient, table: string): Promise<BodyLayout> {
  const [db, name] = assertTableName(table).includes('.') ? table.split('.') as [string, string] : [undefined, table];
  try {
    const rs = await client.query({
      query: `SELECT name FROM system.columns WHERE database = ${db === undefined ? 'currentDatabase()' : '{db:String}'} AND table = {name:String} AND name IN ('body_v2', 'body_promoted')`,
      query_params: { ...(db !== undefined ? { db } : {}), name },
      format: 'JSONEachRow',
    });
    const cols = new Set((await rs.json<{ name: string }>()).map((r) => r.name));
    return { bodyV2: cols.has('body_v2'), bodyPromoted: cols.has('body_promoted') };
  } catch (cause) {
    throw storeError(`Looking up the columns of ${table} failed`, cause);
  }
}

export async function readPage(client: ClickHouseClient, q: PageQuery, after: RowKey | undefined): Promise<SignozRow[]> {
  try {
    const rs = await client.query({ query: pageSql(q, after), format: 'JSONEachRow', clickhouse_settings: PAGE_FORMAT });
    return await rs.json<SignozRow>();
  } catch (cause) {
    throw storeError(`Reading ${q.table} failed`, cause);
  }
}

export async function countRows(client: ClickHouseClient, q: Omit<PageQuery, 'limit'>): Promise<number> {
  try {
    const rs = await client.query({ query: `${q.with ?? ''}SELECT count() AS n FROM ${q.table} WHERE ${rangeCondition(q)}`, format: 'JSONEachRow', clickhouse_settings: QUERY_SIZE });
    const rows = await rs.json<{ n: string | number }>();
    return Number(rows[0]?.n ?? 0);
  } catch (cause) {
    throw storeError(`Counting rows of ${q.table} failed`, cause);
  }
}

/** True when `table` (db.table, or a table of the current database) exists. */
export async function tableExists(client: ClickHouseClient, table: string): Promise<boolean> {
  const [db, name] = assertTableName(table).includes('.') ? table.split('.') as [string, string] : [undefined, table];
  try {
    const rs = await client.query({
      query: `SELECT count() AS n FROM system.tables WHERE database = ${db === undefined ? 'currentDatabase()' : '{db:String}'} AND name = {name:String}`,
      query_params: { ...(db !== undefined ? { db } : {}), name },
      format: 'JSONEachRow',
    });
    return Number((await rs.json<{ n: string | number }>())[0]?.n ?? 0) > 0;
  } catch (cause) {
    throw storeError(`Looking up ${table} failed`, cause);
  }
}

export const keyOf = (r: SignozRow): RowKey => ({ bucket: r.ts_bucket_start, fp: r.resource_fingerprint, sev: r.severity_text, ts: r.timestamp, id: r.id });

function storeError(what: string, cause: unknown): PipelineError {
  if (cause instanceof PipelineError) return cause;
  return new PipelineError(ErrorCode.STORE, `${what}: ${cause instanceof Error ? cause.message : String(cause)}`, true, { cause });
}

/** Fingerprints of `source = 'hunt'` detections with event_time ≥ sinceNs (for `hunt --follow` restarts). */
export async function huntFingerprints(client: ClickHouseClient, detectionsTable: string, sinceNs: bigint): Promise<string[]> {
  try {
    const rs = await client.query({
      query: `SELECT DISTINCT fingerprint FROM ${assertTableName(detectionsTable)} WHERE source = 'hunt' AND event_time >= fromUnixTimestamp64Nano(toInt64(${sinceNs}), 'UTC')`,
      format: 'JSONEachRow',
    });
    return (await rs.json<{ fingerprint: string }>()).map((r) => r.fingerprint);
  } catch (cause) {
    throw storeError(`Reading fingerprints from ${detectionsTable} failed`, cause);
  }
}

/** Fingerprints of hunt detections of events at or after `eventSinceNs` detected at or after `detectedSinceMs` (a resumed hunt's own). */
export async function huntFingerprintsSince(client: ClickHouseClient, detectionsTable: string, eventSinceNs: bigint, detectedSinceMs: number): Promise<string[]> {
  try {
    const rs = await client.query({
      query: `SELECT DISTINCT fingerprint FROM ${assertTableName(detectionsTable)} WHERE source = 'hunt' AND event_time >= fromUnixTimestamp64Nano(toInt64(${eventSinceNs}), 'UTC') ` +
        `AND detected_at >= fromUnixTimestamp64Milli(toInt64(${Math.trunc(detectedSinceMs)}), 'UTC')`,
      format: 'JSONEachRow',
    });
    return (await rs.json<{ fingerprint: string }>()).map((r) => r.fingerprint);
  } catch (cause) {
    throw storeError(`Reading fingerprints from ${detectionsTable} failed`, cause);
  }
}
