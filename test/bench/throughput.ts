/**
 * End-to-end throughput on real-shaped traffic (issue 12): `serve` with the whole active SigmaHQ ruleset on
 * its embedded ClickHouse, 1,000-record gzip requests over gRPC, against a bare grpc-js + protobufjs sink
 * measured on the same requests in the same run. Lanes: attack recordings with their original times, with
 * per-host clock skew, with live times, and the benign mix; 4 calls in flight (the shipped collector
 * config's num_consumers) and 1. Each lane reports records/s, the ratio to the sink, detections produced
 * and stored, client p50/p99 and the server's receipt→durable p50/p99; the run ends by reading the table:
 * every detection stored exactly once.
 *
 * `node test/bench/throughput.ts [--quick] [--json] [--no-store-body] [--workers N] [--lanes 0,2]`, or as part of `npm run bench`.
 * `--no-store-body` and `--workers` are passed to serve; `--lanes` keeps the lanes at those positions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { openClickHouse } from '../../src/store/client.ts';
import { startServe } from '../helpers/service-process.ts';
import { buildCorpus, RULE_TREES } from './corpus.ts';
import { closedLoop, cpuPer1000, peakRssMb, percentile, scrape, startSink, threadCpuMs } from './grpc-load.ts';
import { attackRequests, stampable, type StampedRequests } from './lanes.ts';

export interface LaneResult {
  readonly lane: string;
  readonly inFlight: number;
  readonly rps: number;
  readonly sinkRps: number;
  readonly ratio: number;
  readonly detections: number;
  readonly stored: number;
  readonly refused: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly durableP50Ms: number;
  readonly durableP99Ms: number;
  /** serve's CPU per 1,000 records by thread role (ms), and the sink's: robust to a machine shared with other work. */
  readonly cpu: Record<string, number>;
  readonly sinkCpu: number;
}

export interface ThroughputResult {
  readonly lanes: LaneResult[];
  readonly peakRssMb: number;
  readonly storedRows: number;
  readonly distinctFingerprints: number;
  readonly eventRows: number;
}

/** Upper bucket bound holding the p-th percentile of the observations between two scrapes. */
function histogramPercentile(before: [number, number][], after: [number, number][], p: number): number {
  const d = after.map(([le, n], i) => [le, n - (before[i]?.[1] ?? 0)] as const);
  const total = d.at(-1)?.[1] ?? 0;
  if (total === 0) return NaN;
  return (d.find(([, n]) => n >= (p / 100) * total)?.[0] ?? Infinity) * 1000;
}

