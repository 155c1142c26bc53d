/**
 * In-process figures on one core: rule load/compile time, decode, engine (mapped events → matches)
 * and pipeline (protobuf bytes → decode → map → evaluate → detection rows, what a worker does per
 * task), plus the equality check of the optimised engine against the plain reference evaluation.
 */
import { decodeProtobufRequest } from '../../src/decode/otlp-protobuf.ts';
import { createTaskRunner } from '../../src/detect/run-task.ts';
import { loadRuleset, type Ruleset } from '../../src/detect/ruleset.ts';
import type { RuleMatch } from '../../src/detect/types.ts';
import { loadLogsourceMapping } from '../../src/map/logsource-mapping.ts';
import { createRecordMapper } from '../../src/map/map-records.ts';
import type { SigmaEvent } from '../../src/map/types.ts';
import { RULE_TREES } from './corpus.ts';

export interface LoadedRules {
  readonly ruleset: Ruleset;
  readonly compileMs: number;
}

export function loadBenchRules(opts: { prefilter?: boolean } = {}): LoadedRules {
  const t0 = performance.now();
  const mapping = loadLogsourceMapping();
  const ruleset = loadRuleset({ paths: RULE_TREES, mapping, placeholders: {}, ...(opts.prefilter === false ? { prefilter: false } : {}) });
  return { ruleset, compileMs: performance.now() - t0 };
}

/** Mapped events of the requests (setup for the engine figure, not timed). */
export function mapRequests(requests: readonly Uint8Array[]): SigmaEvent[] {
  const mapper = createRecordMapper({ mapping: loadLogsourceMapping() });
  const out: SigmaEvent[] = [];
  for (const bytes of requests) for (const m of mapper.map(decodeProtobufRequest(bytes).records)) out.push(m.event);
  return out;
}

/** Throughput windows per figure; the figure is the best window's rate. */
export const WINDOWS = 5;

/**
 * Units per second of `pass`: one warm-up pass, then WINDOWS windows of at least `minMs` / 2 each
 * (whole passes), and the best window's rate. This 2-core VM shares its host: the same build measured
 * 57–80k events/s on the engine from one run to the next (2026-11-22), and interference only ever
 * slows a window down, so the best window is the closest to what the code does on this machine.
 * `rates` receives every window's rate, for the spread.
 */
export function rate(units: number, minMs: number, pass: () => void, rates: number[] = []): number {
  pass();
  for (let w = 0; w < WINDOWS; w++) {
    let n = 0;
    const t0 = performance.now();
    let dt: number;
    do {
      pass();
      n++;
      dt = performance.now() - t0;
    } while (dt < minMs / 2);
    rates.push((units * n) / (dt / 1000));
  }
  return Math.max(...rates);
}

/** "best (median of the windows)", for the human-readable lines. */
export function spread(rates: readonly number[]): string {
  const sorted = [...rates].sort((a, b) => a - b);
  const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
  return `${k(sorted.at(-1)!)} (median of ${sorted.length} windows ${k(sorted[Math.floor(sorted.length / 2)]!)})`;
}

export function decodeRate(requests: readonly Uint8Array[], records: number, minMs: number, rates?: number[]): number {
  return rate(records, minMs, () => {
    for (const b of requests) decodeProtobufRequest(b);
  }, rates);
}

export function engineRate(rs: Ruleset, events: readonly SigmaEvent[], minMs: number, rates?: number[]): number {
  const d = rs.detector;
  return rate(events.length, minMs, () => {
    for (const e of events) d.evaluate(e);
  }, rates);
}

/** What the worker does for a task (its task runner), on this thread. */
export function pipelineRate(rs: Ruleset, requests: readonly Uint8Array[], records: number, minMs: number, rates?: number[]): { rps: number; detectionsPerPass: number } {
  const run = createTaskRunner({ detector: rs.detector, mapper: createRecordMapper({ mapping: loadLogsourceMapping() }), maxRequestBytes: 64 << 20 });
  let detections = 0;
  const rps = rate(records, minMs, () => {
    detections = 0;
    for (const body of requests) {
      const result = run({ body, format: 'protobuf', encoding: 'identity', receivedAtMs: Date.now() });
      if (!result.ok) throw new Error(`bench request failed: ${result.message}`);
      detections += result.detections.length;
    }
  }, rates);
  return { rps, detectionsPerPass: detections };
}

const key = (m: RuleMatch): string => `${m.rule.id}|${m.rule.file}|${JSON.stringify(Object.entries(m.matched).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}`;

export interface Equality {
  readonly events: number;
  readonly matches: number;
  readonly mismatches: number;
  readonly examples: string[];
}

/** Every event: the same rules with the same matched fields from both rulesets. */
export function compareEngines(fast: Ruleset, reference: Ruleset, events: readonly SigmaEvent[]): Equality {
  let matches = 0;
  let mismatches = 0;
  const examples: string[] = [];
  events.forEach((e, i) => {
    const a = fast.detector.evaluate(e).map(key).sort();
    const b = reference.detector.evaluate(e).map(key).sort();
    matches += b.length;
    if (a.length !== b.length || a.some((x, j) => x !== b[j])) {
      mismatches++;
      if (examples.length < 5) {
        const only = (xs: string[], ys: string[]) => xs.filter((x) => !ys.includes(x)).map((x) => x.slice(0, 160));
        examples.push(`event ${i}: optimised only ${JSON.stringify(only(a, b))}; reference only ${JSON.stringify(only(b, a))}`);
      }
    }
  });
  return { events: events.length, matches, mismatches, examples };
}
