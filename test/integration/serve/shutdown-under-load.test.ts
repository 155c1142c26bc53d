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
import { hasCorpus } from '../../helpers/corpus.ts';
import { startServe } from '../../helpers/service-process.ts';
import { chTime, loadThenSignal, RETRYABLE, singleRecordCase } from './single-record-case.ts';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../../bin/otel-sigma.js');
const REQUESTS = 400;
const CONCURRENCY = 16;

describe('SIGTERM during load' + (hasCorpus ? '' : ' (skipped: ../shared/sigma regression corpus not present)'), { skip: !hasCorpus }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-sigterm-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('loses nothing that was acknowledged', async () => {
    const rulesDir = path.join(tmp, 'rules');
    const picked = singleRecordCase(rulesDir);
    assert.ok(picked, 'a single-record process_creation case exists');
    const { c } = picked;
    const base = 1_700_000_000_000_000_000n;
    const bodies = Array.from({ length: REQUESTS }, (_, i) => picked.request(base + BigInt(i) * 1_000_003n));

    const dataDir = path.join(tmp, 'data');
    const svc = await startServe(['--rules', rulesDir, '--data-dir', dataDir, '--workers', '2', '--max-queue', '8']);
    const { acked, refused, signalled: terminated } = await loadThenSignal(svc, bodies, CONCURRENCY, 'SIGTERM');
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
