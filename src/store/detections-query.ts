/**
 * Reads detections back, for `otel-sigma detections` and serve's `GET /api/v1/detections`: newest
 * first, filtered by time (detected_at, the server's clock, by default; event_time on request), rule,
 * minimum level, host, source and ATT&CK tag. Filters are bound as query parameters, names are
 * validated identifiers; nothing from the caller is spliced into the SQL.
 *
 * The filters arrive as text twice (command-line flags, URL query parameters) and are parsed here once,
 * so the two can never disagree: `parseDetectionsFilter`.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { DetectionSource } from '../detect/detection.ts';
import { SIGMA_LEVELS, type SigmaLevel } from '../detect/types.ts';
import { ErrorCode, PipelineError } from '../errors.ts';
import { DETECTION_COLUMNS, type DetectionRow } from './detection-row.ts';
import { isRetryableStoreError } from './retry-policy.ts';
import { assertIdentifier } from './schema.ts';

export type TimeColumn = 'detected_at' | 'event_time';
export const DETECTION_SOURCES: readonly DetectionSource[] = ['stream', 'hunt'];
export const DEFAULT_LIMIT = 100;

export interface DetectionsFilter {
  /** Only detections within the last this many seconds of `timeColumn`; absent = all time. */
  readonly sinceSeconds?: number | undefined;
  /** The time `sinceSeconds` and the order apply to; default detected_at (when otel-sigma detected it). */
  readonly timeColumn?: TimeColumn | undefined;
  readonly ruleId?: string | undefined;
  /** This level and above. */
  readonly minLevel?: SigmaLevel | undefined;
  readonly host?: string | undefined;
  readonly source?: DetectionSource | undefined;
  /** A Sigma tag, e.g. attack.t1110; also matches its sub-techniques (attack.t1110.001). */
  readonly tag?: string | undefined;
  /** Default 100; 0 = all. */
  readonly limit?: number | undefined;
}

export interface DetectionsQuery extends DetectionsFilter {
  readonly database: string;
  readonly table: string;
}

/** The filters as text, the way flags and URL parameters carry them. */
export interface DetectionsFilterText {
  readonly since?: string | undefined;
  readonly eventTime?: boolean | undefined;
  readonly rule?: string | undefined;
  readonly level?: string | undefined;
  readonly host?: string | undefined;
  readonly source?: string | undefined;
  readonly tag?: string | undefined;
  readonly limit?: string | undefined;
}

/** URL query parameter → filter; the names are the command-line flags'. */
const PARAMS = {
  since: 'since', 'event-time': 'eventTime', rule: 'rule', level: 'level', host: 'host', source: 'source', tag: 'tag', limit: 'limit',
} as const satisfies Record<string, keyof DetectionsFilterText>;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };

/** `30m`, `24h`, `7d`, `100y` → seconds (y = 365 days). */
export function parseDuration(s: string, name = 'since'): number {
  const m = /^(\d+)\s*([smhdwy])$/.exec(s.trim());
  if (!m) throw new Error(`--${name}: got "${s}"; expected a number and a unit s|m|h|d|w|y, e.g. 30m, 24h, 7d, 100y`);
  return Number(m[1]) * UNIT_SECONDS[m[2]!]!;
}

/** Checks every filter and names the one that is wrong (as its flag) and what it accepts. */
export function parseDetectionsFilter(t: DetectionsFilterText): DetectionsFilter {
  const since = t.since?.trim() ?? '24h';
  const level = t.level?.trim().toLowerCase();
  if (level !== undefined && !(SIGMA_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`--level: got "${t.level}"; expected one of ${SIGMA_LEVELS.join(', ')}`);
  }
  const source = t.source?.trim();
  if (source !== undefined && !(DETECTION_SOURCES as readonly string[]).includes(source)) {
    throw new Error(`--source: got "${t.source}"; expected one of ${DETECTION_SOURCES.join(', ')}`);
  }
  const limit = t.limit === undefined ? DEFAULT_LIMIT : Number(t.limit);
  if (t.limit?.trim() === '' || !Number.isSafeInteger(limit) || limit < 0) throw new Error(`--limit: got "${t.limit}"; expected a whole number, 0 for all`);
  const tag = t.tag?.trim().toLowerCase();
  if (tag === '') throw new Error('--tag: got ""; expected a Sigma tag such as attack.t1110 or attack.credential_access');
  return {
    ...(since.toLowerCase() === 'all' ? {} : { sinceSeconds: parseDuration(since) }),
    timeColumn: t.eventTime === true ? 'event_time' : 'detected_at',
    ...(t.rule !== undefined ? { ruleId: t.rule } : {}),
    ...(level !== undefined ? { minLevel: level as SigmaLevel } : {}),
    ...(t.host !== undefined ? { host: t.host } : {}),
    ...(source !== undefined ? { source: source as DetectionSource } : {}),
    ...(tag !== undefined ? { tag } : {}),
    limit,
  };
}

