/**
 * A large request cut across idle workers (DetectPool.run) gives what the whole request gives on one
 * worker: the same detections (by fingerprint), records and routed counts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DetectPool } from '../../../src/detect/pool.ts';
import type { DetectResult, WorkerConfig } from '../../../src/detect/task.ts';
import { attackRequests } from '../../bench/lanes.ts';
import { SIGMA_DIR } from '../../bench/corpus.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';

const present = fs.existsSync(path.join(SIGMA_DIR, 'rules'));

describe('a request cut across idle workers' + (present ? '' : ' (skipped: ../shared/sigma not present)'), { skip: !present }, () => {
  const worker: WorkerConfig = {
    rulePaths: ['process_creation', 'process_access', 'registry', 'file', 'powershell', 'builtin/security'].map((d) => path.join(SIGMA_DIR, 'rules/windows', d)),
    mapping: loadLogsourceMapping(), placeholders: {}, select: {}, maxRequestBytes: 64 << 20,
  };
  let cut: DetectPool;
  let whole: DetectPool;
  before(async () => {
    cut = new DetectPool({ threads: 2, maxQueue: 8, worker });
    whole = new DetectPool({ threads: 2, maxQueue: 8, worker, splitMinBytes: Infinity });
    await Promise.all([cut.warmUp(), whole.warmUp()]);
  });
  after(async () => {
    await cut.close();
    await whole.close();
  });

  test('same detections, records and routed counts as the whole request', async () => {
    const lane = attackRequests('original', 2);
    for (let i = 0; i < lane.count; i++) {
      const body = lane.stamp(i, 1);
      assert.ok(body.byteLength >= 256 * 1024, `a request worth cutting (${body.byteLength} bytes)`);
      const task = (b: Uint8Array) => ({ body: new Uint8Array(b), format: 'protobuf' as const, encoding: 'identity' as const, receivedAtMs: Date.now() });
      const a = await cut.run(task(body));
      const b = await whole.run(task(body));
      const okA = a as Extract<DetectResult, { ok: true }>;
      const okB = b as Extract<DetectResult, { ok: true }>;
      assert.ok(okA.ok && okB.ok);
      assert.equal(okA.stats.records, okB.stats.records);
      assert.ok(okA.detections.length > 0, 'the attack recordings fire rules');
      assert.deepEqual(okA.detections.map((d) => d.fingerprint).sort(), okB.detections.map((d) => d.fingerprint).sort());
      assert.deepEqual(okA.routed, okB.routed);
    }
    assert.equal(cut.cutRequests, lane.count, 'every request was cut');
    assert.equal(whole.cutRequests, 0);
  });
});
