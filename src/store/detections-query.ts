/**
 * Reads detections back for `otel-sigma detections`: newest event first, optionally only the last
 * `sinceSeconds` of event time and one rule. Filters are bound as query parameters, names are
 * validated identifiers; nothing from the caller is spliced into the SQL.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { ErrorCode, PipelineError } from '../errors.ts';
import { DETECTION_COLUMNS, type DetectionRow } from './detection-row.ts';
import { isRetryableStoreError } from './retry-policy.ts';
import { assertIdentifier } from './schema.ts';

export interface DetectionsQuery {
  readonly database: string;
  readonly table: string;
  /** Only detections whose event_time is within the last this many seconds. */
  readonly sinceSeconds?: number;
  readonly ruleId?: string;
  /** Default 100. */
  readonly limit?: number;
}

export async function queryDetections(client: ClickHouseClient, q: DetectionsQuery): Promise<DetectionRow[]> {
  const database = assertIdentifier('database', q.database);
  const table = assertIdentifier('table', q.table);
  const limit = q.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`"limit" is ${limit}; expected a positive integer`);
  const where: string[] = [];
  const params: Record<string, unknown> = { limit };
  if (q.sinceSeconds !== undefined) {
    if (!Number.isFinite(q.sinceSeconds) || q.sinceSeconds < 0) throw new Error(`"since" is ${q.sinceSeconds}; expected a non-negative number of seconds`);
    where.push('event_time >= now64(9) - toIntervalMillisecond({since_ms:UInt64})');
    params['since_ms'] = Math.round(q.sinceSeconds * 1000);
  }
  if (q.ruleId !== undefined) {
    where.push('rule_id = {rule_id:String}');
    params['rule_id'] = q.ruleId;
  }
  const columns = DETECTION_COLUMNS.join(', ');
  const query =
    `SELECT ${columns} FROM \`${database}\`.\`${table}\`` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ' ORDER BY event_time DESC, rule_id LIMIT {limit:UInt32}';
  try {
    // 'simple' prints DateTime64 as `YYYY-MM-DD hh:mm:ss.nnnnnnnnn` in the column's UTC, nanoseconds intact.
    const rs = await client.query({ query, query_params: params, format: 'JSONEachRow', clickhouse_settings: { date_time_output_format: 'simple' } });
    return await rs.json<DetectionRow>();
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    throw new PipelineError(ErrorCode.STORE, `Reading detections from ${database}.${table} failed: ${msg}`, isRetryableStoreError(cause), { cause });
  }
}
