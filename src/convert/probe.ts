/**
 * Checks that ClickHouse accepts a prefilter before a hunt relies on it: every regex the rules carry
 * must compile as RE2 (the converter refuses the constructs RE2 lacks, but cannot prove a pattern
 * compiles). Short-circuiting is disabled so every branch, hence every pattern, is built on one row.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { QUERY_SIZE } from '../hunt/reader.ts';

/** undefined when ClickHouse evaluates the condition (over the WITH clause `p.with`), else its error message. */
export async function probePrefilter(client: ClickHouseClient, p: { readonly with: string; readonly where: string }): Promise<string | undefined> {
  if (p.where === '' || p.where === '0' || p.where === '1') return undefined;
  for (const body of ['{"event_id":{}}', '<Event/>', '']) {
    try {
      // A one-row stand-in for the logs table: the body columns of both layouts and the maps keywords read.
      const row = `SELECT '${body}' AS body, '{}'::JSON AS body_v2, '{}'::JSON AS body_promoted, map('a', 'b') AS attributes_string, ` +
        "map('n', 1.0) AS attributes_number, map('b', true) AS attributes_bool, map('r', 's') AS resources_string";
      const rs = await client.query({
        query: `${p.with}SELECT count() AS n FROM (${row}) WHERE ${p.where}`,
        format: 'JSONEachRow',
        clickhouse_settings: { ...QUERY_SIZE, short_circuit_function_evaluation: 'disable' },
      });
      await rs.json();
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }
  return undefined;
}
