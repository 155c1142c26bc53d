/**
 * Hunt throughput vs the single-thread engine on the same records:
 *   node test/bench/hunt.ts [copies=56] [rules=all|corpus] [layout=both|body|body_v2] [sql=auto|on|off] [data=corpus|fleet] [--no-store-body] [--quick] [--json]
 * --quick: 28 copies unless given; --json: the figures as one JSON line at the end.
 * corpus: the regression corpus (539 records, every shape, nearly every one some rule's match) is stored
 * `copies` times in SigNoz's logs_v2 (embedded ClickHouse; with `both`, half the copies in the
 * body_json_enabled layout: map bodies in body_v2, body empty). fleet: a fleet's day instead, sparse in
 * matches: `copies` × 1,000 Windows records of the bench's benign mix with about one attack recording
 * in a hundred (bench/corpus.ts), decoded from the OTLP requests the stream bench sends. "engine" maps and evaluates the same LogRecordViews in-process on one thread (no read, no
 * store); "hunt" is wall clock from the start of the hunt (workers compiling the rules included) until
 * every detection is in the detections table.
 */
import { join } from 'node:path';
import { convertRuleFiles, countsText, huntFilter } from '../../src/convert/convert.ts';
import { findRuleFiles } from '../../src/detect/rules/load.ts';
import { loadRuleset } from '../../src/detect/ruleset.ts';
import { poolEvaluator } from '../../src/hunt/evaluators.ts';
import { chooseFilter, type FilterMode } from '../../src/hunt/filter-choice.ts';
import { runHunt } from '../../src/hunt/hunt.ts';
import { bodyLayout } from '../../src/hunt/reader.ts';
import { loadLogsourceMapping } from '../../src/map/logsource-mapping.ts';
import { forEachProtobufRecord } from '../../src/decode/otlp-protobuf.ts';
import type { LogRecordView } from '../../src/decode/types.ts';
import { SHARED_SIGMA, loadManifest } from '../helpers/corpus.ts';
import { buildCorpus } from './corpus.ts';
import { cpuPer1000, threadCpuMs } from './grpc-load.ts';
import { corpusRows, detectionsTable, openStore, streamDetections } from '../integration/hunt/setup.ts';
import { createLogsTable, insertRows, signozRow, type StoredRow } from '../integration/hunt/signoz-table.ts';

const flags = new Set(process.argv.slice(2).filter((a) => a.startsWith('--')));
const argv = process.argv.filter((a) => !a.startsWith('--'));
const storeBody = !flags.has('--no-store-body');
const copies = Number(argv[2] ?? (flags.has('--quick') ? 28 : 56));
if (!Number.isInteger(copies) || copies < 1) throw new Error(`copies is a positive integer, not ${argv[2]}`);
const all = (argv[3] ?? 'all') === 'all';
const layoutArg = argv[4] ?? 'both';
const sqlMode = (argv[5] ?? 'auto') as FilterMode;
const data = argv[6] ?? 'corpus';
if (data !== 'corpus' && data !== 'fleet') throw new Error(`data is corpus or fleet, not ${data}`);
const mapping = loadLogsourceMapping();
const rulePaths = all ? ['rules', 'rules-emerging-threats', 'rules-threat-hunting', 'rules-compliance', 'rules-placeholder'].map((d) => join(SHARED_SIGMA, d)) : [...new Set(loadManifest().map((c) => join(SHARED_SIGMA, c.rule_file)))];
// The corpus, its rows and the in-process ruleset are dropped before the hunt starts: held, they were a
// 500 MB heap every main-thread collection of the hunt had to mark, which `otel-sigma hunt` never holds.
const store = openStore('otel-sigma-bench-');
const { recordCount, ruleCount, engineMs, engineDetections } = await (async () => {
  const records: LogRecordView[] = [];
  const rows: StoredRow[] = [];
  const keep = (record: LogRecordView, ts: bigint, v2: boolean): void => {
    records.push({ ...record, timeUnixNano: String(ts) });
    const row = signozRow(record, ts);
    rows.push(v2 && typeof record.body === 'object' && record.body !== null && !Array.isArray(record.body) ? { ...row, body: '', body_v2: record.body } : row);
  };
  if (data === 'corpus') {
    const base = corpusRows();
    for (let k = 0; k < copies; k++) {
      const v2 = layoutArg === 'body_v2' || (layoutArg === 'both' && k % 2 === 1);
      for (const [i, r] of base.entries()) keep(r.record, 1_790_000_000_000_000_000n + BigInt(k * base.length + i) * 1_000_000n, v2);
    }
  } else {
    for (const [k, req] of buildCorpus({ requests: copies, perRequest: 1000 }).requests.entries()) {
      const v2 = layoutArg === 'body_v2' || (layoutArg === 'both' && k % 2 === 1);
      forEachProtobufRecord(req, (r) => keep(r, BigInt(r.timeUnixNano), v2));
    }
  }
  await createLogsTable(store.ch.client);
  await insertRows(store.ch.client, rows);

  const rs = loadRuleset({ paths: rulePaths, mapping, placeholders: {} });
  const t = performance.now();
  const stream = streamDetections(records, rs, mapping);
  const engineMs = performance.now() - t;
  return { recordCount: records.length, ruleCount: rs.rules.length, engineMs, engineDetections: stream.length };
})();

