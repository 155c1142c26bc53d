/**
 * The worker's task: Windows records are evaluated as they are decoded, the rest (auditd, syslog, generic)
 * together at the end. Whatever the order, the result equals mapping the whole batch then evaluating it,
 * and a malformed request yields an error and no detection at all.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { buildDetections } from '../../../src/detect/build-detection.ts';
import { createTaskRunner } from '../../../src/detect/run-task.ts';
import type { DetectTask } from '../../../src/detect/task.ts';
import { decodeProtobufRequest } from '../../../src/decode/otlp-protobuf.ts';
import { ErrorCode } from '../../../src/errors.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';
import { createRecordMapper } from '../../../src/map/map-records.ts';
import { otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';
import { load } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const mapping = loadLogsourceMapping();
const WHOAMI = `title: Whoami
id: 00000000-0000-4000-8000-0000000000a1
status: test
level: medium
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\\\\whoami.exe'}
  condition: sel
`;
const UNAME = `title: Uname via auditd
id: 00000000-0000-4000-8000-0000000000a2
status: test
level: low
logsource: {product: linux, service: auditd}
detection:
  sel: {type: EXECVE, a0: uname}
  condition: sel
`;
const GENERIC = `title: Generic marker
id: 00000000-0000-4000-8000-0000000000a3
status: test
level: low
logsource: {product: acme}
detection:
  keywords: ['otel-sigma-marker']
  condition: keywords
`;
const sshdRule = fs.readFileSync(path.join(ROOT, 'rules/linux/sshd/osg_lnx_sshd_invalid_user.yml'), 'utf8');
const rs = load({ 'whoami.yml': WHOAMI, 'uname.yml': UNAME, 'generic.yml': GENERIC, 'sshd.yml': sshdRule }, { mapping });

const s = (v: string) => ({ stringValue: v });
const kvs = (o: Record<string, unknown>) => ({ kvlistValue: { values: Object.entries(o).map(([key, value]) => ({ key, value })) } });
const windows = (image: string, n: number) => ({
  timeUnixNano: String(1_795_000_000_000_000_000n + BigInt(n)),
  body: kvs({
    channel: s('Microsoft-Windows-Sysmon/Operational'),
    event_id: kvs({ id: { intValue: '1' } }),
    provider: kvs({ name: s('Microsoft-Windows-Sysmon') }),
    computer: s('ws-1.example.com'),
    record_id: { intValue: String(n) },
    event_data: kvs({ data: { arrayValue: { values: [kvs({ Image: s(image) }), kvs({ CommandLine: s(`${image} /all`) })] } } }),
  }),
});
const line = (text: string, file: string) => ({ timeUnixNano: '1795000000000000000', body: s(text), attributes: [{ key: 'log.file.name', value: s(file) }] });
const AUDIT = [
  'type=SYSCALL msg=audit(1795314109.024:44): arch=c000003e syscall=59 success=yes exit=0 items=2 ppid=10652 pid=10656 auid=4294967295 uid=0 gid=0 euid=0 comm="uname" exe="/usr/bin/uname" key="exec"',
  'type=EXECVE msg=audit(1795314109.024:44): argc=2 a0="uname" a1="-a"',
  'type=CWD msg=audit(1795314109.024:44): cwd="/tmp"',
  'type=PROCTITLE msg=audit(1795314109.024:44): proctitle=756E616D65002D61',
];
const doc = {
  resourceLogs: [
    {
      resource: { attributes: [{ key: 'host.name', value: s('mixed-1') }] },
      scopeLogs: [
        {
          logRecords: [
            windows('C:\\Windows\\System32\\whoami.exe', 1),
            line(AUDIT[0]!, 'audit.log'),
            windows('C:\\Windows\\notepad.exe', 2),
            line(AUDIT[1]!, 'audit.log'),
            line('Nov 22 02:22:28 vm sshd[11848]: Invalid user invaliduser from 127.0.0.1 port 38450', 'auth.log'),
            line(AUDIT[2]!, 'audit.log'),
            { timeUnixNano: '1795000000000000000', body: s('app says otel-sigma-marker'), attributes: [{ key: 'service.name', value: s('acme') }] },
            line(AUDIT[3]!, 'audit.log'),
            windows('C:\\Tools\\WHOAMI.EXE', 3),
          ],
        },
      ],
    },
  ],
};
const bytes = otlpJsonToProtobuf(doc);
const task = (body: Uint8Array, format: DetectTask['format'] = 'protobuf'): DetectTask => ({ body, format, encoding: 'identity', receivedAtMs: 0 });
const key = (d: { ruleId: string; fingerprint: string }) => `${d.ruleId} ${d.fingerprint}`;

void describe('createTaskRunner', () => {
  void test('a mixed batch gives exactly the detections of mapping it whole, then evaluating', () => {
    const run = createTaskRunner({ detector: rs.detector, mapper: createRecordMapper({ mapping }), maxRequestBytes: 1 << 20 });
    const result = run(task(bytes));
    assert.ok(result.ok, JSON.stringify(result));
    const reference = createRecordMapper({ mapping });
    const mapped = reference.map(decodeProtobufRequest(bytes).records);
    const expected = mapped.flatMap(({ event, record }) => buildDetections(rs.detector.evaluate(event), event, record, 0, 'stream'));
    assert.deepEqual(result.detections.map(key).sort(), expected.map(key).sort());
    const fired = result.detections.map((d) => d.ruleTitle).sort();
    assert.deepEqual(fired, ['Generic marker', 'SSH Login Attempt For Non-Existent User', 'Uname via auditd', 'Whoami', 'Whoami']);
    assert.equal(result.stats.records, 9);
    assert.equal(result.stats.events, mapped.length);
  });

  void test('keepBody false (storage.store_body false): the same detections and fingerprints, every body left empty', () => {
    const kept = createTaskRunner({ detector: rs.detector, mapper: createRecordMapper({ mapping }), maxRequestBytes: 1 << 20 })(task(bytes));
    const dropped = createTaskRunner({ detector: rs.detector, mapper: createRecordMapper({ mapping }), maxRequestBytes: 1 << 20, keepBody: false })(task(bytes));
    assert.ok(kept.ok && dropped.ok);
    assert.deepEqual(dropped.detections.map(key).sort(), kept.detections.map(key).sort());
    assert.deepEqual(dropped.detections.map((d) => d.event.id).sort(), kept.detections.map((d) => d.event.id).sort(), 'the identity still covers the body');
    assert.ok(kept.detections.some((d) => d.event.body !== ''), 'the batch has bodies to leave out');
    assert.ok(dropped.detections.every((d) => d.event.body === ''));
    assert.deepEqual(dropped.detections.map((d) => d.event.sigmaEvent).sort(), kept.detections.map((d) => d.event.sigmaEvent).sort());
  });

  void test('OTLP/JSON gives the same detections as protobuf', () => {
    const run = createTaskRunner({ detector: rs.detector, mapper: createRecordMapper({ mapping }), maxRequestBytes: 1 << 20 });
    const a = run(task(bytes));
    const b = run(task(Buffer.from(JSON.stringify(doc)), 'json'));
    assert.ok(a.ok && b.ok);
    assert.deepEqual(b.detections.map(key).sort(), a.detections.map(key).sort());
  });

  void test('over a record limit (records per request, attributes per record, value length): ERR_TOO_LARGE naming it, no detection, the runner goes on', () => {
    const limits = { maxRecords: 8, maxAttributes: 40, maxValueChars: 4096 };
    const run = createTaskRunner({ detector: rs.detector, mapper: createRecordMapper({ mapping }), maxRequestBytes: 1 << 20, limits });
    const tooMany = run(task(bytes)); // 9 records
    assert.ok(!tooMany.ok && tooMany.code === ErrorCode.TOO_LARGE && !tooMany.retryable && /receiver\.max_records_per_request/.test(tooMany.message), JSON.stringify(tooMany));
    const one = (rec: Record<string, unknown>): Uint8Array => otlpJsonToProtobuf({ resourceLogs: [{ resource: {}, scopeLogs: [{ scope: {}, logRecords: [{ timeUnixNano: '1', ...rec }] }] }] });
    const longValue = run(task(one({ body: { stringValue: 'x'.repeat(4097) } })));
    assert.ok(!longValue.ok && longValue.code === ErrorCode.TOO_LARGE && /receiver\.max_value_chars/.test(longValue.message), JSON.stringify(longValue));
    const attrs = Array.from({ length: 30 }, (_, i) => ({ key: `a${i}`, value: { stringValue: 'v' } }));
    const nested = { kvlistValue: { values: Array.from({ length: 11 }, (_, i) => ({ key: `b${i}`, value: { stringValue: 'w' } })) } };
    const wide = run(task(one({ attributes: attrs, body: nested }))); // 30 + 11 entries
    assert.ok(!wide.ok && wide.code === ErrorCode.TOO_LARGE && /receiver\.max_attributes_per_record/.test(wide.message), JSON.stringify(wide));
    const atLimits = run(task(one({ attributes: attrs, body: { kvlistValue: { values: nested.kvlistValue.values.slice(0, 10) } } })));
    assert.ok(atLimits.ok, JSON.stringify(atLimits));
    const json = run(task(Buffer.from(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'y'.repeat(5000) } }] }] }] })), 'json'));
    assert.ok(!json.ok && json.code === ErrorCode.TOO_LARGE, 'OTLP/JSON is bounded the same way');
    const next = createTaskRunner({ detector: rs.detector, mapper: createRecordMapper({ mapping }), maxRequestBytes: 1 << 20 })(task(bytes));
    assert.ok(next.ok && next.detections.length > 0, 'defaults admit a normal batch');
  });

  void test('a request malformed after some records were evaluated: ERR_DECODE and no detection', () => {
    const run = createTaskRunner({ detector: rs.detector, mapper: createRecordMapper({ mapping }), maxRequestBytes: 1 << 20 });
    // Cut inside the last record: the first records decode (and would match) before the fault.
    const result = run(task(bytes.subarray(0, bytes.length - 20)));
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.code === ErrorCode.DECODE && !result.retryable, JSON.stringify(result));
    assert.equal('detections' in result, false);
    // The runner keeps working, and nothing of the bad request leaks into the next one.
    const next = run(task(bytes));
    assert.ok(next.ok);
    assert.equal(next.detections.length, 5);
  });
});

void describe('detection bounds', () => {
  // 100 generic keyword rules that all match one record; every tenth is critical.
  const many: Record<string, string> = {};
  for (let i = 0; i < 100; i++) {
    const id = `00000000-0000-4000-8000-${String(1000 + i).padStart(12, '0')}`;
    many[`r${i}.yml`] = `title: Marker ${i}\nid: ${id}\nstatus: test\nlevel: ${i % 10 === 0 ? 'critical' : 'low'}\nlogsource: {product: acme}\ndetection:\n  keywords: ['bound-marker']\n  condition: keywords\n`;
  }
  const crowd = load(many, { mapping });
  const request = (n: number) => otlpJsonToProtobuf({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: {}, logRecords: Array.from({ length: n }, (_, i) => ({ timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i)), body: { stringValue: `bound-marker ${i}` } })) }] }] });
  const task = (n: number): DetectTask => ({ body: request(n), format: 'protobuf', encoding: 'identity', receivedAtMs: 0 });

  void test('a record matching 100 rules keeps 64 detections, the critical ones first; the rest is counted and reported', () => {
    const run = createTaskRunner({ detector: crowd.detector, mapper: createRecordMapper({ mapping }), maxRequestBytes: 1 << 20 });
    const r = run(task(1));
    assert.ok(r.ok);
    assert.equal(r.detections.length, 64);
    assert.equal(r.detections.filter((d) => d.ruleLevel === 'critical').length, 10, 'every critical match is kept');
    assert.equal(r.stats.detectionsDropped, 36);
    assert.match(r.errorMessage, /36 detections over the bounds \(64 per record, 20000 per request/);
    assert.equal(r.rejected, 0, 'the record itself is evaluated, not rejected');
  });

  void test('a request stops adding detections at its bound', () => {
    const run = createTaskRunner({ detector: crowd.detector, mapper: createRecordMapper({ mapping }), maxRequestBytes: 1 << 20, maxPerRequest: 150 });
    const r = run(task(5));
    assert.ok(r.ok);
    assert.equal(r.detections.length, 150);
    assert.equal(r.stats.detectionsDropped, 5 * 100 - 150);
    assert.equal(r.stats.records, 5, 'every record is still decoded and evaluated');
  });
});
