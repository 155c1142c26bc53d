/**
 * Records for the collector end-to-end tests: copies of one SigmaHQ regression case's record that fires its
 * rule, each with its own time (so each is its own event and its own detection) and a chosen host.name.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadManifest, requestLines, ruleFilePath, type CorpusCase } from '../../helpers/corpus.ts';
import { otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../../bin/otel-sigma.js');
const BASE_NS = 1_760_000_000_000_000_000n;

type Doc = { resourceLogs: { resource?: { attributes: unknown[] }; scopeLogs: { logRecords: { timeUnixNano: string }[] }[] }[] };

export interface HitSource {
  readonly c: CorpusCase;
  /** Copies the case's rule into `dir` (the only rule otel-sigma runs). */
  writeRule(dir: string): void;
  /** One ExportLogsServiceRequest (protobuf) of records numbered first..first+n-1, on host `host`. */
  request(first: number, n: number, host: string): Uint8Array;
  /** timeUnixNano of record number i. */
  timeNs(i: number): string;
  /** The event_time (as `otel-sigma detections` prints it) of record number i. */
  eventTime(i: number): string;
}

export function hitSource(): HitSource {
  const c = loadManifest().find((k) => k.rule_file.includes('process_creation') && k.match_count === 1 && requestLines(k, 'signoz').length === 1)!;
  const doc = JSON.parse(requestLines(c, 'signoz')[0]!) as Doc;
  const hit = doc.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
  const timeOf = (i: number): bigint => BASE_NS + BigInt(i) * 1_000_003n;
  return {
    c,
    writeRule: (dir) => { fs.mkdirSync(dir, { recursive: true }); fs.copyFileSync(ruleFilePath(c), path.join(dir, 'rule.yml')); },
    request(first, n, host) {
      const d = structuredClone(doc);
      d.resourceLogs[0]!.resource = { attributes: [{ key: 'host.name', value: { stringValue: host } }] };
      d.resourceLogs[0]!.scopeLogs[0]!.logRecords = Array.from({ length: n }, (_, k) => ({ ...hit, timeUnixNano: String(timeOf(first + k)) }));
      return otlpJsonToProtobuf(d);
    },
    timeNs: (i) => String(timeOf(i)),
    eventTime(i) {
      const ns = timeOf(i);
      const d = new Date(Number(ns / 1_000_000n));
      return `${d.toISOString().slice(0, 19).replace('T', ' ')}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
    },
  };
}

export interface StoredDetection { rule_id: string; event_time: string; host: string }

/** Detections in a stopped otel-sigma's embedded ClickHouse. */
export async function storedDetections(dataDir: string): Promise<StoredDetection[]> {
  const { stdout } = await run(process.execPath, [BIN, 'detections', '--data-dir', dataDir, '--since', '36500d', '--limit', '1000000', '--json'], { maxBuffer: 1 << 30 });
  return stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as StoredDetection);
}

/** Counts how often each of `expected` occurs in `times`; returns the missing and the repeated ones. */
export function tally(expected: readonly string[], times: readonly string[]): { missing: string[]; repeated: string[]; extra: number } {
  const seen = new Map<string, number>();
  for (const t of times) seen.set(t, (seen.get(t) ?? 0) + 1);
  const want = new Set(expected);
  return {
    missing: expected.filter((t) => !seen.has(t)),
    repeated: expected.filter((t) => (seen.get(t) ?? 0) > 1),
    extra: times.filter((t) => !want.has(t)).length,
  };
}
