/**
 * `otel-sigma eval --rules DIR... FILE...`: the stream's decode → map → detect path, in-process, over
 * OTLP request files. Prints one JSON detection per line; problems go to stderr.
 */
import fs from 'node:fs';
import { loadConfig } from '../config/load.ts';
import { decodeJsonDocument } from '../decode/otlp-json.ts';
import { decodeProtobufRequest } from '../decode/otlp-protobuf.ts';
import type { LogRecordView } from '../decode/types.ts';
import { buildDetections } from '../detect/build-detection.ts';
import { createRecordMapper } from '../map/map-records.ts';
import { rulesetFromConfig } from '../config/from-config.ts';
import { assertRulePaths } from '../config/rule-paths.ts';

export async function runEval(files: readonly string[], configFile: string | undefined, flags: Record<string, string | string[] | undefined>): Promise<number> {
  const cfg = loadConfig({ file: configFile, env: process.env, flags });
  assertRulePaths(cfg.rules.paths);
  const rs = rulesetFromConfig(cfg);
  for (const p of rs.problems) if (p.severity === 'error') process.stderr.write(`rule error: ${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.reason}\n`);
  process.stderr.write(`${rs.loaded} rules loaded, ${rs.rejected} rejected\n`);
  let failed = 0;
  const out: string[] = [];
  for (const file of files) {
    let records: LogRecordView[];
    try {
      records = readRequests(file);
    } catch (err) {
      process.stderr.write(`${file}: ${(err as Error).message}\n`);
      failed++;
      continue;
    }
    const mapper = createRecordMapper();
    const now = Date.now();
    for (const { event, record } of [...mapper.map(records), ...mapper.flush()]) {
      for (const d of buildDetections(rs.detector.evaluate(event), event, record, now, 'stream')) {
        out.push(JSON.stringify({
          input: file,
          rule_id: d.ruleId,
          rule_title: d.ruleTitle,
          rule_level: d.ruleLevel,
          timestamp: nsToIso(d.eventTimeNs),
          host: d.host,
          logsource: { product: d.product, category: d.category, service: d.service },
          matched: d.matched,
        }));
        if (out.length >= 1000) await flush(out);
      }
    }
  }
  await flush(out);
  return failed > 0 ? 1 : 0;
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
