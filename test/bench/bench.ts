/**
 * `npm run bench [-- --json] [-- --quick] [-- --no-e2e]`: the performance figures of issue 5 on this machine
 * with the whole active SigmaHQ ruleset, and the check that the optimised engine's detections equal the
 * plain reference evaluation (loadRuleset({ prefilter: false }): every rule routed to the event's logsource
 * evaluated one by one, no candidate index) on the same corpus. Exits 1 when they differ.
 * In-process rates are the best of 5 windows (the median is printed beside it); see rate() in engine.ts.
 * With --json the last output line is {"rules", "records", "decode_rps", "engine_rps", "pipeline_rps",
 * "e2e_rps", "sink_rps", "rss_mb", "p99_ms", "compile_ms"}.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { startServe } from '../helpers/service-process.ts';
import { httpGet } from '../helpers/otlp-clients.ts';
import { buildCorpus, RULE_TREES, SIGMA_DIR } from './corpus.ts';
import { compareEngines, decodeRate, engineRate, loadBenchRules, mapRequests, pipelineRate, spread } from './engine.ts';
import { closedLoop, openLoop, peakRssMb, percentile, startSink } from './grpc-load.ts';

const args = new Set(process.argv.slice(2));
const json = args.has('--json');
const quick = args.has('--quick');
const e2e = !args.has('--no-e2e');
const PER_REQUEST = 1000;
const CONCURRENCY = 8;
const minMs = quick ? 1_000 : 3_000;
const say = (s: string) => process.stdout.write(`${s}\n`);
const k = (n: number) => `${(n / 1000).toFixed(1)}k`;

if (!existsSync(join(SIGMA_DIR, 'regression', 'manifest.json'))) {
  process.stderr.write(`bench: ${SIGMA_DIR} is absent; the bench needs the SigmaHQ rules and regression corpus\n`);
  process.exit(2);
}

const corpus = buildCorpus({ requests: quick ? 10 : 20, perRequest: PER_REQUEST });
say(`corpus: ${corpus.records} records in ${corpus.requests.length} requests of ${PER_REQUEST} (${corpus.malicious} attack recordings, the rest benign Windows events)`);

const fast = loadBenchRules();
say(`rules: ${fast.ruleset.loaded} loaded, ${fast.ruleset.rejected} rejected; load+compile ${fast.compileMs.toFixed(0)} ms`);

// In-process figures are the best of WINDOWS windows (see rate() in engine.ts); the median follows.
const w = { decode: [] as number[], engine: [] as number[], attack: [] as number[], reference: [] as number[], pipeline: [] as number[] };
const decodeRps = decodeRate(corpus.requests, corpus.records, minMs, w.decode);
say(`decode (protobuf → records): ${spread(w.decode)} records/s`);
// Measured while this process holds what a worker holds (one compiled ruleset): with the reference
// ruleset and 20,000 mapped events also live, every full GC marks ~4× the heap and the figure drops.
const pipe = pipelineRate(fast.ruleset, corpus.requests, corpus.records, minMs, w.pipeline);
say(`pipeline (protobuf → decode → map → evaluate → rows), one core: ${spread(w.pipeline)} records/s (${pipe.detectionsPerPass} detections per pass)`);

const reference = loadBenchRules({ prefilter: false });
const events = mapRequests(corpus.requests);
const attackEvents = mapRequests([corpus.maliciousRequest]);
const eq = compareEngines(fast.ruleset, reference.ruleset, [...events, ...attackEvents]);
say(`equality vs reference: ${eq.events} events, ${eq.matches} matches, ${eq.mismatches} events differ${eq.mismatches ? `\n  ${eq.examples.join('\n  ')}` : ''}`);

const engineRps = engineRate(fast.ruleset, events, minMs, w.engine);
say(`engine (mapped events → matches), one core: ${spread(w.engine)} events/s on the mix`);
engineRate(fast.ruleset, attackEvents, minMs / 2, w.attack);
say(`engine on the ${attackEvents.length} attack recordings alone: ${spread(w.attack)} events/s`);
// The reference is ~15× slower: its rate is taken on the first 2,000 events of the mix.
engineRate(reference.ruleset, events.slice(0, 2_000), minMs / 4, w.reference);
say(`reference evaluation (no candidate index) on the mix: ${spread(w.reference)} events/s`);

let e2eRps = NaN;
let sinkRps = NaN;
let rssMb = NaN;
let p99 = NaN;
if (e2e) {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'otel-sigma-bench-'));
  const rulesArgs = RULE_TREES.flatMap((t) => ['--rules', t]);
  const t0 = performance.now();
  const svc = await startServe([...rulesArgs, '--data-dir', dataDir], { timeoutMs: 120_000 });
  say(`serve: listening after ${((performance.now() - t0) / 1000).toFixed(1)} s (pid ${svc.child.pid})`);
  try {
    await closedLoop(svc.grpc, corpus.requests, PER_REQUEST, CONCURRENCY, quick ? 2_000 : 4_000); // warm-up: JIT, ClickHouse parts
    const run = await closedLoop(svc.grpc, corpus.requests, PER_REQUEST, CONCURRENCY, quick ? 5_000 : 15_000);
    e2eRps = run.rps;
    say(`e2e serve (gRPC gzip, ${PER_REQUEST}-record requests, ${CONCURRENCY} in flight): ${k(run.rps)} records/s acknowledged; ${run.failed} refused${run.errors.length ? ` (${run.errors.join('; ')})` : ''}; p50 ${percentile(run.latencies, 50).toFixed(0)} ms, p99 ${percentile(run.latencies, 99).toFixed(0)} ms`);
    const half = await openLoop(svc.grpc, corpus.requests, PER_REQUEST, e2eRps / 2 / PER_REQUEST, quick ? 5_000 : 10_000);
    p99 = percentile(half.latencies, 99);
    say(`latency at half that rate (${k(half.rps)} records/s, open loop): p50 ${percentile(half.latencies, 50).toFixed(0)} ms, p99 ${p99.toFixed(0)} ms; ${half.failed} refused`);
    rssMb = peakRssMb(svc.child.pid!);
    const metrics = (await httpGet(svc.http, '/metrics')).body.toString();
    const sum = (name: string) => [...metrics.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
    say(`serve peak RSS ${rssMb.toFixed(0)} MB; detections ${sum('otel_sigma_detections_total')}, rows stored ${sum('otel_sigma_store_rows_total')}, log group commits ${sum('otel_sigma_wal_commits_total')}`);
  } finally {
    await svc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const sink = await startSink();
  try {
    await closedLoop(sink.address, corpus.requests, PER_REQUEST, CONCURRENCY, quick ? 1_000 : 2_000);
    const run = await closedLoop(sink.address, corpus.requests, PER_REQUEST, CONCURRENCY, quick ? 5_000 : 10_000);
    sinkRps = run.rps;
    say(`sink (bare grpc-js + protobufjs decode, same requests): ${k(run.rps)} records/s; e2e/sink = ${(e2eRps / sinkRps).toFixed(2)}`);
  } finally {
    await sink.stop();
  }
}

if (json) {
  const r = (n: number) => (Number.isFinite(n) ? Math.round(n) : null);
  say(JSON.stringify({
    rules: fast.ruleset.loaded, records: corpus.records, decode_rps: r(decodeRps), engine_rps: r(engineRps), pipeline_rps: r(pipe.rps),
    e2e_rps: r(e2eRps), sink_rps: r(sinkRps), rss_mb: r(rssMb), p99_ms: r(p99), compile_ms: r(fast.compileMs),
  }));
}
process.exit(eq.mismatches === 0 ? 0 : 1);
