/**
 * What the embedded ClickHouse holds while it stores attack-dense detections: the detections of the attack lane's
 * requests (whole active SigmaHQ ruleset) written through DetectionWriter at a fixed rate, fresh fingerprints on
 * every pass, with ClickHouse's own memory accounting (MemoryTracking) and the running merges' memory sampled
 * every 100 ms. No workers and no receiver: the storage path alone.
 *
 *   node test/bench/store-memory.ts [--seconds 60] [--rate 8] [--horizontal]
 *
 * It ends with the storage path's CPU per 1,000 records by thread (encoding and the detection log on the main
 * thread, ClickHouse's insert and merges), the log drained.
 *
 * `--rate`: 1,000-record requests' detections per second. `--horizontal` resets the tables' vertical-merge
 * settings (schema.ts), for the comparison with ClickHouse's default.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Detection } from '../../src/detect/detection.ts';
import { createTaskRunner } from '../../src/detect/run-task.ts';
import { loadLogsourceMapping } from '../../src/map/logsource-mapping.ts';
import { createRecordMapper } from '../../src/map/map-records.ts';
import { openClickHouse } from '../../src/store/client.ts';
import { DetectionWriter } from '../../src/store/detection-writer.ts';
import { migrate } from '../../src/store/migrations.ts';
import { loadBenchRules } from './engine.ts';
import { cpuPer1000, rssMb, threadCpuMs } from './grpc-load.ts';
import { positiveFlag } from './flags.ts';
import { attackRequests } from './lanes.ts';

const argv = process.argv.slice(2);
const num = (flag: string, dflt: number): number => positiveFlag(argv, flag, dflt);
const seconds = num('--seconds', 60);
const rate = num('--rate', 8);
const horizontal = argv.includes('--horizontal');

const REQUESTS = 12;
const { ruleset } = loadBenchRules();
const requests = attackRequests('original', REQUESTS);
const run = createTaskRunner({ detector: ruleset.detector, mapper: createRecordMapper({ mapping: loadLogsourceMapping() }), maxRequestBytes: 64 << 20 });
const made = Array.from({ length: REQUESTS }, (_, i) => {
  const r = run({ body: requests.stamp(i, 0), format: 'protobuf', encoding: 'identity', receivedAtMs: Date.now() });
  if (!r.ok) throw new Error(r.message);
  return r.detections;
});
/** The detections of request `k % REQUESTS` as new ones: pass k gives every fingerprint and event id a new tail. */
const fresh = (k: number): Detection[] => {
  const tail = k.toString(16).padStart(12, '0');
  return made[k % REQUESTS]!.map((d) => ({ ...d, fingerprint: d.fingerprint.slice(0, 20) + tail, event: { ...d.event, id: d.event.id.slice(0, 20) + tail } }));
};

const dir = mkdtempSync(join(os.tmpdir(), 'otel-sigma-store-memory-'));
const ch = openClickHouse({ dataDir: join(dir, 'chdb') });
await migrate(ch.client, { database: 'otel_sigma', table: 'detections', ttlDays: 0, target: ch.target });
if (horizontal) {
  for (const t of ['detections', 'detections_events']) {
    await ch.client.command({ query: `ALTER TABLE otel_sigma.${t} RESET SETTING vertical_merge_algorithm_min_rows_to_activate, vertical_merge_algorithm_min_columns_to_activate` });
  }
}
const writer = new DetectionWriter({ client: ch.client, insertRows: ch.insertJsonRows, logDir: join(dir, 'log') });
const query = async (sql: string): Promise<Record<string, string>> => (await (await ch.client.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, string>>())[0] ?? {};
const MB = 2 ** 20;

let peak = { rss: 0, tracked: 0, merges: 0 };
const all = { rss: 0, tracked: 0, merges: 0 };
const sampler = setInterval(() => void query("SELECT (SELECT value FROM system.metrics WHERE metric = 'MemoryTracking') AS tracked, (SELECT sum(memory_usage) FROM system.merges) AS merges")
  .then((m) => {
    peak = { rss: Math.max(peak.rss, rssMb(process.pid)), tracked: Math.max(peak.tracked, Number(m['tracked']) / MB), merges: Math.max(peak.merges, Number(m['merges']) / MB) };
  }), 100);
process.stdout.write(`store-memory: ${rate} requests' detections a second for ${seconds} s, ${horizontal ? 'horizontal merges (ClickHouse default)' : 'vertical merges'}\n`);
const cpuBefore = threadCpuMs(process.pid);
const t0 = performance.now();
let next = t0 + 10_000;
let written = 0;
for (let k = 0; performance.now() - t0 < seconds * 1000; k++) {
  written = k + 1;
  await writer.write(fresh(k));
  const wait = t0 + ((k + 1) * 1000) / rate - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  if (performance.now() >= next) {
    next += 10_000;
    const parts = await query("SELECT count() AS n FROM system.parts WHERE active AND database = 'otel_sigma'");
    process.stdout.write(`${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s: ${k + 1} requests stored; peaks over the last 10 s: RSS ${peak.rss.toFixed(0)} MB, ` +
      `ClickHouse ${peak.tracked.toFixed(0)} MB, merges ${peak.merges.toFixed(0)} MB; ${parts['n']} active parts\n`);
    for (const key of ['rss', 'tracked', 'merges'] as const) all[key] = Math.max(all[key], peak[key]);
    peak = { rss: 0, tracked: 0, merges: 0 };
  }
}
await writer.stored();
clearInterval(sampler);
const cpu = Object.entries(cpuPer1000(cpuBefore, threadCpuMs(process.pid), written * 1000)).sort((a, b) => b[1] - a[1]);
process.stdout.write(`CPU per 1,000 records stored: ${cpu.reduce((n, [, v]) => n + v, 0).toFixed(0)} ms (${cpu.map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')})\n`);
await writer.close();
await ch.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`peaks over the run: RSS ${all.rss.toFixed(0)} MB, ClickHouse ${all.tracked.toFixed(0)} MB, merges ${all.merges.toFixed(0)} MB\n`);
