/**
 * The durable log on a disk that fills up (a 2 MiB tmpfs, root only): appends that fail are refused with a
 * retryable error, and every append that was acknowledged is readable, intact and in order after a reopen;
 * once records are consumed the log accepts appends again. Repeated, since a torn write depends on where
 * the disk runs out.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { isPipelineError } from '../../../src/errors.ts';
import { DurableLog } from '../../../src/wal/durable-log.ts';

const isRoot = process.getuid?.() === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-diskfull-'));
const mounts: string[] = [];
after(() => {
  for (const m of mounts) execFileSync('umount', [m]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const payload = (i: number): Buffer => {
  // 5-37 KiB, so the disk runs out inside a record as often as between two.
  const b = Buffer.alloc(5 * 1024 + ((i * 7919) % (32 * 1024)), i % 251);
  b.writeUInt32BE(i, 0);
  return b;
};

test('a full disk refuses appends as retryable and never loses an acknowledged one (5 runs)' + (isRoot ? '' : ' (skipped: needs root to mount a tmpfs)'), { skip: !isRoot, timeout: 120_000 }, async () => {
  for (let runNo = 0; runNo < 5; runNo++) {
    const dir = path.join(tmp, `run-${runNo}`);
    fs.mkdirSync(dir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
    mounts.push(dir);
    const logDir = path.join(dir, 'log');
    let log = new DurableLog({ dir: logDir, name: 'detections', maxBytes: 64 * 1024 * 1024, segmentBytes: 512 * 1024, whenFull: 'refuse' });
    const acked: number[] = [];
    let refused = 0;
    let i = 0;
    // Concurrent appends (group commits) until the disk has refused a good number of them.
    while (refused < 20 && i < 2_000) {
      const batch = Array.from({ length: 1 + (runNo % 4) }, () => i++);
      const results = await Promise.allSettled(batch.map((n) => log.append(payload(n)).then(() => n)));
      for (const r of results) {
        if (r.status === 'fulfilled') acked.push(r.value);
        else {
          refused++;
          assert.ok(isPipelineError(r.reason) && r.reason.retryable, `a refused append is retryable: ${String(r.reason)}`);
        }
      }
    }
    assert.ok(refused > 0 && acked.length > 10, `the disk filled (${acked.length} acked, ${refused} refused)`);
    await log.close();

    // Reopen on the still-full disk: every acknowledged record is there, intact, in order.
    log = new DurableLog({ dir: logDir, name: 'detections', maxBytes: 64 * 1024 * 1024, segmentBytes: 512 * 1024, whenFull: 'refuse' });
    const read = log.readAllSync();
    const ids = read.map((b) => b.readUInt32BE(0));
    const got = new Set(ids);
    const lost = acked.filter((n) => !got.has(n));
    assert.deepEqual(lost, [], `run ${runNo}: acknowledged records lost`);
    for (const b of read) assert.ok(b.equals(payload(b.readUInt32BE(0))), 'record intact');
    assert.ok(ids.every((n, k) => k === 0 || n > ids[k - 1]!), `run ${runNo}: records in append order, none twice`);

    // Consuming frees the disk: appends are accepted again.
    for (let batch = await log.peek(1_000, 64 * 1024 * 1024); batch; batch = await log.peek(1_000, 64 * 1024 * 1024)) await log.ack(batch);
    await log.append(payload(99_999));
    assert.equal(log.records, 1);
    await log.close();
  }
});
