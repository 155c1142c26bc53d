/**
 * `otel-sigma eval --rules DIR... FILE...`: the stream's decode → map → detect path, in-process, over
 * OTLP request files. Prints one JSON detection per line; problems go to stderr.
 */
import fs from 'node:fs';
import { loadConfig } from '../config/load.ts';
import { decodeJsonDocument } from '../decode/otlp-json.ts';
import { decodeProtobufRequest } from '../decode/otlp-protobuf.ts';
import type { LogRecordView } from '../decode/types.ts';
import { correlationPlan } from '../detect/correlation-plan.ts';
import type { CorrelationInput } from '../detect/correlation/types.ts';
import type { Detection } from '../detect/detection.ts';
import { splitForCorrelation } from '../detect/run-task.ts';
import { CorrelationStage } from '../correlate/stage.ts';
import { createRecordMapper } from '../map/map-records.ts';
import { mappingFromConfig, rulesetFromConfig } from '../config/from-config.ts';
import { assertRulePaths } from '../config/rule-paths.ts';

export async function runEval(files: readonly string[], configFile: string | undefined, flags: Record<string, string | string[] | undefined>): Promise<number> {
  const cfg = loadConfig({ file: configFile, env: process.env, flags });
  assertRulePaths(cfg.rules.paths);
  // One mapping for the rules and the record mapper: its product rules name appliance events as serve's workers do.
  const mapping = mappingFromConfig(cfg);
  const rs = rulesetFromConfig(cfg, mapping);
  for (const p of rs.problems) if (p.severity === 'error') process.stderr.write(`rule error: ${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.reason}\n`);
  process.stderr.write(`${rs.loaded} rules loaded, ${rs.rejected} rejected\n`);
  const plan = correlationPlan(rs.correlations);
  const { stage } = CorrelationStage.open({
    rules: rs.correlations,
    latenessMs: cfg.correlation.lateness_ms,
    maxGroups: cfg.correlation.max_groups,
    maxGroupsPerRule: cfg.correlation.max_groups_per_rule,
    maxEventsPerGroup: cfg.correlation.max_events_per_group,
  });
  let failed = 0;
  const out: string[] = [];
  const print = (input: string, ds: readonly Detection[]) => {
    for (const d of ds) out.push(JSON.stringify(evalLine(input, d)));
  };
  for (const file of files) {
    let records: LogRecordView[];
    try {
      records = readRequests(file);
    } catch (err) {
      process.stderr.write(`${file}: ${(err as Error).message}\n`);
      failed++;
      continue;
    }
    const mapper = createRecordMapper({ mapping });
    const now = Date.now();
    const inputs: CorrelationInput[] = [];
    for (const { event, record } of [...mapper.map(records), ...mapper.flush()]) {
      const detections: Detection[] = [];
      splitForCorrelation(plan, rs.detector.evaluate(event), event, record, now, 'stream', detections, inputs);
      print(file, detections);
      if (out.length >= 1000) await flush(out);
    }
    // Correlations see one file's matches as one request; windows close in event time, not file order.
    print(file, stage.push(inputs, now));
  }
  print(files.at(-1) ?? '', stage.flush(Date.now()));
  await flush(out);
  return failed > 0 ? 1 : 0;
}

/** One `eval` output line; correlations add `correlation` (group, window in event time, value, contributing fingerprints). */
function evalLine(input: string, d: Detection): Record<string, unknown> {
  const line: Record<string, unknown> = {
    input,
    rule_id: d.ruleId,
    rule_title: d.ruleTitle,
    rule_level: d.ruleLevel,
    timestamp: nsToIso(d.eventTimeNs),
    host: d.host,
    logsource: { product: d.product, category: d.category, service: d.service },
    matched: d.matched,
  };
  const c = d.correlation;
  if (c) {
    line['correlation'] = {
      type: c.type,
      group: c.group,
      window_start: nsToIso(c.windowStartNs),
      window_end: nsToIso(c.windowEndNs),
      value: c.value,
      contributing: c.contributing,
    };
    line['fingerprint'] = d.fingerprint;
  }
  return line;
}

/** OTLP/JSON (one request per line, or one document) or protobuf (.pb). */
export function readRequests(file: string): LogRecordView[] {
  const buf = fs.readFileSync(file);
  if (file.endsWith('.pb') || file.endsWith('.binpb')) return decodeProtobufRequest(buf).records;
  const text = buf.toString('utf8');
  try {
    return decodeJsonDocument(JSON.parse(text)).records;
  } catch (whole) {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length <= 1) throw whole;
    return lines.flatMap((l, i) => {
      try {
        return decodeJsonDocument(JSON.parse(l)).records;
      } catch (err) {
        throw new Error(`line ${i + 1}: ${(err as Error).message}`, { cause: err });
      }
    });
  }
}

function nsToIso(ns: string): string {
  const ms = Number(BigInt(ns) / 1_000_000n);
  return new Date(ms).toISOString();
}

async function flush(lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  const chunk = `${lines.join('\n')}\n`;
  lines.length = 0;
  if (!process.stdout.write(chunk)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
}
