/** The memory limiter: admission by bytes in flight and RSS, and a sampler that survives EMFILE. */
import { describe, test } from 'node:test';
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
    assert.equal(limiter.admit(64 * 1024, false), undefined, 'over the in-flight share while one is running (and too large for the small requests\' reserve)');
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

void describe('admission after a large request (issue 17 item 7): decoded bytes in flight, RSS only scales the budget', () => {
  const MIB = 1024 * 1024;
  const LIMIT = 2048 * MIB;
  const settle = () => new Promise((r) => setTimeout(r, 25));

  void test('RSS left high (90 % of the limit) by a finished 5 MB request: 16 healthy concurrent requests are all admitted', async () => {
    let rss = 600 * MIB;
    const limiter = startMemoryLimiter(LIMIT, 5, undefined, undefined, () => rss);
    try {
      const big = limiter.admit(5.4 * MIB, false);
      assert.ok(big);
      rss = 0.9 * LIMIT; // what the big request leaves behind, for minutes: V8 and malloc keep the pages
      await settle();
      big();
      const healthy = Array.from({ length: 16 }, () => limiter.admit(64 * 1024, true));
      assert.equal(healthy.filter((r) => r !== undefined).length, 16, 'every one admitted (the old RSS gate admitted one at a time: 14 of 16 got 429)');
      for (const r of healthy) r?.();
      assert.equal(limiter.inflightBytes, 0);
    } finally {
      limiter.stop();
    }
  });

  void test('the budget shrinks with the headroom RSS leaves, to one large request at a time at the ceiling, and recovers with the next sample', async () => {
    let rss = 0.5 * LIMIT;
    const limiter = startMemoryLimiter(LIMIT, 5, undefined, undefined, () => rss);
    try {
      const admitted = (bytes: number): number => {
        const rs: (() => void)[] = [];
        for (let r = limiter.admit(bytes, false); r !== undefined && rs.length < 1000; r = limiter.admit(bytes, false)) rs.push(r);
        for (const r of rs) r();
        return rs.length;
      };
      assert.equal(admitted(16 * MIB), 32, 'below the soft limit: a quarter of the ceiling (512 MiB) in flight');
      rss = 0.95 * LIMIT;
      await settle();
      assert.equal(admitted(16 * MIB), 8, 'at 95 %: a quarter of that budget left');
      rss = 1.05 * LIMIT;
      await settle();
      assert.equal(admitted(4 * MIB), 1, 'over the ceiling: one large request at a time');
      rss = 0.7 * LIMIT;
      await settle();
      assert.equal(admitted(16 * MIB), 32, 'back under the soft limit: the whole budget again, at the next sample');
    } finally {
      limiter.stop();
    }
  });

  void test('over the ceiling, with a 52 MB request holding the memory, small requests still get their reserve (1 % of the limit), large ones do not', async () => {
    let rss = 0.5 * LIMIT;
    const limiter = startMemoryLimiter(LIMIT, 5, undefined, undefined, () => rss);
    try {
      const hostile = limiter.admit(52 * MIB, false);
      assert.ok(hostile, 'alone, it is admitted');
      rss = 1.1 * LIMIT;
      await settle();
      assert.equal(limiter.admit(4 * MIB, false), undefined, 'a large request waits');
      const small: (() => void)[] = [];
      for (let r = limiter.admit(256 * 1024, true); r !== undefined && small.length < 1000; r = limiter.admit(256 * 1024, true)) small.push(r);
      assert.equal(small.length, Math.floor((0.01 * LIMIT) / (1024 * 1024)), 'compressed 256 KB batches (1 MiB decoded) fill the 20 MiB reserve, no more');
      small.pop()!();
      assert.ok(limiter.admit(256 * 1024, true), 'a released one makes room for the next');
      hostile();
      for (const r of small) r();
    } finally {
      limiter.stop();
    }
  });
});
