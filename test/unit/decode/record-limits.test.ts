import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRecord, countProtobufRecords } from '../../../src/decode/record-limits.ts';
import { decodeProtobufRequest } from '../../../src/decode/otlp-protobuf.ts';
import { ErrorCode, isPipelineError } from '../../../src/errors.ts';
import { otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';

const request = (shape: number[][]): Uint8Array => otlpJsonToProtobuf({
  resourceLogs: shape.map((scopes, h) => ({
    resource: { attributes: [{ key: 'host.name', value: { stringValue: `h${h}` } }] },
    scopeLogs: scopes.map((n, s) => ({ scope: { name: `s${s}` }, logRecords: Array.from({ length: n }, (_, i) => ({ timeUnixNano: String(i + 1), severityNumber: 9, body: { stringValue: `r${i}` }, attributes: [{ key: 'k', value: { intValue: i } }] })) })),
  })),
});

void test('countProtobufRecords counts what the decoder decodes, from the lengths alone', () => {
  for (const shape of [[[3]], [[0, 5], [2]], [[1], [1], [7, 0, 4]], []]) {
    const bytes = request(shape);
    assert.equal(countProtobufRecords(bytes), decodeProtobufRequest(bytes).records.length, JSON.stringify(shape));
  }
});

void test('a request it cannot walk counts 0 (the decoder reports it)', () => {
  const bytes = request([[4]]);
  assert.equal(countProtobufRecords(bytes.subarray(0, bytes.length - 2)), 0);
  assert.equal(countProtobufRecords(new Uint8Array([0x0b, 0x01])), 0); // wire type 3 (group): not walked
});

void test('array elements count toward a record\'s entries like map entries', () => {
  const limits = { maxRecords: 10, maxAttributes: 40, maxValueChars: 1000 };
  const rec = (n: number) => decodeProtobufRequest(otlpJsonToProtobuf({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { arrayValue: { values: Array.from({ length: n }, (_, i) => ({ stringValue: `v${i}` })) } } }] }] }] })).records[0]!;
  checkRecord(rec(40), limits);
  assert.throws(() => checkRecord(rec(41), limits), (e: unknown) => isPipelineError(e) && e.code === ErrorCode.TOO_LARGE && /array elements/.test(e.message));
});
