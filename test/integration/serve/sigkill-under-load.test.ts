/**
 * SIGKILL while the collector is still sending, then a restart on the same data directory: every request
 * otel-sigma acknowledged (gRPC OK) has its detection in ClickHouse exactly once, whether it was inserted
 * before the kill or replayed from the detection log after it; nothing is stored twice.
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
import { httpGet } from '../../helpers/otlp-clients.ts';
import { startServe } from '../../helpers/service-process.ts';
import { chTime, loadThenSignal, RETRYABLE, singleRecordCase } from './single-record-case.ts';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../../bin/otel-sigma.js');
const REQUESTS = 400;
const CONCURRENCY = 4;

describe('SIGKILL during load, then a restart' + (hasCorpus ? '' : ' (skipped: ../shared/sigma regression corpus not present)'), { skip: !hasCorpus }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-sigkill-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('every acknowledged request is stored exactly once', async () => {
    const rulesDir = path.join(tmp, 'rules');
    const picked = singleRecordCase(rulesDir);
    assert.ok(picked, 'a single-record process_creation case exists');
    const { c } = picked;
    // Original-looking times months apart, as recordings replayed from an agent's backlog carry.
    const base = 1_650_000_000_000_000_000n;
    const timeOf = (i: number): bigint => base + BigInt(i) * 86_400_000_000_007n;
    const bodies = Array.from({ length: REQUESTS }, (_, i) => picked.request(timeOf(i)));

    const dataDir = path.join(tmp, 'data');
    const args = ['--rules', rulesDir, '--data-dir', dataDir, '--workers', '2'];
    const svc = await startServe(args);
    const { acked, refused, signalled: killed } = await loadThenSignal(svc, bodies, CONCURRENCY, 'SIGKILL');
    await svc.stop();
    assert.ok(killed && acked.length >= REQUESTS / 4 && acked.length < REQUESTS, `SIGKILL was sent during the load (${acked.length} acknowledged)`);
    for (const code of refused.keys()) assert.ok(RETRYABLE.has(code), `unacknowledged requests got a retryable status, not ${status[code]}`);

    // The restart replays what the log held; wait until it is inserted, then stop cleanly and read.
    const again = await startServe(args);
    const t0 = Date.now();
    for (;;) {
      const m = (await httpGet(again.http, '/metrics')).body.toString();
      if (/^otel_sigma_wal_records\{[^}]*log="detections"[^}]*\} 0$/m.test(m)) break;
      assert.ok(Date.now() - t0 < 60_000, 'the detection log drained after the restart');
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(await again.stop(), 0);

    const { stdout } = await run(process.execPath, [BIN, 'detections', '--data-dir', dataDir, '--since', '36500d', '--rule', c.rule_id, '--limit', '100000', '--json']);
    const counts = new Map<string, number>();
    for (const l of stdout.trim().split('\n').filter(Boolean)) {
      const t = String((JSON.parse(l) as { event_time: string }).event_time);
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    const missing = acked.filter((i) => !counts.has(chTime(timeOf(i))));
    assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged requests have no stored detection`);
    const twice = [...counts].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'no detection stored twice');
  });
});
