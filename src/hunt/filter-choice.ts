/**
 * Whether a hunt reads through the rules' SQL filter or reads every row. The filter is not free: on
 * chdb 26.7 (2 cores) the whole ruleset's logsource conditions cost about as much per row as the engine
 * itself (they read the body, and a body_v2 row must be serialized to text first: ~90 µs a row), and
 * the query takes ~0.8 s to plan for each page. It pays where it drops most rows (a fleet's benign
 * logs), and costs where nearly every row is some rule's logsource (attack recordings). `auto` decides
 * on a sample: the first rows of the range, filtered once.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { PAGE_ORDER, QUERY_SIZE, rangeCondition } from './reader.ts';

export type FilterMode = 'auto' | 'on' | 'off';

/** auto uses the filter when it keeps at most this share of the sample. */
export const AUTO_MAX_KEPT = 0.5;
export const SAMPLE_ROWS = 5000;

export interface FilterChoice {
  readonly use: boolean;
  /** Rows sampled and kept by the filter (auto only). */
  readonly sampled?: number;
  readonly kept?: number;
  /** One line for the user: what was decided and why. */
  readonly reason: string;
}

export interface FilterSample {
  readonly client: ClickHouseClient;
  readonly table: string;
  readonly fromNs: bigint;
  readonly toNs: bigint;
  readonly with: string;
  readonly where: string;
}

export async function chooseFilter(mode: FilterMode, s: FilterSample, sampleRows = SAMPLE_ROWS): Promise<FilterChoice> {
  if (s.where === '' || s.where === '1') return { use: false, reason: 'SQL filter off: a rule narrows nothing, so every row is read' };
  if (mode === 'off') return { use: false, reason: 'SQL filter off (--no-sql): reading every row' };
  if (mode === 'on') return { use: true, reason: 'SQL filter on (--sql)' };
  const rs = await s.client.query({
    // The WITH aliases name the logs table's columns; the subquery hands them through.
    query: `${s.with}SELECT count() AS n, countIf(${s.where}) AS m FROM (SELECT * FROM ${s.table} WHERE ${rangeCondition({ table: s.table, fromNs: s.fromNs, toNs: s.toNs })} ` +
      `ORDER BY ${PAGE_ORDER} LIMIT ${Math.trunc(sampleRows)})`,
    format: 'JSONEachRow',
    clickhouse_settings: QUERY_SIZE,
  });
  const row = (await rs.json<{ n: string | number; m: string | number }>())[0];
  const n = Number(row?.n ?? 0);
  const m = Number(row?.m ?? 0);
  if (n === 0) return { use: true, sampled: 0, kept: 0, reason: 'SQL filter on (no rows in the range to sample)' };
  const pct = Math.round((m / n) * 100);
  const use = m / n <= AUTO_MAX_KEPT;
  return {
    use,
    sampled: n,
    kept: m,
    reason: use
      ? `SQL filter on: it keeps ${pct} % of a ${n}-row sample`
      : `SQL filter off: it keeps ${pct} % of a ${n}-row sample (more than ${AUTO_MAX_KEPT * 100} %: filtering would cost more than it saves; --sql forces it)`,
  };
}