async function drained(http: string, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    const { sum } = await scrape(http);
    if (sum('otel_sigma_wal_records', 'log="detections"') === 0) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the detection log did not drain within ${timeoutMs} ms`);
}

export async function runThroughput(opts: { quick: boolean; say: (s: string) => void; serveFlags?: readonly string[]; lanes?: readonly number[] }): Promise<ThroughputResult> {
  const { quick, say } = opts;
  const seconds = quick ? 6 : 15;
  const requests = quick ? 12 : 24;
  const lanes: { name: string; source: StampedRequests; inFlight: number }[] = [];
  const original = attackRequests('original', requests);
  const live = attackRequests('live', requests);
  lanes.push({ name: 'attack, original times', source: original, inFlight: 4 });
  lanes.push({ name: 'attack, per-host clock skew', source: attackRequests('skew', requests), inFlight: 4 });
  lanes.push({ name: 'attack, live times', source: live, inFlight: 4 });
  lanes.push({ name: 'benign mix (1 % attacks)', source: stampable(buildCorpus({ requests, perRequest: 1000 }).requests), inFlight: 4 });
  lanes.push({ name: 'attack, original times', source: original, inFlight: 1 });
  lanes.push({ name: 'attack, live times', source: live, inFlight: 1 });

  if (opts.lanes !== undefined) lanes.splice(0, lanes.length, ...lanes.filter((_, i) => opts.lanes!.includes(i)));
  const dataDir = mkdtempSync(join(os.tmpdir(), 'otel-sigma-throughput-'));
  const results: LaneResult[] = [];
  const sink = await startSink();
  const svc = await startServe([...RULE_TREES.flatMap((t) => ['--rules', t]), '--data-dir', dataDir, ...(opts.serveFlags ?? [])], { timeoutMs: 180_000 });
  let rss: number;
  let pass = 1;
  try {
    for (const lane of lanes) {
      // Every send is new traffic: pass p moves the record times by p ns (or to now), so no fingerprint repeats.
      const source = (k: number): Uint8Array => lane.source.stamp(k, pass + Math.floor(k / lane.source.count));
      await closedLoop(svc.grpc, source, lane.source.perRequest, lane.inFlight, quick ? 1_500 : 3_000); // warm-up
      pass += 1_000_000;
      const before = await scrape(svc.http);
      const cpu0 = threadCpuMs(svc.child.pid!);
      const run = await closedLoop(svc.grpc, source, lane.source.perRequest, lane.inFlight, seconds * 1000);
      pass += 1_000_000;
      const drainMs = await drained(svc.http, 300_000);
      const cpu = cpuPer1000(cpu0, threadCpuMs(svc.child.pid!), run.ok * lane.source.perRequest);
      const after = await scrape(svc.http);
      const sinkCpu0 = threadCpuMs(sink.child.pid!);
      const sinkRun = await closedLoop(sink.address, source, lane.source.perRequest, lane.inFlight, seconds * 1000);
      const sinkCpu = Object.values(cpuPer1000(sinkCpu0, threadCpuMs(sink.child.pid!), sinkRun.ok * lane.source.perRequest)).reduce((a, b) => a + b, 0);
      pass += 1_000_000;
      const d = (name: string): number => after.sum(name) - before.sum(name);
      const r: LaneResult = {
        lane: lane.name,
        inFlight: lane.inFlight,
        rps: run.rps,
        sinkRps: sinkRun.rps,
        ratio: run.rps / sinkRun.rps,
        detections: d('otel_sigma_detections_total'),
        stored: d('otel_sigma_store_rows_total'),
        refused: run.failed,
        p50Ms: percentile(run.latencies, 50),
        p99Ms: percentile(run.latencies, 99),
        durableP50Ms: histogramPercentile(before.buckets('otel_sigma_store_durable_seconds'), after.buckets('otel_sigma_store_durable_seconds'), 50),
        durableP99Ms: histogramPercentile(before.buckets('otel_sigma_store_durable_seconds'), after.buckets('otel_sigma_store_durable_seconds'), 99),
        cpu,
        sinkCpu,
      };
      results.push(r);
      say(`${r.lane}, ${r.inFlight} in flight: ${(r.rps / 1000).toFixed(1)}k records/s vs sink ${(r.sinkRps / 1000).toFixed(1)}k = ${r.ratio.toFixed(2)}×; ` +
        `${r.detections} detections, ${r.stored} rows stored${r.refused ? `, ${r.refused} refused (${run.errors.join('; ')})` : ''}; ` +
        `p50 ${r.p50Ms.toFixed(0)} ms, p99 ${r.p99Ms.toFixed(0)} ms; receipt→durable p50 ≤ ${r.durableP50Ms} ms, p99 ≤ ${r.durableP99Ms} ms; log drained ${(drainMs / 1000).toFixed(1)} s after`);
      const total = Object.values(cpu).reduce((a, b) => a + b, 0);
      say(`  CPU per 1,000 records: serve ${total.toFixed(0)} ms (${Object.entries(cpu).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}), sink ${sinkCpu.toFixed(0)} ms; ` +
        `sink/serve CPU = ${(sinkCpu / total).toFixed(2)}×`);
    }
    rss = peakRssMb(svc.child.pid!);
  } finally {
    await svc.stop();
    await sink.stop();
  }
  // serve is gone: its embedded ClickHouse directory is free to read.
  const ch = openClickHouse({ dataDir });
  try {
    const q = async (sql: string): Promise<number> => Number(((await (await ch.client.query({ query: sql, format: 'JSONEachRow' })).json<{ n: string }>())[0])?.n);
    const storedRows = await q('SELECT count() AS n FROM otel_sigma.detections');
    const distinct = await q('SELECT uniqExact(fingerprint) AS n FROM otel_sigma.detections');
    const eventRows = await q('SELECT count() AS n FROM otel_sigma.detections_events');
    say(`serve peak RSS ${rss.toFixed(0)} MB; table: ${storedRows} detection rows, ${distinct} distinct fingerprints${storedRows === distinct ? ' (each stored once)' : ' — DUPLICATES'}, ${eventRows} event rows`);
    return { lanes: results, peakRssMb: rss, storedRows, distinctFingerprints: distinct, eventRows };
  } finally {
    await ch.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const args = new Set(argv);
  const lanesAt = argv.indexOf('--lanes');
  const workersAt = argv.indexOf('--workers');
  const res = await runThroughput({
    quick: args.has('--quick'),
    say: (s) => process.stdout.write(`${s}\n`),
    serveFlags: [...(args.has('--no-store-body') ? ['--no-store-body'] : []), ...(workersAt >= 0 ? ['--workers', argv[workersAt + 1] ?? ''] : [])],
    ...(lanesAt >= 0 && { lanes: (argv[lanesAt + 1] ?? '').split(',').map(Number) }),
  });
  if (args.has('--json')) process.stdout.write(`${JSON.stringify(res)}\n`);
  if (res.storedRows !== res.distinctFingerprints) process.exit(1);
}
