/** Broken, forged and hostile protobuf input must end in PipelineError(ERR_DECODE), never a crash or a wrong result. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import protobuf from 'protobufjs/minimal.js';
import { status as grpcStatus } from '@grpc/grpc-js';
import { ErrorCode, isPipelineError } from '../../../src/errors.ts';
import { toGrpcStatus, toHttpStatus } from '../../../src/receive/wire-status.ts';
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

/** One LogRecord's bytes in a whole request (hand-built, so string fields can hold any bytes). */
function requestWithRecord(record: Uint8Array, scope?: Uint8Array): Uint8Array {
  const sl = protobuf.Writer.create();
  if (scope !== undefined) sl.uint32((1 << 3) | 2).bytes(scope);
  sl.uint32((2 << 3) | 2).bytes(record);
  const rl = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(sl.finish()).finish();
  return protobuf.Writer.create().uint32((1 << 3) | 2).bytes(rl).finish();
}
const lenField = (n: number, bytes: Uint8Array): Uint8Array => protobuf.Writer.create().uint32((n << 3) | 2).bytes(bytes).finish();
const kv = (key: Uint8Array, value: Uint8Array): Uint8Array => lenField(6, Uint8Array.from([...lenField(1, key), ...lenField(2, value)]));
const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');

void describe('protobuf decoder: string fields must be UTF-8 (README: invalid UTF-8 is INVALID_ARGUMENT / 400)', () => {
  const BAD: [string, Uint8Array][] = [
    ['a lone continuation byte', Uint8Array.from([0x61, 0x80, 0x62])],
    ['a truncated sequence', Uint8Array.from([0x61, 0xe2, 0x82])],
    ['an overlong encoding of "/"', Uint8Array.from([0xc0, 0xaf])],
    ['an encoded UTF-16 surrogate', Uint8Array.from([0xed, 0xa0, 0x80])],
    ['a byte never valid in UTF-8', Uint8Array.from([0x41, 0xff])],
  ];
  const FIELDS: [string, (s: Uint8Array) => Uint8Array][] = [
    ['AnyValue.string_value', (s) => requestWithRecord(lenField(5, lenField(1, s)))],
    ['KeyValue.key', (s) => requestWithRecord(kv(s, lenField(1, utf8('v'))))],
    ['LogRecord.severity_text', (s) => requestWithRecord(lenField(3, s))],
    ['LogRecord.event_name', (s) => requestWithRecord(lenField(12, s))],
    ['InstrumentationScope.name', (s) => requestWithRecord(new Uint8Array(0), lenField(1, s))],
    ['InstrumentationScope.version', (s) => requestWithRecord(new Uint8Array(0), lenField(2, s))],
  ];
  for (const [field, build] of FIELDS) {
    void test(`${field}: invalid UTF-8 is refused naming the field; valid multi-byte text (a real U+FFFD too) decodes`, () => {
      for (const [what, bytes] of BAD) {
        assert.throws(() => decodeProtobufRequest(build(bytes)), (e: unknown) => isDecodeError(e) && (e as Error).message.startsWith(`${field} is not valid UTF-8`), `${field}: ${what}`);
      }
      const ok = decodeProtobufRequest(build(utf8('Jürgen – 登录 \uFFFD 😀')));
      assert.equal(ok.records.length, 1);
    });
  }

  void test('the refusal is the README\'s INVALID_ARGUMENT / HTTP 400, not retried by senders', () => {
    let err: unknown;
    try {
      decodeProtobufRequest(FIELDS[0]![1](BAD[0]![1]));
    } catch (e) {
      err = e;
    }
    assert.equal(toGrpcStatus(err), grpcStatus.INVALID_ARGUMENT);
    assert.equal(toHttpStatus(err), 400);
  });

  void test('a key the interner has cached as invalid is still refused the second time', () => {
    const req = requestWithRecord(kv(Uint8Array.from([0x6b, 0xff]), lenField(1, utf8('v'))));
    for (let i = 0; i < 2; i++) assert.throws(() => decodeProtobufRequest(req), isDecodeError);
  });

  void test('bytes_value, trace_id and span_id are bytes, not strings: any byte is accepted', () => {
    const raw = Uint8Array.from([0xff, 0x80, 0x00]);
    const d = decodeProtobufRequest(requestWithRecord(Uint8Array.from([...lenField(5, lenField(7, raw)), ...lenField(9, raw)])));
    assert.equal(d.records[0]!.body, 'ff8000');
    assert.equal(d.records[0]!.traceId, 'ff8000');
  });
});

void describe('protobuf decoder: a known field on the wrong wire type is refused, not skipped', () => {
  const varintField = (n: number, v: number): Uint8Array => protobuf.Writer.create().uint32(n << 3).uint32(v).finish();
  const CASES: [string, Uint8Array][] = [
    ['LogRecord.body', requestWithRecord(varintField(5, 7))],
    ['LogRecord.attributes', requestWithRecord(varintField(6, 1))],
    ['LogRecord.time_unix_nano', requestWithRecord(varintField(1, 1))],
    ['LogRecord.severity_number', requestWithRecord(lenField(2, utf8('x')))],
    ['AnyValue.string_value', requestWithRecord(lenField(5, varintField(1, 3)))],
    ['KeyValue.value', requestWithRecord(lenField(6, Uint8Array.from([...lenField(1, utf8('k')), ...varintField(2, 1)])))],
    ['ScopeLogs.log_records', (() => {
      const sl = varintField(2, 1);
      const rl = lenField(2, sl);
      return lenField(1, rl);
    })()],
    ['ExportLogsServiceRequest.resource_logs', varintField(1, 1)],
  ];
  for (const [field, bytes] of CASES) {
    void test(field, () => {
      assert.throws(() => decodeProtobufRequest(bytes), (e: unknown) => isDecodeError(e) && (e as Error).message.startsWith(`${field} (field `), field);
    });
  }

  void test('known fields the decoder does not use, on their own wire type, are skipped (dropped_attributes_count, schema_url)', () => {
    const d = decodeProtobufRequest(requestWithRecord(Uint8Array.from([...varintField(7, 3), ...lenField(3, utf8('WARN'))])));
    assert.equal(d.records[0]!.severityText, 'WARN');
  });
});
