import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../src/errors.ts';
import { mergeResults } from '../../../src/detect/merge-results.ts';
import type { DetectResult } from '../../../src/detect/task.ts';
import type { Detection } from '../../../src/detect/detection.ts';

const ok = (n: number, extra: Partial<Extract<DetectResult, { ok: true }>> = {}): DetectResult => ({
  ok: true, rejected: n, errorMessage: n ? `${n} bad` : '', detections: Array.from({ length: n }, (_, i) => ({ fingerprint: `f${n}-${i}` }) as unknown as Detection),
  correlationInputs: [], stats: { records: 10 * n, events: 9 * n, ruleEvaluations: 100 * n, evalErrors: n, detectionsDropped: 0 }, ...extra,
});

void test('parts add up: detections in order, counts summed, routed merged, messages joined', () => {
  const m = mergeResults([ok(1, { routed: { 'windows//security': 3 } }), ok(2, { routed: { 'windows//security': 1, 'linux//auth': 2 } })]);
  assert.ok(m.ok);
  assert.deepEqual(m.detections.map((d) => d.fingerprint), ['f1-0', 'f2-0', 'f2-1']);
  assert.equal(m.rejected, 3);
  assert.equal(m.errorMessage, '1 bad; 2 bad');
  assert.deepEqual(m.stats, { records: 30, events: 27, ruleEvaluations: 300, evalErrors: 3, detectionsDropped: 0 });
  assert.deepEqual(m.routed, { 'windows//security': 4, 'linux//auth': 2 });
});

void test('a failed part fails the whole; a malformed part before a retryable one', () => {
  const retry: DetectResult = { ok: false, code: ErrorCode.WORKER, message: 'worker died', retryable: true };
  const bad: DetectResult = { ok: false, code: ErrorCode.DECODE, message: 'bad bytes', retryable: false };
  assert.equal(mergeResults([ok(1), retry]), retry);
  assert.equal(mergeResults([retry, ok(1), bad]), bad);
});
