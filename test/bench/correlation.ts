/**
 * `npm run bench:correlation [-- --json]`: what correlation rules cost, on this machine.
 * 1. The engine over the bench mix (Windows events + attack recordings) plus realistic sshd and 4625
 *    brute-force traffic, with the whole active SigmaHQ ruleset, then with it and the shipped correlation
 *    pack: events/s each (best of 5 windows, median beside), and the stage's own rate over the pack's matches.
 * 2. The correlation stage holding 100,000 open groups (50,000 addresses in the two pack correlations that
 *    group failures by address, three matches each):
 *    heap per group, snapshot size and time.
 * The baseline (SigmaHQ alone) is measured in the same run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { CorrelationStage } from '../../src/correlate/stage.ts';
import { correlationPlan } from '../../src/detect/correlation-plan.ts';
import type { CorrelationInput } from '../../src/detect/correlation/types.ts';
import type { Detection } from '../../src/detect/detection.ts';
import { loadRuleset, type Ruleset } from '../../src/detect/ruleset.ts';
import { splitForCorrelation } from '../../src/detect/run-task.ts';
import { loadLogsourceMapping } from '../../src/map/logsource-mapping.ts';
import { createRecordMapper } from '../../src/map/map-records.ts';
import type { MappedEvent } from '../../src/map/types.ts';
import { decodeJsonDocument } from '../../src/decode/otlp-json.ts';
import { exportRequest, failedLogon, SECOND_NS, sshdRecord, type HostRecord } from '../helpers/auth-events.ts';
import { rng } from '../helpers/rng.ts';
import { buildCorpus, REPO_ROOT, RULE_TREES } from './corpus.ts';
import { engineRate, spread } from './engine.ts';
import { decodeProtobufRequest } from '../../src/decode/otlp-protobuf.ts';

const json = process.argv.includes('--json');
const say = (s: string) => process.stdout.write(`${s}\n`);
const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
const gc = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

// ── corpus: the bench mix + brute force and spraying over SSH and Windows ──
const corpus = buildCorpus({ requests: 10, perRequest: 1000 });
const r = rng(11);
const T0 = 1_772_323_200n * SECOND_NS;
const auth: HostRecord[] = [];
for (let i = 0; i < 4000; i++) {
  const t = T0 + BigInt(i) * SECOND_NS;
  const ip = `203.0.113.${Math.floor(r() * 40)}`;
  if (i % 2 === 0) auth.push(sshdRecord(`web-${i % 17}`, t, `Failed password for ${r() < 0.5 ? 'root' : `user${Math.floor(r() * 30)}`} from ${ip} port ${1024 + i} ssh2`));
  else auth.push(failedLogon(`dc-${i % 3}`, t, `10.0.${Math.floor(r() * 4)}.${Math.floor(r() * 50)}`, `user${Math.floor(r() * 30)}`));
}
const authEvents: MappedEvent[] = [];
{
  const mapper = createRecordMapper({ mapping: loadLogsourceMapping() });
  for (let i = 0; i < auth.length; i += 500) authEvents.push(...mapper.map(decodeJsonDocument(exportRequest(auth.slice(i, i + 500))).records), ...mapper.flush());
}

// Records are needed to build detections: the bench mix is decoded and mapped again, with its records.
const withRecords: MappedEvent[] = [];
{
  const mapper = createRecordMapper({ mapping: loadLogsourceMapping() });
  withRecords.push(...mapper.map(corpus.requests.flatMap((b) => decodeProtobufRequest(b).records)), ...mapper.flush(), ...authEvents);
}
say(`events: ${withRecords.length} (${corpus.records} records of the bench mix, ${authEvents.length} sshd / 4625 failures)`);

const mapping = loadLogsourceMapping();
const load = (paths: string[]): { rs: Ruleset; ms: number } => {
  const t0 = performance.now();
  const rs = loadRuleset({ paths, mapping });
  return { rs, ms: performance.now() - t0 };
};

/**
 * What a worker and the main thread do per event: evaluate, build the detections of matches, split off
 * correlation inputs; then the correlation stage over each pass's inputs. Best of 5 windows of 3 s.
 */
function fullPathRate(rs: Ruleset, rates: number[]): { rps: number; inputs: number; fired: number; detections: number } {
  const plan = correlationPlan(rs.correlations);
  let inputsSeen = 0;
  let fired = 0;
  let detections = 0;
  let pass = 0;
  for (let w = 0; w < 5; w++) {
    const stage = CorrelationStage.open({ rules: rs.correlations, latenessMs: 120_000, maxGroups: 100_000, maxGroupsPerRule: 20_000, maxEventsPerGroup: 10_000, recentInputs: 100_000 }).stage;
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 3_000) {
      const inputs: CorrelationInput[] = [];
      const out: Detection[] = [];
      const now = Date.now();
      for (const { event, record } of withRecords) {
        const matches = rs.detector.evaluate(event);
        if (matches.length > 0) splitForCorrelation(plan, matches, event, record, now, 'stream', out, inputs);
      }
      detections += out.length;
      // Each pass is new traffic: shift the times so the stage does not take it for a replay.
      const shifted = inputs.map((i) => ({ ...i, timeNs: String(BigInt(i.timeNs) + BigInt(pass) * 100_000n * SECOND_NS), fingerprint: `${i.fingerprint}:${pass}` }));
      pass++;
      inputsSeen += shifted.length;
      if (shifted.length > 0) fired += stage.push(shifted, now).length;
      n += withRecords.length;
    }
    fired += stage.flush(Date.now()).length;
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  return { rps: Math.max(...rates), inputs: inputsSeen, fired, detections };
}

