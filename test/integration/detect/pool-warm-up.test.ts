/**
 * DetectPool.warmUp({ first: true }) (hunt's start): it resolves once one worker has compiled, and the
 * tasks given right away, while the other worker is still compiling, all come back right: the same
 * detections as a pool that waited for every worker.
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

describe('a pool that starts work when its first worker is ready' + (present ? '' : ' (skipped: ../shared/sigma not present)'), { skip: !present }, () => {
  const worker: WorkerConfig = {
    rulePaths: ['process_creation', 'builtin/security'].map((d) => path.join(SIGMA_DIR, 'rules/windows', d)),
    mapping: loadLogsourceMapping(), placeholders: {}, select: {}, maxRequestBytes: 64 << 20,
  };
  let early: DetectPool;
  let full: DetectPool;
  before(() => {
    early = new DetectPool({ threads: 2, maxQueue: 8, worker, splitMinBytes: Infinity });
    full = new DetectPool({ threads: 2, maxQueue: 8, worker, splitMinBytes: Infinity });
  });
  after(async () => {
    await early.close();
    await full.close();
  });

  test('closed right after the first worker is ready (a hunt that fails at once): close stops the workers still compiling and does not throw', { timeout: 20_000 }, async () => {
    const pool = new DetectPool({ threads: 2, maxQueue: 8, worker, splitMinBytes: Infinity });
    await pool.warmUp({ first: true });
    await pool.close();
  });

  test('tasks given at once after the first worker is ready give what a fully warmed pool gives', async () => {
    const summary = await early.warmUp({ first: true });
    assert.ok(summary.loaded > 100, `${summary.loaded} rules`);
    const lane = attackRequests('original', 4);
    const task = (i: number) => ({ body: new Uint8Array(lane.stamp(i, 1)), format: 'protobuf' as const, encoding: 'identity' as const, receivedAtMs: Date.now() });
    // Every request at once: some wait for the ready worker, some may land on the one that joins later.
    const got = await Promise.all(Array.from({ length: lane.count }, (_, i) => early.run(task(i))));
    await full.warmUp();
    for (const [i, r] of got.entries()) {
      const want = await full.run(task(i));
      const a = r as Extract<DetectResult, { ok: true }>;
      const b = want as Extract<DetectResult, { ok: true }>;
      assert.ok(a.ok && b.ok, `request ${i}: ${JSON.stringify(r).slice(0, 200)}`);
      assert.ok(a.detections.length > 0, 'the attack recordings fire rules');
      assert.deepEqual(a.detections.map((d) => d.fingerprint).sort(), b.detections.map((d) => d.fingerprint).sort(), `request ${i}`);
    }
  });
});
