/** The memory limiter: admission by bytes in flight and RSS, and a sampler that survives EMFILE. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMemoryLimiter } from '../../../src/telemetry/memory-limiter.ts';

void test('an RSS sample that fails with EMFILE (no file descriptor left) is counted and skipped, never thrown', async () => {
  const real = process.memoryUsage.rss.bind(process.memoryUsage);
  let calls = 0;
  process.memoryUsage.rss = () => {
    calls++;
    if (calls === 1) return real();
    throw Object.assign(new Error('EMFILE: too many open files, uv_resident_set_memory'), { code: 'EMFILE' });
  };
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  const limiter = startMemoryLimiter(1024 ** 3, 5);
  try {
    await new Promise((r) => setTimeout(r, 60));
    assert.ok(calls > 3, `the sampler ran (${calls})`);
    assert.deepEqual(uncaught, []);
    const release = limiter.admit(1024, false);
    assert.ok(release, 'still admitting on the last good reading');
    release();
  } finally {
    limiter.stop();
    process.memoryUsage.rss = real;
    process.off('uncaughtException', onUncaught);
  }
});

void test('requests are admitted up to a quarter of the ceiling in flight; one is always admitted', () => {
  const limiter = startMemoryLimiter(4 * 1024 * 1024, 1_000);
  try {
    const first = limiter.admit(2 * 1024 * 1024, false);
    assert.ok(first, 'the only request is admitted even past the share');
    assert.equal(limiter.admit(1024, false), undefined, 'over the in-flight share while one is running');
    first();
    assert.ok(limiter.admit(512 * 1024, false));
  } finally {
    limiter.stop();
  }
});

void test('a main-thread heap past 95 % of its limit calls onHeapExhausted once (the service exits instead of hanging)', async () => {
  let used = 100;
  const calls: [number, number][] = [];
  const limiter = startMemoryLimiter(0, 5, (u, l) => calls.push([u, l]), () => ({ used_heap_size: used, heap_size_limit: 1000 }));
  try {
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(calls, [], 'below the mark');
    used = 960;
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(calls, [[960, 1000]], 'once, with the figures');
  } finally {
    limiter.stop();
  }
});
