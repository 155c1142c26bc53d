/**
 * Child process of hunt-1m.ts: stores the regression corpus `copies` times in SigNoz's logs_v2 inside the
 * embedded ClickHouse at argv[2], 1 ms apart, every other copy in the body_json_enabled layout (map body
 * in body_v2, body empty). The copies are made inside ClickHouse (INSERT … SELECT over numbers()), so a
 * million rows never exist as JS objects. Prints the row count.
 */
import { openClickHouse } from '../../src/store/client.ts';
import { corpusRows } from '../integration/hunt/setup.ts';
import { createLogsTable, insertRows } from '../integration/hunt/signoz-table.ts';

const [dir, copiesArg] = process.argv.slice(2);
const copies = Number(copiesArg ?? 1856);
const ch = openClickHouse({ dataDir: dir! });
await createLogsTable(ch.client);
await createLogsTable(ch.client, 'signoz_logs.seed');
const base = corpusRows();
await insertRows(ch.client, base.map((r) => r.row), 'signoz_logs.seed');
const n = base.length;
const T0 = 1_790_000_000_000_000_000n;
// Row k of copy c (the seed rows' long retention kept: the TTL would drop rows this old at the next merge): timestamp T0 + (c·n + k) ms; ids made unique per copy; odd copies move a JSON-object body to body_v2.
const cols = `ts_bucket_start, resource_fingerprint, timestamp, observed_timestamp, id, trace_id, span_id, trace_flags, severity_text, severity_number, body, body_v2,
  attributes_string, attributes_number, attributes_bool, resources_string, scope_name, scope_version, _retention_days`;
const v2 = "c % 2 = 1 AND startsWith(s.body, '{') AND isValidJSON(s.body)";
const step = 100;
for (let from = 0; from < copies; from += step) {
  const upTo = Math.min(copies, from + step);
  await ch.client.command({
    query: `INSERT INTO signoz_logs.logs_v2 (${cols})
      SELECT intDiv(t, 1800000000000) * 1800, s.resource_fingerprint, toUInt64(${T0} + (c * ${n} + s.k) * 1000000) AS t, s.observed_timestamp,
        concat(s.id, '-', toString(c)), s.trace_id, s.span_id, s.trace_flags, s.severity_text, s.severity_number,
        if(${v2}, '', s.body), if(${v2}, s.body, '{}'),
        s.attributes_string, s.attributes_number, s.attributes_bool, s.resources_string, s.scope_name, s.scope_version, s._retention_days
      FROM (SELECT *, rowNumberInAllBlocks() AS k FROM (SELECT * FROM signoz_logs.seed ORDER BY timestamp, id)) AS s
      CROSS JOIN (SELECT number AS c FROM numbers(${from}, ${upTo - from})) AS copies`,
  });
}
const rs = await ch.client.query({ query: 'SELECT count() AS n FROM signoz_logs.logs_v2', format: 'JSONEachRow' });
await ch.close();
process.stdout.write(`${(await rs.json<{ n: string }>())[0]!.n}\n`);
