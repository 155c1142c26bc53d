/**
 * What the coverage counters cost per record: the bench's Windows mix (20,000 records in 1,000-record
 * protobuf requests) through the engine and through the worker's task runner, with the ruleset counting
 * events per logsource route (as serve runs it) and without (`countRoutes: false`), in paired passes on
 * one core. Needs ../shared/sigma. `node test/bench/coverage-overhead.ts [--json]`
 */
import { loadRuleset, type Ruleset } from '../../src/detect/ruleset.ts';
import { createTaskRunner } from '../../src/detect/run-task.ts';
import { loadLogsourceMapping } from '../../src/map/logsource-mapping.ts';
import { createRecordMapper } from '../../src/map/map-records.ts';
import { buildCorpus, RULE_TREES } from './corpus.ts';
import { mapRequests } from './engine.ts';

const PAIRS = 40;

const mapping = loadLogsourceMapping();
const load = (countRoutes: boolean): Ruleset => loadRuleset({ paths: RULE_TREES, mapping, placeholders: {}, countRoutes });
const counting = load(true);
const plain = load(false);
const corpus = buildCorpus({ requests: 20, perRequest: 1_000 });
const events = mapRequests(corpus.requests);

/** One pass of the worker's task runner over every request; records/s. */
function pipelinePass(run: ReturnType<typeof createTaskRunner>): number {
  const t0 = performance.now();
  let records = 0;
  for (const body of corpus.requests) {
    const r = run({ body, format: 'protobuf', encoding: 'identity', receivedAtMs: Date.now() });
    if (!r.ok) throw new Error(r.message);
    records += r.stats.records;
  }
  return records / ((performance.now() - t0) / 1000);
}

/** One pass of the engine over the mapped events; events/s. */
function enginePass(rs: Ruleset): number {
  const t0 = performance.now();
  for (const e of events) rs.detector.evaluate(e);
  return events.length / ((performance.now() - t0) / 1000);
}

/**
 * Paired passes, alternating which goes first: the ratio of each pair cancels what the shared host does
 * to both, and the median of the ratios is the figure (the best rates are printed beside it).
 */
function paired(pass: (on: boolean) => number): { on: number; off: number; overhead: number } {
  for (let w = 0; w < 3; w++) { pass(true); pass(false); } // warm-up
  const ratios: number[] = [];
  let on = 0;
  let off = 0;
  for (let i = 0; i < PAIRS; i++) {
    const first = i % 2 === 0;
    const a = pass(first);
    const b = pass(!first);
    const [rOn, rOff] = first ? [a, b] : [b, a];
    on = Math.max(on, rOn);
    off = Math.max(off, rOff);
    ratios.push(rOn / rOff);
  }
  ratios.sort((x, y) => x - y);
  return { on, off, overhead: 1 - ratios[Math.floor(ratios.length / 2)]! };
}

const runOn = createTaskRunner({ detector: counting.detector, mapper: createRecordMapper({ mapping: loadLogsourceMapping() }), maxRequestBytes: 64 << 20 });
const runOff = createTaskRunner({ detector: plain.detector, mapper: createRecordMapper({ mapping: loadLogsourceMapping() }), maxRequestBytes: 64 << 20 });
const engine = paired((on) => enginePass(on ? counting : plain));
const pipeline = paired((on) => pipelinePass(on ? runOn : runOff));
counting.detector.takeRouted();
const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const figures = {
  records: corpus.records,
  pairs: PAIRS,
  engine_events_per_s: { counting: Math.round(engine.on), not_counting: Math.round(engine.off), overhead_median: pct(engine.overhead) },
  pipeline_records_per_s: { counting: Math.round(pipeline.on), not_counting: Math.round(pipeline.off), overhead_median: pct(pipeline.overhead) },
  ns_per_record: Math.round((1e9 / pipeline.off) * pipeline.overhead / (1 - pipeline.overhead)),
};
if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(figures)}\n`);
else {
  process.stdout.write(`engine:   overhead ${figures.engine_events_per_s.overhead_median} (median of ${PAIRS} paired passes); best ${figures.engine_events_per_s.counting} events/s counting, ${figures.engine_events_per_s.not_counting} without\n`);
  process.stdout.write(`pipeline: overhead ${figures.pipeline_records_per_s.overhead_median} (${figures.ns_per_record} ns per record); best ${figures.pipeline_records_per_s.counting} records/s counting, ${figures.pipeline_records_per_s.not_counting} without\n`);
}