/** The filters as URL query parameters (what the CLI sends to a running serve). */
export function filterTextToParams(t: DetectionsFilterText): URLSearchParams {
  const out = new URLSearchParams();
  for (const [param, key] of Object.entries(PARAMS)) {
    const v = t[key];
    if (v === undefined || v === false) continue;
    out.set(param, v === true ? 'true' : v);
  }
  return out;
}

/** URL query parameters → filters; an unknown or repeated parameter is refused, like an unknown config key. */
export function filterTextFromParams(params: URLSearchParams): DetectionsFilterText {
  const out: Record<string, string | boolean> = {};
  for (const [name, value] of params) {
    if (!Object.hasOwn(PARAMS, name)) throw new Error(`unknown parameter "${name}"; expected ${Object.keys(PARAMS).join(', ')}`);
    const key = PARAMS[name as keyof typeof PARAMS];
    if (key in out) throw new Error(`parameter "${name}" given twice`);
    if (key === 'eventTime') {
      if (!['true', 'false', '1', '0', ''].includes(value)) throw new Error(`--event-time: got "${value}"; expected true or false`);
      out[key] = value === 'true' || value === '1' || value === '';
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** The SELECT and its bound parameters; `nowMs` anchors `sinceSeconds`. */
export function detectionsSql(q: DetectionsQuery, nowMs = Date.now()): { query: string; params: Record<string, unknown> } {
  const database = assertIdentifier('database', q.database);
  const table = assertIdentifier('table', q.table);
  const limit = q.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new Error(`"limit" is ${limit}; expected a whole number (0 = all)`);
  const column: TimeColumn = q.timeColumn ?? 'detected_at';
  if (column !== 'detected_at' && column !== 'event_time') throw new Error(`"timeColumn" is ${String(column)}; expected detected_at or event_time`);
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (q.sinceSeconds !== undefined) {
    if (!Number.isFinite(q.sinceSeconds) || q.sinceSeconds < 0) throw new Error(`"since" is ${q.sinceSeconds}; expected a non-negative number of seconds`);
    // The bound is computed here, not as now() - INTERVAL: "100y" would fall before DateTime64's range there.
    // Before 1970 is everything (stored times never are).
    const fromMs = Math.floor(nowMs - q.sinceSeconds * 1000);
    if (fromMs > 0) {
      where.push(`${column} >= fromUnixTimestamp64Milli({since_ms:Int64}, 'UTC')`);
      params['since_ms'] = fromMs;
    }
  }
  if (q.ruleId !== undefined) {
    where.push('rule_id = {rule_id:String}');
    params['rule_id'] = q.ruleId;
  }
  if (q.minLevel !== undefined) {
    const at = SIGMA_LEVELS.indexOf(q.minLevel);
    if (at < 0) throw new Error(`"minLevel" is ${JSON.stringify(q.minLevel)}; expected one of ${SIGMA_LEVELS.join(', ')}`);
    where.push('rule_level IN {levels:Array(String)}');
    params['levels'] = SIGMA_LEVELS.slice(at);
  }
  if (q.host !== undefined) {
    where.push('host = {host:String}');
    params['host'] = q.host;
  }
  if (q.source !== undefined) {
    where.push('source = {source:String}');
    params['source'] = q.source;
  }
  if (q.tag !== undefined) {
    where.push('arrayExists(t -> t = {tag:String} OR startsWith(t, {tag_prefix:String}), rule_tags)');
    params['tag'] = q.tag;
    params['tag_prefix'] = `${q.tag}.`;
  }
  const query =
    `SELECT ${DETECTION_COLUMNS.join(', ')} FROM \`${database}\`.\`${table}\`` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ${column} DESC, rule_id` +
    (limit > 0 ? ' LIMIT {limit:UInt64}' : '');
  if (limit > 0) params['limit'] = limit;
  return { query, params };
}

export async function queryDetections(client: ClickHouseClient, q: DetectionsQuery): Promise<DetectionRow[]> {
  const rows: DetectionRow[] = [];
  await streamDetections(client, q, (batch) => {
    for (const r of batch) rows.push(r);
  });
  return rows;
}

/** Hands the rows over in batches as ClickHouse sends them; resolves with how many there were. */
export async function streamDetections(client: ClickHouseClient, q: DetectionsQuery, onRows: (rows: DetectionRow[]) => void | Promise<void>): Promise<number> {
  const { query, params } = detectionsSql(q);
  let n = 0;
  try {
    // 'simple' prints DateTime64 as `YYYY-MM-DD hh:mm:ss.nnnnnnnnn` in the column's UTC, nanoseconds intact.
    const rs = await client.query({ query, query_params: params, format: 'JSONEachRow', clickhouse_settings: { date_time_output_format: 'simple' } });
    for await (const batch of rs.stream<DetectionRow>()) {
      const rows = batch.map((r) => r.json());
      n += rows.length;
      await onRows(rows);
    }
    return n;
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    throw new PipelineError(ErrorCode.STORE, `Reading detections from ${q.database}.${q.table} failed: ${msg}`, isRetryableStoreError(cause), { cause });
  }
}
