/**
 * Checks that ClickHouse accepts a prefilter before a hunt relies on it: every regex the rules carry
 * must compile as RE2 (the converter refuses the constructs RE2 lacks, but cannot prove a pattern
 * compiles). Short-circuiting is disabled so every branch, hence every pattern, is built on one row.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { QUERY_SIZE } from '../hunt/reader.ts';
import type { Prefilter } from './convert.ts';

/** undefined when ClickHouse evaluates the prefilter, else its error message. */
export async function probePrefilter(client: ClickHouseClient, p: Prefilter): Promise<string | undefined> {
  if (p.where === '') return undefined;
  for (const body of ['{}', '<Event/>', '']) {
    try {
      const rs = await client.query({
        query: `${p.with}SELECT count() AS n FROM (SELECT ${body === '' ? "''" : `'${body}'`} AS body) WHERE ${p.where}`,
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
