/**
 * Reads SigNoz's logs table page by page in (ts_bucket_start, timestamp, id) order with keyset
 * pagination: each page starts strictly after the last key of the previous one, so a page costs the
 * same at the end of a month as at its start (OFFSET would re-read everything before it), and memory
 * is one page whatever the range.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { ErrorCode, PipelineError } from '../errors.ts';
import type { BodyLayout } from '../convert/signoz-fields.ts';
import { BODY_JSON_COLUMNS, SIGNOZ_COLUMNS, type SignozRow } from './signoz-row.ts';

/** SigNoz's bucket width: ts_bucket_start = floor(timestamp / 1800 s) * 1800 s, in seconds. */
export const BUCKET_SECONDS = 1800n;

/** Position in the table: the last row done. */
export interface RowKey {
  readonly bucket: string;
  readonly ts: string;
  readonly id: string;
}

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
  if (after !== undefined) {
    const b = BigInt(after.bucket);
    const t = BigInt(after.ts);
    cond += ` AND ts_bucket_start >= ${b} AND (ts_bucket_start, timestamp, id) > (${b}, ${t}, ${sqlString(after.id)})`;
  }
  const cols: string[] = [...SIGNOZ_COLUMNS];
  if (q.layout?.bodyV2 === true) cols.push(BODY_JSON_COLUMNS[0]);
  if (q.layout?.bodyV2 === true && q.layout.bodyPromoted) cols.push(BODY_JSON_COLUMNS[1]);
  if (q.tag !== undefined) cols.push(`toUInt8(${q.tag}) AS sigma_hit`);
  return `${q.with ?? ''}SELECT ${cols.join(', ')} FROM ${q.table} WHERE ${cond} ORDER BY ts_bucket_start, timestamp, id LIMIT ${Math.trunc(q.limit)}`;
}

/** One page as ClickHouse wrote it (JSONEachRow text): parsed by whoever evaluates it, not here. */
export interface PageText {
  readonly text: string;
  readonly rows: number;
  /** Key of the page's last row (undefined for an empty page). */
  readonly last: RowKey | undefined;
}


export async function readPageText(client: ClickHouseClient, q: PageQuery, after: RowKey | undefined): Promise<PageText> {
  let text: string;
  try {
    const rs = await client.query({ query: pageSql(q, after), format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 1, ...QUERY_SIZE } });
    text = await rs.text();
  } catch (cause) {
    throw storeError(`Reading ${q.table} failed`, cause);
  }
  if (text.length === 0) return { text, rows: 0, last: undefined };
  let rows = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) rows++;
  if (!text.endsWith('\n')) rows++;
  const end = text.endsWith('\n') ? text.length - 1 : text.length;
  const lastLine = text.slice(text.lastIndexOf('\n', end - 1) + 1, end);
  return { text, rows, last: keyOf(JSON.parse(lastLine) as SignozRow) };
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
    // UInt64 as strings: ns timestamps exceed 2^53 (the HTTP server quotes them by default, chdb does not).
    const rs = await client.query({ query: pageSql(q, after), format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 1, ...QUERY_SIZE } });
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

export const keyOf = (r: SignozRow): RowKey => ({ bucket: r.ts_bucket_start, ts: r.timestamp, id: r.id });

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
