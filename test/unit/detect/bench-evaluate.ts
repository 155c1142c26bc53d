/**
 * Evaluation throughput of the full SigmaHQ ruleset on the regression corpus events (all three
 * OTLP shapes, mapped by the shipped mapper), with and without the candidate index.
 * Run: node test/unit/detect/bench-evaluate.ts [seconds]. Needs ../shared/sigma.
 * events/s per core is computed from the process's CPU time, so a busy machine skews it less.
 */
import path from 'node:path';
import { loadRuleset } from '../../../src/detect/ruleset.ts';
import type { SigmaDetector } from '../../../src/detect/rules/detector.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';
import { createRecordMapper } from '../../../src/map/map-records.ts';
import type { SigmaEvent } from '../../../src/map/types.ts';
import { loadManifest, caseRecords, hasCorpus, SHARED_SIGMA } from '../../helpers/corpus.ts';

if (!hasCorpus) {
  console.error('../shared/sigma/regression is missing');
  process.exit(1);
}
const seconds = Number(process.argv[2] ?? 3);
const mapping = loadLogsourceMapping();
const paths = ['rules', 'rules-emerging-threats', 'rules-threat-hunting', 'rules-placeholder'].map((d) => path.join(SHARED_SIGMA, d));

const mapper = createRecordMapper({ mapping });
const events: SigmaEvent[] = [];
for (const c of loadManifest()) for (const shape of c.shapes) for (const { event } of mapper.map(caseRecords(c, shape))) events.push(event);

for (const prefilter of [true, false]) {
  const t0 = performance.now();
  const rs = loadRuleset({ paths, mapping, prefilter });
  const loadMs = performance.now() - t0;
  const d = rs.detector as SigmaDetector;
  for (const e of events) d.evaluate(e); // warm-up
  d.ruleEvaluations = 0;
  let n = 0;
  let matches = 0;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  while (performance.now() - wall0 < seconds * 1000) {
    for (const e of events) matches += d.evaluate(e).length;
    n += events.length;
  }
  const wall = (performance.now() - wall0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  console.log(
    `prefilter=${prefilter}: ${rs.loaded} rules (load+compile ${loadMs.toFixed(0)} ms), ${events.length} corpus events: ` +
      `${(n / cpuS).toFixed(0)} events/s per CPU-second (${(n / wall).toFixed(0)} wall), ` +
      `${(d.ruleEvaluations / n).toFixed(1)} rule tests/event, ${(matches / n).toFixed(2)} matches/event`,
  );
}
