/** int64 / fixed64 edges: safe integers stay numbers, larger ones keep their exact decimal text, both encodings agree. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import protobuf from 'protobufjs/minimal.js';
import { ErrorCode, isPipelineError } from '../../../src/errors.ts';
import { decodeJsonRequest } from '../../../src/decode/otlp-json.ts';
import { decodeProtobufRequest } from '../../../src/decode/otlp-protobuf.ts';
import { requestWithBody } from './wire.ts';

const jsonBody = (v: unknown, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: v, ...extra }] }] }] });

/** AnyValue{int_value} with the value written as a protobuf int64 varint. */
const pbInt = (dec: string): Uint8Array => protobuf.Writer.create().uint32(3 << 3).int64(dec).finish();

const EDGES: [string, number | string][] = [
  ['0', 0],
  ['-1', -1],
  ['9007199254740991', 9007199254740991],
  ['-9007199254740991', -9007199254740991],
  ['9007199254740992', '9007199254740992'],
  ['-9007199254740992', '-9007199254740992'],
  ['9223372036854775807', '9223372036854775807'],
  ['-9223372036854775808', '-9223372036854775808'],
  ['4294967296', 4294967296],
  ['-4294967296', -4294967296],
  ['4294967295', 4294967295],
];

void describe('int64 AnyValue edges', () => {
  for (const [dec, want] of EDGES) {
    void test(`${dec} → ${typeof want} ${want} in both encodings`, () => {
      assert.equal(decodeProtobufRequest(requestWithBody(pbInt(dec))).records[0]!.body, want);
      assert.equal(decodeJsonRequest(jsonBody({ intValue: dec })).records[0]!.body, want);
    });
  }

  void test('JSON int64 outside the int64 range is refused, not wrapped', () => {
    for (const v of ['9223372036854775808', '-9223372036854775809', '99999999999999999999', '18446744073709551615']) {
      assert.throws(() => decodeJsonRequest(jsonBody({ intValue: v })), (e: unknown) => isPipelineError(e) && e.code === ErrorCode.DECODE, v);
    }
    assert.throws(() => decodeJsonRequest(jsonBody({ intValue: 1e300 })), (e: unknown) => isPipelineError(e) && e.code === ErrorCode.DECODE);
  });
});

void describe('fixed64 timestamps', () => {
  const fixed64Record = (hi: number, lo: number): Uint8Array => {
    const lr = protobuf.Writer.create().uint32((1 << 3) | 1).fixed32(lo).fixed32(hi).finish();
    const sl = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(lr).finish();
    const rl = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(sl).finish();
    return protobuf.Writer.create().uint32((1 << 3) | 2).bytes(rl).finish();
  };
  const cases: [number, number, string][] = [
    [0, 0, '0'],
    [0, 0xffffffff, '4294967295'],
    [1, 0, '4294967296'],
    [0x17979cfe, 0x362a0000, '1700000000000000000'],
    [0xffffffff, 0xffffffff, '18446744073709551615'],
  ];
  for (const [hi, lo, want] of cases) {
    void test(`fixed64 hi=${hi} lo=${lo} → "${want}" (exact) in both encodings`, () => {
      assert.equal(decodeProtobufRequest(fixed64Record(hi, lo)).records[0]!.timeUnixNano, want);
      assert.equal(decodeJsonRequest(jsonBody(null, { timeUnixNano: want })).records[0]!.timeUnixNano, want);
    });
  }

  void test('JSON timeUnixNano beyond uint64 is refused, not wrapped', () => {
    assert.throws(() => decodeJsonRequest(jsonBody(null, { timeUnixNano: '18446744073709551616' })), (e: unknown) => isPipelineError(e) && e.code === ErrorCode.DECODE);
  });
});
