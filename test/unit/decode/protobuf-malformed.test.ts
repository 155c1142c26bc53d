/** Broken, forged and hostile protobuf input must end in PipelineError(ERR_DECODE), never a crash or a wrong result. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import protobuf from 'protobufjs/minimal.js';
import { ErrorCode, isPipelineError } from '../../../src/errors.ts';
import { MAX_ANY_VALUE_DEPTH, decodeProtobufRequest } from '../../../src/decode/otlp-protobuf.ts';
import { otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';
import { anyString, nestArray, nestKvlist, requestWithBody } from './wire.ts';

const isDecodeError = (e: unknown): boolean => isPipelineError(e) && e.code === ErrorCode.DECODE && !e.retryable;

const sample = otlpJsonToProtobuf({
  resourceLogs: [{
    resource: { attributes: [{ key: 'host.name', value: { stringValue: 'h' } }] },
    scopeLogs: [{ scope: { name: 's' }, logRecords: [
      { timeUnixNano: '1', body: { stringValue: 'one' }, attributes: [{ key: 'n', value: { intValue: '5' } }] },
      { timeUnixNano: '2', body: { kvlistValue: { values: [{ key: 'k', value: { arrayValue: { values: [{ doubleValue: 2.5 }] } } }] } } },
    ] }],
  }],
});

void describe('protobuf decoder: malformed input', () => {
  void test('every truncation of a valid request is refused with ERR_DECODE', () => {
    for (let len = 1; len < sample.length; len++) {
      assert.throws(() => decodeProtobufRequest(sample.subarray(0, len)), isDecodeError, `prefix of ${len}/${sample.length} bytes`);
    }
    assert.equal(decodeProtobufRequest(sample).records.length, 2);
  });

  void test('a length prefix pointing past its parent is refused', () => {
    // resource_logs{ scope_logs(len 100) } with only 2 bytes of content
    const forged = Uint8Array.from([0x0a, 0x04, 0x12, 0x64, 0x0a, 0x00]);
    assert.throws(() => decodeProtobufRequest(forged), isDecodeError);
  });

  void test('invalid wire types and trailing garbage are refused', () => {
    assert.throws(() => decodeProtobufRequest(Uint8Array.from([0x0f])), isDecodeError); // wire type 7
    assert.throws(() => decodeProtobufRequest(Uint8Array.from([...sample, 0x0a])), isDecodeError);
  });

  void test('unknown fields are skipped (forward compatibility)', () => {
    const w = protobuf.Writer.create();
    w.uint32((99 << 3) | 0).uint64(12345); // unknown varint field at the top level
    w.uint32((98 << 3) | 2).bytes(Uint8Array.from([1, 2, 3]));
    const withUnknown = Uint8Array.from([...w.finish(), ...sample]);
    assert.deepEqual(decodeProtobufRequest(withUnknown), decodeProtobufRequest(sample));
  });

  void test('random bytes either decode or fail with ERR_DECODE (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeProtobufRequest(bytes);
        } catch (e) {
          assert.ok(isDecodeError(e), `unexpected ${String(e)}`);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  void test('bit flips in a valid request either decode or fail with ERR_DECODE (property)', () => {
    fc.assert(
      fc.property(fc.nat(sample.length - 1), fc.integer({ min: 1, max: 255 }), (i, mask) => {
        const b = Uint8Array.from(sample);
        b[i]! ^= mask;
        try {
          decodeProtobufRequest(b);
        } catch (e) {
          assert.ok(isDecodeError(e), `unexpected ${String(e)}`);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  void test('deeply nested groups (wire type 3) are refused, not a stack overflow crash', () => {
    const depth = 200_000;
    const bytes = new Uint8Array(depth * 2);
    bytes.fill(0x0b, 0, depth); // start group, field 1
    bytes.fill(0x0c, depth); // end group, field 1
    assert.throws(() => decodeProtobufRequest(bytes), isDecodeError);
  });
});

void describe('protobuf decoder: AnyValue depth limit', () => {
  for (const [name, nest] of [['kvlist', nestKvlist], ['array', nestArray]] as const) {
    void test(`${name} nesting up to ${MAX_ANY_VALUE_DEPTH} levels decodes, one more is refused`, () => {
      const ok = decodeProtobufRequest(requestWithBody(nest(anyString('x'), MAX_ANY_VALUE_DEPTH)));
      let v: unknown = ok.records[0]!.body;
      for (let i = 0; i < MAX_ANY_VALUE_DEPTH; i++) v = name === 'kvlist' ? (v as Record<string, unknown>)['k'] : (v as unknown[])[0];
      assert.equal(v, 'x');
      assert.throws(
        () => decodeProtobufRequest(requestWithBody(nest(anyString('x'), MAX_ANY_VALUE_DEPTH + 1))),
        (e: unknown) => isDecodeError(e) && /nested deeper than 64/.test((e as Error).message),
      );
    });
  }

  void test('3,000 levels are refused at the limit, without walking the rest', () => {
    const deep = requestWithBody(nestArray(anyString('x'), 3_000));
    const t0 = performance.now();
    assert.throws(() => decodeProtobufRequest(deep), isDecodeError);
    assert.ok(performance.now() - t0 < 500, `${performance.now() - t0} ms`);
  });
});
