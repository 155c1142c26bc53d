/**
 * Soak: `serve` under sustained attack-dense load for minutes, to see whether it settles. The whole active
 * SigmaHQ ruleset, embedded ClickHouse, 1,000-record gzip gRPC requests of the regression corpus's attack
 * recordings with their original times (every send new traffic: no fingerprint repeats), 4 calls in flight
 * as fast as they are answered. Every `--every` seconds it prints resident memory, the rate of that
 * interval, refusals, the detection log's backlog and the memory limiter's refusals; at the end it drains
 * the log, stops serve and checks the table: every detection made stored exactly once.
 *
 *   node test/bench/soak.ts [--minutes 10] [--every 30] [--in-flight 4] [--json]   (or `npm run soak`)
 *
 * Exit 1 when a detection is missing or stored twice, or when serve's median resident memory in the last third
 * of the run is more than 10 % above the middle third's (still growing rather than settled).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { openClickHouse } from '../../src/store/client.ts';
import { startServe } from '../helpers/service-process.ts';
import { RULE_TREES } from './corpus.ts';
import { closedLoop, rssMb, scrape } from './grpc-load.ts';
import { positiveFlag } from './flags.ts';
import { attackRequests } from './lanes.ts';

const argv = process.argv.slice(2);
const num = (flag: string, dflt: number): number => positiveFlag(argv, flag, dflt);
const minutes = num('--minutes', 10);
const every = num('--every', 30);
const inFlight = num('--in-flight', 4);
const json = argv.includes('--json');

interface Sample {
  readonly atS: number;
  readonly rssMb: number;
  /** Highest resident memory seen in the interval, sampled every 100 ms. */
  readonly peakRssMb: number;
  readonly rps: number;
  readonly refused: number;
  readonly backlog: number;
  readonly limiterRefusals: number;
  readonly detections: number;
  /** serve's main-thread V8 heap in use at the sample. */
  readonly mainHeapMb: number;
}

const source = attackRequests('original', 24);
const dataDir = mkdtempSync(join(os.tmpdir(), 'otel-sigma-soak-'));
const svc = await startServe([...RULE_TREES.flatMap((t) => ['--rules', t]), '--data-dir', dataDir], { timeoutMs: 180_000 });
const pid = svc.child.pid!;
const samples: Sample[] = [];
let sent = 0;
/** Records acknowledged. */
let records = 0;
let made: number;
let inserted: number;
try {
  const say = (s: string): void => void process.stdout.write(`${s}\n`);
  say(`soak: ${minutes} min, ${inFlight} in flight, idle RSS ${rssMb(pid).toFixed(0)} MB`);
  const t0 = performance.now();
  const rounds = Math.max(1, Math.round((minutes * 60) / every));
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, rssMb(pid)); }, 100);
  for (let i = 0; i < rounds; i++) {
    // Pass numbers never repeat across rounds: every record of the soak is new traffic.
    const base = sent;
    const run = await closedLoop(svc.grpc, (k) => source.stamp(base + k, 1 + Math.floor((base + k) / source.count)), source.perRequest, inFlight, every * 1000);
    sent += run.ok + run.failed;
    records += run.ok * source.perRequest;
    const rss = rssMb(pid);
    const m = await scrape(svc.http);
    const s: Sample = {
      atS: (performance.now() - t0) / 1000,
      rssMb: rss,
      peakRssMb: Math.max(peak, rss),
      rps: run.rps,
      refused: run.failed,
      backlog: m.sum('otel_sigma_wal_records', 'log="detections"'),
      limiterRefusals: m.sum('otel_sigma_memory_limit_refusals_total'),
      detections: m.sum('otel_sigma_detections_total'),
      mainHeapMb: m.sum('otel_sigma_nodejs_heap_size_used_bytes') / 2 ** 20,
    };
    samples.push(s);
    peak = 0;
    say(`${s.atS.toFixed(0).padStart(5)} s  RSS ${s.rssMb.toFixed(0)} MB (peak ${s.peakRssMb.toFixed(0)}, main heap ${s.mainHeapMb.toFixed(0)})  ${(s.rps / 1000).toFixed(1)}k records/s  refused ${s.refused}  log backlog ${s.backlog}  ` +
      `memory-limit refusals ${s.limiterRefusals}  detections ${s.detections}${run.errors.length ? `  (${run.errors.join('; ')})` : ''}`);
  }
  clearInterval(sampler);
  const t1 = performance.now();
  while ((await scrape(svc.http)).sum('otel_sigma_wal_records', 'log="detections"') > 0) {
    if (performance.now() - t1 > 600_000) throw new Error('the detection log did not drain within 10 minutes');
    await new Promise((r) => setTimeout(r, 500));
  }
  const m = await scrape(svc.http);
  made = m.sum('otel_sigma_detections_total');
  inserted = m.sum('otel_sigma_store_rows_total');
  say(`log drained ${((performance.now() - t1) / 1000).toFixed(1)} s after the load`);
} finally {
  await svc.stop();
}
const ch = openClickHouse({ dataDir });
let rows: number;
let distinct: number;
try {
  const q = async (sql: string): Promise<number> => Number(((await (await ch.client.query({ query: sql, format: 'JSONEachRow' })).json<{ n: string }>())[0])?.n);
  rows = await q('SELECT count() AS n FROM otel_sigma.detections');
  distinct = await q('SELECT uniqExact(fingerprint) AS n FROM otel_sigma.detections');
} finally {
  await ch.close();
  rmSync(dataDir, { recursive: true, force: true });
}
// Growth is judged on the samples taken at interval ends, by median: a merge or a large insert can lift one
// 100 ms peak by a few hundred MB, which says nothing about a leak.
const third = Math.max(1, Math.floor(samples.length / 3));
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const middle = median(samples.slice(third, 2 * third).map((s) => s.rssMb));
const last = median(samples.slice(2 * third).map((s) => s.rssMb));
const judged = samples.length >= 3;
const settled = !judged || !(last > middle * 1.1);
// A request refused after its detections were counted (a full detection log) is the sender's to retry, and the
// soak does not retry: then the table must hold what serve inserted, each once, rather than all it made.
const refusedAny = samples.some((s) => s.refused > 0);
const exact = rows === distinct && rows === inserted && (refusedAny ? rows <= made : rows === made);
process.stdout.write(`${(records / 1e6).toFixed(2)}M records, ${made} detections made, ${inserted} inserted, ${rows} rows stored, ${distinct} distinct` +
  `${exact ? ' (each stored once)' : ' — MISSING OR DUPLICATE'}; peak RSS ${Math.max(...samples.map((s) => s.peakRssMb)).toFixed(0)} MB, ` +
  (judged ? `median RSS middle third ${middle.toFixed(0)} MB, last third ${last.toFixed(0)} MB${settled ? ' (settled)' : ' — STILL GROWING'}` : 'too few samples to judge growth') + '\n');
if (json) process.stdout.write(`${JSON.stringify({ minutes, inFlight, samples, records, made, inserted, rows, distinct, settled })}\n`);
if (!exact || !settled) process.exit(1);
