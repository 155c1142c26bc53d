import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { splitExportRequest } from '../../../src/decode/split-request.ts';
import { ExportLogsServiceRequest, otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';

const request = (hosts: number, perHost: number): Uint8Array => otlpJsonToProtobuf({
  resourceLogs: Array.from({ length: hosts }, (_, h) => ({
    resource: { attributes: [{ key: 'host.name', value: { stringValue: `host-${h}` } }] },
    scopeLogs: [{ scope: {}, logRecords: Array.from({ length: perHost * (h + 1) }, (_, i) => ({ timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i)), body: { stringValue: `h${h} r${i} ${'x'.repeat(i % 50)}` } })) }],
  })),
});

const records = (bytes: Uint8Array): string[] => {
  const doc = ExportLogsServiceRequest.toObject(ExportLogsServiceRequest.decode(bytes), { longs: String }) as { resourceLogs?: { resource: { attributes: { value: { stringValue: string } }[] }; scopeLogs: { logRecords: { body: { stringValue: string } }[] }[] }[] };
  return (doc.resourceLogs ?? []).flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => `${rl.resource.attributes[0]!.value.stringValue}|${r.body.stringValue}`)));
};

void describe('splitExportRequest', () => {
  void test('cuts along ResourceLogs into valid requests that together hold every record once, in order', () => {
    const whole = request(7, 20);
    for (const parts of [2, 3, 4]) {
      const cut = splitExportRequest(whole, parts);
      assert.equal(cut.length, parts);
      assert.deepEqual(cut.flatMap(records), records(whole));
      const sizes = cut.map((c) => c.byteLength);
      assert.equal(sizes.reduce((a, b) => a + b, 0), whole.byteLength);
    }
  });

  void test('one ResourceLogs, one part asked, or a top level it does not expect → the request whole', () => {
    const one = request(1, 50);
    assert.deepEqual(splitExportRequest(one, 2), [one]);
    const two = request(2, 5);
    assert.deepEqual(splitExportRequest(two, 1), [two]);
    const truncated = two.slice(0, two.length - 3);
    assert.deepEqual(splitExportRequest(truncated, 2), [truncated]);
    const otherField = new Uint8Array([...two, 0x10, 0x01]); // field 2, varint: not ResourceLogs
    assert.deepEqual(splitExportRequest(otherField, 2), [otherField]);
  });

  void test('never more parts than ResourceLogs', () => {
    const whole = request(3, 4);
    const cut = splitExportRequest(whole, 8);
    assert.equal(cut.length, 3);
    assert.deepEqual(cut.flatMap(records), records(whole));
  });
});
