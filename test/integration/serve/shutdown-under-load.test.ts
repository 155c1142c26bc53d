/**
 * SIGTERM while the collector is still sending: every request otel-sigma acknowledged (gRPC OK) must have its
 * detection in ClickHouse after the process exits; requests it did not acknowledge got a status the
 * collector retries.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { hasCorpus, loadManifest, requestLines, ruleFilePath } from '../../helpers/corpus.ts';
import { sendGrpcExport } from '../../helpers/otlp-clients.ts';
import { otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';
import { startServe } from '../../helpers/service-process.ts';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../../bin/otel-sigma.js');
const REQUESTS = 400;
const CONCURRENCY = 16;
const RETRYABLE = new Set([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.CANCELLED, status.DEADLINE_EXCEEDED]);

/** event_time as the detections table prints it, from epoch nanoseconds. */
const chTime = (ns: bigint): string => {
  const d = new Date(Number(ns / 1_000_000n));
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
};

describe('SIGTERM during load' + (hasCorpus ? '' : ' (skipped: ../shared/sigma regression corpus not present)'), { skip: !hasCorpus }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-sigterm-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('loses nothing that was acknowledged', async () => {
    // One Sysmon process-creation case whose request holds exactly one record and fires its rule once.
    const c = loadManifest().find((k) => k.rule_file.includes('process_creation') && k.match_count === 1 && requestLines(k, 'signoz').length === 1
      && (JSON.parse(requestLines(k, 'signoz')[0]!) as { resourceLogs: { scopeLogs: { logRecords: unknown[] }[] }[] }).resourceLogs[0]!.scopeLogs[0]!.logRecords.length === 1)!;
    assert.ok(c, 'a single-record process_creation case exists');
    const rulesDir = path.join(tmp, 'rules');
    fs.mkdirSync(rulesDir);
    fs.copyFileSync(ruleFilePath(c), path.join(rulesDir, 'rule.yml'));
    const template = JSON.parse(requestLines(c, 'signoz')[0]!) as { resourceLogs: { scopeLogs: { logRecords: { timeUnixNano: string }[] }[] }[] };
    const base = 1_700_000_000_000_000_000n;
    const request = (i: number): Uint8Array => {
      template.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.timeUnixNano = String(base + BigInt(i) * 1_000_003n);
      return otlpJsonToProtobuf(template);
    };
    const bodies = Array.from({ length: REQUESTS }, (_, i) => request(i));

    const dataDir = path.join(tmp, 'data');
    const svc = await startServe(['--rules', rulesDir, '--data-dir', dataDir, '--workers', '2', '--max-queue', '8']);
    const acked: number[] = [];
    const refused = new Map<number, number>();
    let next = 0;
    let terminated = false;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < REQUESTS; i = next++) {
        if (!terminated && acked.length >= REQUESTS / 4) {
          terminated = true;
          svc.child.kill('SIGTERM');
        }
        const r = await sendGrpcExport(svc.grpc, bodies[i]!, { deadlineMs: 10_000 });
        if (r.code === status.OK) acked.push(i);
        else refused.set(r.code, (refused.get(r.code) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    assert.equal(await svc.stop(), 0, 'exit code after SIGTERM');
    assert.ok(terminated && acked.length >= REQUESTS / 4, `SIGTERM was sent during the load (${acked.length} acknowledged)`);
    for (const code of refused.keys()) assert.ok(RETRYABLE.has(code), `unacknowledged requests got a retryable status, not ${status[code]}`);

    const { stdout } = await run(process.execPath, [BIN, 'detections', '--data-dir', dataDir, '--since', '36500d', '--rule', c.rule_id, '--limit', '100000', '--json']);
    const stored = new Set(stdout.trim().split('\n').filter(Boolean).map((l) => String((JSON.parse(l) as { event_time: string }).event_time)));
    const missing = acked.filter((i) => !stored.has(chTime(base + BigInt(i) * 1_000_003n)));
    assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged requests have no stored detection`);
    assert.ok(stored.size <= REQUESTS);
  });
});
