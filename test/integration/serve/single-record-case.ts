/**
 * For the stop-under-load tests: one Sysmon process-creation case of the regression corpus whose request
 * holds exactly one record and fires its rule once, copied as the only rule, and that request re-stamped
 * with any record time; load that signals serve part-way; how the detections table prints a time, and what a
 * collector retries.
 */
import fs from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { loadManifest, requestLines, ruleFilePath, type CorpusCase } from '../../helpers/corpus.ts';
import { sendGrpcExport } from '../../helpers/otlp-clients.ts';
import { otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';
import type { ServiceProcess } from '../../helpers/service-process.ts';

export const RETRYABLE: ReadonlySet<status> = new Set([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.CANCELLED, status.DEADLINE_EXCEEDED]);

/** event_time as the detections table prints it, from epoch nanoseconds. */
export const chTime = (ns: bigint): string => {
  const d = new Date(Number(ns / 1_000_000n));
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
};

type Request = { resourceLogs: { scopeLogs: { logRecords: { timeUnixNano: string }[] }[] }[] };

/** The case (undefined when the corpus has none), with its rule written into `rulesDir`. */
export function singleRecordCase(rulesDir: string): { c: CorpusCase; request(timeNs: bigint): Uint8Array } | undefined {
  const c = loadManifest().find((k) => k.rule_file.includes('process_creation') && k.match_count === 1 && requestLines(k, 'signoz').length === 1
    && (JSON.parse(requestLines(k, 'signoz')[0]!) as Request).resourceLogs[0]!.scopeLogs[0]!.logRecords.length === 1);
  if (c === undefined) return undefined;
  fs.mkdirSync(rulesDir, { recursive: true });
  fs.copyFileSync(ruleFilePath(c), path.join(rulesDir, 'rule.yml'));
  const template = JSON.parse(requestLines(c, 'signoz')[0]!) as Request;
  return {
    c,
    request(timeNs) {
      template.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.timeUnixNano = String(timeNs);
      return otlpJsonToProtobuf(template);
    },
  };
}

/**
 * Sends `bodies` over gRPC, `concurrency` at a time, and sends `signal` to serve once a quarter of them
 * are acknowledged: which were acknowledged, and the statuses of the others.
 */
export async function loadThenSignal(svc: ServiceProcess, bodies: readonly Uint8Array[], concurrency: number, signal: NodeJS.Signals): Promise<{ acked: number[]; refused: Map<status, number>; signalled: boolean }> {
  const acked: number[] = [];
  const refused = new Map<status, number>();
  let next = 0;
  let signalled = false;
  const client = async (): Promise<void> => {
    for (let i = next++; i < bodies.length; i = next++) {
      if (!signalled && acked.length >= bodies.length / 4) {
        signalled = true;
        svc.child.kill(signal);
      }
      const r = await sendGrpcExport(svc.grpc, bodies[i]!, { deadlineMs: 10_000 });
      if (r.code === status.OK) acked.push(i);
      else refused.set(r.code, (refused.get(r.code) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return { acked, refused, signalled };
}
