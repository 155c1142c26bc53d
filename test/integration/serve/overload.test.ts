/**
 * Overload: the collector sends far more than otel-sigma can evaluate, for 60 s. otel-sigma must push back
 * with statuses the collector retries, keep its memory under the configured ceiling, and evaluate and store
 * everything it acknowledged.
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
const DURATION_MS = Number(process.env['SIGMA_TEST_OVERLOAD_MS'] ?? 60_000);
const CONCURRENCY = 48;
const RECORDS_PER_REQUEST = 200;
const MEMORY_LIMIT_MIB = 1536;
const RETRYABLE = new Set([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED]);

const chTime = (ns: bigint): string => {
  const d = new Date(Number(ns / 1_000_000n));
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
};

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

describe(`overload for ${DURATION_MS / 1000} s` + (hasCorpus ? '' : ' (skipped: ../shared/sigma regression corpus not present)'), { skip: !hasCorpus }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-overload-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('memory stays under the ceiling, pushback is retryable, every acknowledged record is evaluated and stored', async () => {
    const c = loadManifest().find((k) => k.rule_file.includes('process_creation') && k.match_count === 1 && requestLines(k, 'signoz').length === 1)!;
    const rulesDir = path.join(tmp, 'rules');
    fs.mkdirSync(rulesDir);
    fs.copyFileSync(ruleFilePath(c), path.join(rulesDir, 'rule.yml'));
    // Each request: one record that fires the rule (unique time = request number) and benign copies that do not.
    type Rec = { timeUnixNano: string; body?: unknown };
    const doc = JSON.parse(requestLines(c, 'signoz')[0]!) as { resourceLogs: { scopeLogs: { logRecords: Rec[] }[] }[] };
    const hit = doc.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    // Benign copies: every EventData value replaced by an ordinary one (the rule must not fire on them).
    const benign = JSON.parse(JSON.stringify(hit)) as Rec & { body: { kvlistValue: { values: { key: string; value: { kvlistValue?: { values: { key: string; value: { arrayValue?: { values: { kvlistValue: { values: { key: string; value: { stringValue: string } }[] } }[] } } }[] } } }[] } } };
    for (const kv of benign.body.kvlistValue.values) {
      if (kv.key !== 'event_data') continue;
      for (const item of kv.value.kvlistValue?.values.find((d) => d.key === 'data')?.value.arrayValue?.values ?? []) {
        for (const field of item.kvlistValue.values) field.value = { stringValue: field.key.endsWith('Image') ? 'C:\\Windows\\System32\\notepad.exe' : 'notepad' };
      }
    }
    const base = 1_710_000_000_000_000_000n;
    const request = (i: number): Uint8Array => {
      const logRecords: Rec[] = [{ ...hit, timeUnixNano: String(base + BigInt(i) * 1_000_003n) }];
      for (let k = 1; k < RECORDS_PER_REQUEST; k++) logRecords.push({ ...benign, timeUnixNano: String(base + BigInt(i) * 1_000_003n + BigInt(k)) });
      doc.resourceLogs[0]!.scopeLogs[0]!.logRecords = logRecords;
      return otlpJsonToProtobuf(doc);
    };

    const dataDir = path.join(tmp, 'data');
    const svc = await startServe(['--rules', rulesDir, '--data-dir', dataDir, '--workers', '2', '--max-queue', '8', '--memory-limit-mib', String(MEMORY_LIMIT_MIB)]);
    const pid = svc.child.pid!;
    let maxRss = rssMiB(pid);
    const sampler = setInterval(() => { maxRss = Math.max(maxRss, rssMiB(pid)); }, 200);
    const acked: number[] = [];
    const refused = new Map<number, number>();
    let next = 0;
    const deadline = Date.now() + DURATION_MS;
    const sender = async (): Promise<void> => {
      while (Date.now() < deadline) {
        const i = next++;
        const r = await sendGrpcExport(svc.grpc, request(i), { deadlineMs: 30_000 });
        if (r.code === status.OK) acked.push(i);
        else refused.set(r.code, (refused.get(r.code) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, sender));
    clearInterval(sampler);
    const metrics = await (await fetch(`http://${svc.http}/metrics`)).text();
    assert.equal(await svc.stop(), 0);

    const pushedBack = [...refused.values()].reduce((a, b) => a + b, 0);
    console.log(`overload: ${next} requests sent, ${acked.length} acknowledged (${acked.length * RECORDS_PER_REQUEST} records), ${pushedBack} pushed back ${JSON.stringify(Object.fromEntries([...refused].map(([k, v]) => [status[k], v])))}, max RSS ${maxRss.toFixed(0)} MiB`);
    assert.ok(pushedBack > 0, 'the service was really overloaded (it pushed back)');
    for (const code of refused.keys()) assert.ok(RETRYABLE.has(code), `pushback must be retryable, got ${status[code]}`);
    assert.ok(maxRss < MEMORY_LIMIT_MIB, `max RSS ${maxRss.toFixed(0)} MiB exceeds the ${MEMORY_LIMIT_MIB} MiB ceiling`);
    const processed = Number(/^otel_sigma_records_processed_total (\d+)/m.exec(metrics)?.[1] ?? 0);
    assert.ok(processed >= acked.length * RECORDS_PER_REQUEST, `processed ${processed} < acknowledged ${acked.length * RECORDS_PER_REQUEST}`);

    const { stdout } = await run(process.execPath, [BIN, 'detections', '--data-dir', dataDir, '--since', '36500d', '--rule', c.rule_id, '--limit', '1000000', '--json'], { maxBuffer: 1 << 30 });
    assert.ok(stdout.split('\n').length <= next + 1, 'only the one marked record per request fires');
    const stored = new Set(stdout.trim().split('\n').filter(Boolean).map((l) => String((JSON.parse(l) as { event_time: string }).event_time)));
    const missing = acked.filter((i) => !stored.has(chTime(base + BigInt(i) * 1_000_003n)));
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${acked.length} acknowledged requests have no stored detection`);
  });
});
