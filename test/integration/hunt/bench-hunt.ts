/**
 * Hunt throughput vs the stream path on the same records (one thread each):
 *   node test/integration/hunt/bench-hunt.ts [copies=40] [rules=corpus|all]
 * The regression corpus (all shapes) is stored `copies` times in SigNoz's logs_v2 (embedded ClickHouse),
 * then hunted (plain, and with the --sql prefilter); the stream figure maps + evaluates the same
 * LogRecordViews in-process (no decode, no store), so it is the engine's ceiling.
 */
import { join } from 'node:path';
import { combinedPrefilter, convertRuleFiles } from '../../../src/convert/convert.ts';
import { loadRuleset } from '../../../src/detect/ruleset.ts';
import { runHunt } from '../../../src/hunt/hunt.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';
import { SHARED_SIGMA } from '../../helpers/corpus.ts';
import { corpusRows, corpusRuleset, detectionsTable, openStore, streamDetections } from './setup.ts';
import { createLogsTable, insertRows, signozRow } from './signoz-table.ts';

const copies = Number(process.argv[2] ?? 40);
const all = process.argv[3] === 'all';
const mapping = loadLogsourceMapping();
const rs = all ? loadRuleset({ paths: ['rules', 'rules-emerging-threats', 'rules-threat-hunting', 'rules-placeholder'].map((d) => join(SHARED_SIGMA, d)), mapping, placeholders: {} }) : corpusRuleset(mapping);
const base = corpusRows();
const records = [];
const rows = [];
for (let k = 0; k < copies; k++) {
  for (const [i, r] of base.entries()) {
    const ts = 1_790_000_000_000_000_000n + BigInt(k * base.length + i) * 1_000_000n;
    records.push({ ...r.record, timeUnixNano: String(ts) });
    rows.push(signozRow(r.record, ts));
  }
}
const store = openStore('otel-sigma-bench-');
await createLogsTable(store.ch.client);
await insertRows(store.ch.client, rows);

let t = performance.now();
const stream = streamDetections(records, rs, mapping);
const streamMs = performance.now() - t;

const writer = await detectionsTable(store.ch, 'bench');
t = performance.now();
const h = await runHunt({ client: store.ch.client, ruleset: rs, mapping, fromNs: 0n, toNs: 9_000_000_000_000_000_000n, pageSize: 10_000, sink: writer });
await writer.stored();
const huntMs = performance.now() - t;

const pre = combinedPrefilter(convertRuleFiles(rs.rules.map((r) => r.file), mapping));
const writer2 = await detectionsTable(store.ch, 'bench_sql');
t = performance.now();
const h2 = await runHunt({ client: store.ch.client, ruleset: rs, mapping, fromNs: 0n, toNs: 9_000_000_000_000_000_000n, pageSize: 10_000, sink: writer2, where: pre.where, with: pre.with });
await writer2.stored();
const sqlMs = performance.now() - t;
await writer.close();
await writer2.close();
await store.cleanup();

const rate = (n: number, ms: number): number => Math.round((n / ms) * 1000);
console.log(`rules ${rs.rules.length}, records ${records.length}`);
console.log(`stream (map+evaluate in-process): ${rate(records.length, streamMs)} records/s, ${stream.length} detections`);
console.log(`hunt (read + map + evaluate + store): ${rate(h.rows, huntMs)} records/s, ${h.detections} detections, ${h.pages} pages`);
console.log(`hunt --sql (${pre.where === '' ? 'no prefilter' : `${pre.where.length} chars`}): ${rate(records.length, sqlMs)} table records/s, read ${h2.rows} rows, ${h2.detections} detections`);
