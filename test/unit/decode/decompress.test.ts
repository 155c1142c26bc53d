/** Bounded decompression: bombs stop at the cap with ERR_TOO_LARGE, corrupt data is ERR_DECOMPRESS. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { decompress } from '../../../src/decode/decompress.ts';
import { decodeExport } from '../../../src/decode/export-request.ts';
import { ErrorCode, isPipelineError } from '../../../src/errors.ts';

const code = (c: string) => (e: unknown): boolean => isPipelineError(e) && e.code === c && !e.retryable;

void describe('decompress', () => {
  const payload = Buffer.from('{"resourceLogs":[]}'.repeat(100));

  void test('gzip, deflate (zlib) and identity round-trip', () => {
    assert.ok(Buffer.from(decompress(gzipSync(payload), 'gzip', 1 << 20)).equals(payload));
    assert.ok(Buffer.from(decompress(deflateSync(payload), 'deflate', 1 << 20)).equals(payload));
    assert.equal(decompress(payload, 'identity', 1), payload);
  });

  void test('gzip bomb: 64 MiB of zeros in ~64 KiB is stopped at the cap', () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    assert.ok(bomb.length < 128 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    assert.throws(() => decompress(bomb, 'gzip', 1024 * 1024), code(ErrorCode.TOO_LARGE));
    assert.ok(performance.now() - t0 < 2_000);
    assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 1024 * 1024);
    assert.throws(() => decompress(deflateSync(Buffer.alloc(4 * 1024 * 1024)), 'deflate', 1024 * 1024), code(ErrorCode.TOO_LARGE));
  });

  void test('exactly at the cap is accepted', () => {
    const exact = Buffer.alloc(4096, 0x61);
    assert.equal(decompress(gzipSync(exact), 'gzip', 4096).length, 4096);
    assert.throws(() => decompress(gzipSync(exact), 'gzip', 4095), code(ErrorCode.TOO_LARGE));
  });

  void test('corrupt or mislabelled data → ERR_DECOMPRESS', () => {
    assert.throws(() => decompress(Buffer.from('plain text'), 'gzip', 1 << 20), code(ErrorCode.DECOMPRESS));
    assert.throws(() => decompress(gzipSync(payload).subarray(0, 20), 'gzip', 1 << 20), code(ErrorCode.DECOMPRESS));
    assert.throws(() => decompress(deflateRawSync(payload), 'deflate', 1 << 20), code(ErrorCode.DECOMPRESS));
  });

  void test('decodeExport applies the cap before decoding', () => {
    const bomb = gzipSync(Buffer.alloc(2 * 1024 * 1024, 0x20));
    assert.throws(() => decodeExport({ body: bomb, format: 'json', encoding: 'gzip' }, 1024 * 1024), code(ErrorCode.TOO_LARGE));
    assert.deepEqual(decodeExport({ body: gzipSync(Buffer.from('{}')), format: 'json', encoding: 'gzip' }, 1024), { records: [] });
  });
});