// The baseline ruleset lives only in this block, so it is collected before the next figure.
const { evalRate, baseRun } = (() => {
  const base = load(RULE_TREES);
  say(`SigmaHQ: ${base.rs.loaded} rules, compiled in ${base.ms.toFixed(0)} ms`);
  const evalW: number[] = [];
  const evalRate = engineRate(base.rs, withRecords.map((m) => m.event), 3_000, evalW);
  say(`engine alone (evaluate only), SigmaHQ: ${spread(evalW)} events/s`);
  const baseW: number[] = [];
  const baseRun = fullPathRate(base.rs, baseW);
  say(`evaluate + detections, SigmaHQ only: ${spread(baseW)} events/s (${k(baseRun.detections)} detections built)`);
  return { evalRate, baseRun };
})();
gc();
const withPack = load([...RULE_TREES, path.join(REPO_ROOT, 'rules')]);
say(`SigmaHQ + otel-sigma pack: ${withPack.rs.loaded} rules (${withPack.rs.correlations.length} correlations), compiled in ${withPack.ms.toFixed(0)} ms`);
const packW: number[] = [];
const packRun = fullPathRate(withPack.rs, packW);
const packRate = packRun.rps;
const baseRate = baseRun.rps;
say(`evaluate + detections + correlation stage, SigmaHQ + pack: ${spread(packW)} events/s (${k(packRun.inputs)} matches to the stage, ${packRun.fired} correlations fired); ${(packRate / baseRate).toFixed(2)}× the SigmaHQ-only rate`);

// ── 100,000 open groups ──
gc();
const heap0 = process.memoryUsage().heapUsed;
const stageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-corr-bench-'));
const big = CorrelationStage.open({ rules: withPack.rs.correlations, dir: stageDir, latenessMs: 120_000, maxGroups: 200_000, maxGroupsPerRule: 200_000, maxEventsPerGroup: 10_000, recentInputs: 100_000 }).stage;
const bruteForceBase = withPack.rs.correlations.find((c) => c.name === 'osg_sshd_brute_force')!.rules[0]!;
// Two correlations group the same failures by address: 50,000 addresses make 100,000 open groups.
const GROUPS = 50_000;
const t1 = performance.now();
const now = Date.now();
for (let round = 0; round < 3; round++) {
  const batch: CorrelationInput[] = [];
  for (let g = 0; g < GROUPS; g++) {
    const ip = `10.${(g >> 16) & 255}.${(g >> 8) & 255}.${g & 255}`;
    batch.push({ ruleId: bruteForceBase, timeNs: String(T0 + BigInt(round * 10 + (g % 7)) * SECOND_NS), fingerprint: `g${g}r${round}`, host: `web-${g % 50}`, fields: { src_ip: ip, user: `u${round}`, hostname: `web-${g % 50}`, auth_outcome: 'failure' } });
  }
  big.push(batch, now);
}
const pushMs = performance.now() - t1;
gc();
const heap1 = process.memoryUsage().heapUsed;
const stats = big.stats;
const t2 = performance.now();
await big.snapshot();
const snapMs = performance.now() - t2;
const snapBytes = fs.statSync(path.join(stageDir, 'state.json')).size;
await big.close();
fs.rmSync(stageDir, { recursive: true, force: true });
const perGroup = (heap1 - heap0) / stats.groups;
say(`stage with ${stats.groups} open groups (${stats.pendingEvents} matches held): heap +${((heap1 - heap0) / 2 ** 20).toFixed(0)} MB = ${perGroup.toFixed(0)} bytes per group (the input-dedup memory of 100,000 fingerprints included); ${k((3 * GROUPS) / (pushMs / 1000))} matches/s pushed; snapshot ${(snapBytes / 2 ** 20).toFixed(1)} MB in ${snapMs.toFixed(0)} ms`);

if (json) {
  say(JSON.stringify({
    rules: withPack.rs.loaded, correlations: withPack.rs.correlations.length,
    engine_eps: Math.round(evalRate), path_eps: Math.round(baseRate), path_with_pack_eps: Math.round(packRate), groups: stats.groups,
    bytes_per_group: Math.round(perGroup), snapshot_mb: +(snapBytes / 2 ** 20).toFixed(1), snapshot_ms: Math.round(snapMs),
  }));
}