const writer = await detectionsTable(store.ch, 'bench', { storeBody });
const cpuStart = process.cpuUsage();
const t = performance.now();
// As the CLI does: the workers compile while the main thread converts the rules and samples the filter.
const pending = poolEvaluator({ rulePaths, mapping: loadLogsourceMapping(), placeholders: {}, select: {}, maxRequestBytes: 64 << 20 }, 0);
const layout = await bodyLayout(store.ch.client, 'signoz_logs.logs_v2');
const converted = convertRuleFiles(findRuleFiles(rulePaths, []), mapping);
const filter = huntFilter(converted, layout);
const range = { fromNs: 0n, toNs: 9_000_000_000_000_000_000n };
const choice = await chooseFilter(sqlMode, { client: store.ch.client, table: 'signoz_logs.logs_v2', ...range, with: filter.with, where: filter.hit });
const choiceMs = performance.now() - t;
const evaluator = await pending;
const startMs = performance.now() - t;
const threadsAtStart = threadCpuMs(process.pid);
const h = await runHunt({ client: store.ch.client, evaluator, rulesHash: 'bench', layout, ...range, pageSize: 10_000, sink: writer, ...(choice.use ? { with: filter.with, where: filter.hit } : {}) });
await writer.stored();
const huntMs = performance.now() - t;
const byThread = cpuPer1000(threadsAtStart, threadCpuMs(process.pid), recordCount);
const cpuAll = process.cpuUsage(cpuStart);
console.log(`process CPU during the hunt (start-up included): ${Math.round((cpuAll.user + cpuAll.system) / 1000)} ms of ${Math.round(huntMs)} ms wall`);
await evaluator.close();
await writer.close();
await store.cleanup();

const rate = (n: number, ms: number): number => Math.round((n / ms) * 1000);
console.log(`rules ${ruleCount} (as SQL: ${countsText(filter.counts)}; ${choice.reason}), records ${recordCount} (${data}), layout ${layoutArg}, workers ${evaluator.parallelism}`);
console.log(`engine (map + evaluate, one thread, in-process): ${rate(recordCount, engineMs)} records/s, ${engineDetections} detections`);
console.log(`hunt (start-up ${Math.round(startMs)} ms, rules converted and filter sampled after ${Math.round(choiceMs)} ms + read + evaluate on the pool + store): ${rate(recordCount, huntMs)} records/s wall, read ${h.rows} rows, ${h.detections} detections, ${h.rulesMatched} rules matched`);
console.log(`CPU per 1,000 rows after start-up (the second worker's compile included), by thread: ${Object.entries(byThread).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ')}`);
const peakRssMib = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(`peak RSS ${peakRssMib} MiB`);
if (flags.has('--json')) {
  console.log(JSON.stringify({ records: recordCount, data, layout: layoutArg, workers: evaluator.parallelism, engine_rps: rate(recordCount, engineMs), hunt_rps: rate(recordCount, huntMs),
    start_ms: Math.round(startMs), detections: h.detections, rules_matched: h.rulesMatched, cpu_per_1000_rows: Object.fromEntries(Object.entries(byThread).map(([k, v]) => [k, Math.round(v)])), peak_rss_mib: peakRssMib }));
}
