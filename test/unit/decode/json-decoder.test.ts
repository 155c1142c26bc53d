/** OTLP/JSON: wrong types are refused with the JSON path; depth limit equals the protobuf one. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, isPipelineError } from '../../../src/errors.ts';
import { decodeJsonRequest } from '../../../src/decode/otlp-json.ts';
import { MAX_ANY_VALUE_DEPTH } from '../../../src/decode/otlp-protobuf.ts';
import { jsonNested } from './wire.ts';

const decodeErr = (path: RegExp) => (e: unknown): boolean =>
  isPipelineError(e) && e.code === ErrorCode.DECODE && !e.retryable && path.test(e.message);

const withRecord = (lr: Record<string, unknown>): string => JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [lr] }] }] });

void describe('JSON decoder: wrong types', () => {
  const cases: [string, string, RegExp][] = [
    ['not JSON', '{"resourceLogs": [', /invalid JSON/],
    ['root is an array', '[]', /at \$: expected an object/],
    ['resourceLogs is an object', '{"resourceLogs": {}}', /\$\.resourceLogs: expected an array/],
    ['scopeLogs is a string', '{"resourceLogs": [{"scopeLogs": "x"}]}', /\$\.resourceLogs\[0\]\.scopeLogs: expected an array/],
    ['record is a number', '{"resourceLogs": [{"scopeLogs": [{"logRecords": [1]}]}]}', /logRecords\[0\]: expected an object/],
    ['attributes is an object', withRecord({ attributes: { a: 1 } }), /logRecords\[0\]\.attributes: expected an array/],
    ['attribute key is a number', withRecord({ attributes: [{ key: 1, value: { stringValue: 'x' } }] }), /attributes\[0\]\.key: expected a string/],
    ['body is a bare string', withRecord({ body: 'hello' }), /\.body: expected an object/],
    ['stringValue is a number', withRecord({ body: { stringValue: 5 } }), /body\.stringValue: expected a string/],
    ['boolValue is a string', withRecord({ body: { boolValue: 'true' } }), /body\.boolValue: expected a boolean/],
    ['intValue is fractional', withRecord({ body: { intValue: 1.5 } }), /body\.intValue: expected an int64/],
    ['intValue is hex text', withRecord({ body: { intValue: '0x10' } }), /body\.intValue: expected an int64/],
    ['doubleValue is text', withRecord({ body: { doubleValue: 'abc' } }), /body\.doubleValue: expected a number/],
    ['arrayValue.values is an object', withRecord({ body: { arrayValue: { values: {} } } }), /arrayValue\.values: expected an array/],
    ['severityNumber is fractional', withRecord({ severityNumber: 9.5 }), /severityNumber: expected an integer/],
    ['timeUnixNano is negative', withRecord({ timeUnixNano: '-1' }), /timeUnixNano: expected an unsigned int64/],
    ['traceId is not hex', withRecord({ traceId: 'zz' }), /traceId: expected a hex string/],
    ['scope.name is a number', '{"resourceLogs": [{"scopeLogs": [{"scope": {"name": 3}}]}]}', /scope\.name: expected a string/],
  ];
  for (const [name, input, path] of cases) {
    void test(name, () => assert.throws(() => decodeJsonRequest(input), decodeErr(path)));
  }

  void test('unknown fields are ignored; null values read as unset', () => {
    const r = decodeJsonRequest(withRecord({ futureField: { x: 1 }, body: null, severityText: null, attributes: [{ key: 'a', value: null }] })).records[0]!;
    assert.equal(r.body, null);
    assert.equal(r.severityText, '');
    assert.deepEqual(r.attributes, { a: null });
  });

  void test('numbers are accepted where int64 strings are expected, and strings where int32 is expected', () => {
    const r = decodeJsonRequest(withRecord({ timeUnixNano: 1700000000000, severityNumber: '9', body: { intValue: 12 } })).records[0]!;
    assert.equal(r.timeUnixNano, '1700000000000');
    assert.equal(r.severityNumber, 9);
    assert.equal(r.body, 12);
  });

  void test('decodes from bytes as well as from a string (UTF-8)', () => {
    const s = withRecord({ body: { stringValue: 'Grüße ✓' } });
    assert.deepEqual(decodeJsonRequest(new TextEncoder().encode(s)), decodeJsonRequest(s));
    assert.equal(decodeJsonRequest(s).records[0]!.body, 'Grüße ✓');
  });
});

void describe('JSON decoder: AnyValue depth limit', () => {
  for (const kind of ['kvlist', 'array'] as const) {
    void test(`${kind} nesting up to ${MAX_ANY_VALUE_DEPTH} levels decodes, one more is refused`, () => {
      assert.equal(decodeJsonRequest(JSON.stringify(jsonNested(kind, MAX_ANY_VALUE_DEPTH))).records.length, 1);
      assert.throws(() => decodeJsonRequest(JSON.stringify(jsonNested(kind, MAX_ANY_VALUE_DEPTH + 1))), decodeErr(/nested deeper than 64/));
    });
  }

  void test('JSON nested far beyond the parser stack is refused, not a crash', () => {
    const deep = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    assert.throws(() => decodeJsonRequest(`{"resourceLogs": ${deep}}`), (e: unknown) => isPipelineError(e) && e.code === ErrorCode.DECODE);
  });
});
