import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { LogRecordView } from '../../../../src/decode/types.ts';
import { AuditAssembler, type AuditEvent } from '../../../../src/map/linux/auditd/assembler.ts';
import { parseAuditLine } from '../../../../src/map/linux/auditd/parse-line.ts';

const VIEW: LogRecordView = {
  timeUnixNano: '0', observedTimeUnixNano: '0', severityNumber: 0, severityText: '', body: null, attributes: {},
  traceId: '', spanId: '', flags: 0, eventName: '', resource: { attributes: {} }, scope: { name: '', version: '' },
};

function rec(type: string, id: string, rest = 'a=1') {
  const r = parseAuditLine(`type=${type} msg=audit(${id}): ${rest}`);
  assert.ok(r);
  return r;
}

function push(a: AuditAssembler, stream: string, type: string, id: string, rest?: string): AuditEvent[] {
  const out: AuditEvent[] = [];
  a.push(stream, rec(type, id, rest), VIEW, out);
  return out;
}

const types = (e: AuditEvent) => e.parts.map((p) => p.record.type);

describe('AuditAssembler', () => {
  test('a syscall event closes on PROCTITLE (auditd writes no EOE to audit.log)', () => {
    const a = new AuditAssembler();
    assert.deepEqual(push(a, 's', 'SYSCALL', '10.000:1'), []);
    assert.deepEqual(push(a, 's', 'EXECVE', '10.000:1'), []);
    assert.deepEqual(push(a, 's', 'CWD', '10.000:1'), []);
    assert.equal(a.pendingRecords, 3);
    const out = push(a, 's', 'PROCTITLE', '10.000:1');
    assert.equal(out.length, 1);
    assert.deepEqual(types(out[0]!), ['SYSCALL', 'EXECVE', 'CWD', 'PROCTITLE']);
    assert.equal(out[0]!.closedBy, 'complete');
    assert.equal(a.pendingRecords, 0);
    assert.deepEqual(push(a, 's', 'EOE', '10.000:1'), [], 'a trailing EOE opens nothing');
    assert.equal(a.pendingEvents, 0);
  });

  test('EOE closes an event without PROCTITLE and is not part of it', () => {
    const a = new AuditAssembler();
    push(a, 's', 'CONFIG_CHANGE', '10.000:2');
    const out = push(a, 's', 'EOE', '10.000:2');
    assert.deepEqual(out.map(types), [['CONFIG_CHANGE']]);
  });

  test('user-space records are events of their own, at once', () => {
    const a = new AuditAssembler();
    const out = push(a, 's', 'USER_CMD', '10.000:3', "pid=1 msg='cmd=6964 res=success'");
    assert.deepEqual(out.map(types), [['USER_CMD']]);
    assert.equal(a.pendingEvents, 0);
  });

  test('interleaved events and streams are kept apart', () => {
    const a = new AuditAssembler();
    push(a, 'h1', 'SYSCALL', '10.000:5');
    push(a, 'h2', 'SYSCALL', '10.000:5');
    push(a, 'h1', 'SYSCALL', '10.000:6');
    push(a, 'h1', 'PATH', '10.000:5');
    const e5 = push(a, 'h1', 'PROCTITLE', '10.000:5');
    assert.deepEqual(e5.map(types), [['SYSCALL', 'PATH', 'PROCTITLE']]);
    const h2 = push(a, 'h2', 'PROCTITLE', '10.000:5');
    assert.deepEqual(h2.map(types), [['SYSCALL', 'PROCTITLE']]);
    assert.equal(a.pendingEvents, 1);
  });

  test('an open event is complete once its stream is more than lateSeconds ahead', () => {
    const a = new AuditAssembler({ lateSeconds: 2 });
    push(a, 's', 'SYSCALL', '10.000:7');
    assert.deepEqual(push(a, 's', 'SYSCALL', '11.500:8'), []);
    const out = push(a, 's', 'SYSCALL', '12.500:9');
    assert.deepEqual(out.map((e) => [e.closedBy, e.parts[0]!.record.id]), [['late', '10.000:7']]);
    assert.deepEqual(push(a, 'other', 'SYSCALL', '99.000:1'), [], 'other streams do not close it');
  });

  test('age, eviction, size and flush emit what they have', () => {
    let now = 0;
    const a = new AuditAssembler({ maxAgeMs: 100, maxOpenEvents: 2, maxRecordsPerEvent: 3, now: () => now });
    push(a, 's', 'SYSCALL', '10.000:1');
    now = 50;
    push(a, 's', 'SYSCALL', '10.000:2');
    now = 80;
    const evicted = push(a, 's', 'SYSCALL', '10.000:3');
    assert.deepEqual(evicted.map((e) => [e.closedBy, e.parts[0]!.record.id]), [['evicted', '10.000:1']]);
    now = 151;
    const aged: AuditEvent[] = [];
    a.expire(aged);
    assert.deepEqual(aged.map((e) => [e.closedBy, e.parts[0]!.record.id]), [['age', '10.000:2']]);
    push(a, 's', 'PATH', '10.000:3');
    const full = push(a, 's', 'PATH', '10.000:3');
    assert.deepEqual(full.map((e) => [e.closedBy, e.parts.length]), [['size', 3]]);
    push(a, 's', 'SYSCALL', '10.000:4');
    const flushed: AuditEvent[] = [];
    a.flush(flushed);
    assert.deepEqual(flushed.map((e) => e.closedBy), ['flush']);
    assert.equal(a.pendingRecords, 0);
  });

  test('property: every non-EOE record comes out exactly once, state stays bounded', () => {
    const TYPES = ['SYSCALL', 'EXECVE', 'PATH', 'CWD', 'PROCTITLE', 'EOE', 'USER_CMD'];
    fc.assert(
      fc.property(
        fc.array(fc.record({ stream: fc.integer({ min: 0, max: 2 }), serial: fc.integer({ min: 1, max: 12 }), t: fc.integer({ min: 0, max: 30 }), type: fc.constantFrom(...TYPES) }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 8 }),
        (records, maxOpen) => {
          const a = new AuditAssembler({ maxOpenEvents: maxOpen, maxRecordsPerEvent: 5, lateSeconds: 2 });
          const out: AuditEvent[] = [];
          let expected = 0;
          for (const r of records) {
            const rest = r.type === 'USER_CMD' ? "msg='res=success'" : 'a=1';
            a.push(`s${r.stream}`, rec(r.type, `${r.t}.000:${r.serial}`, rest), VIEW, out);
            if (r.type !== 'EOE') expected++;
            assert.ok(a.pendingEvents <= maxOpen);
          }
          a.flush(out);
          const got = out.reduce((n, e) => n + e.parts.length, 0);
          assert.equal(got, expected);
          assert.ok(out.every((e) => e.parts.length > 0 && e.parts.every((p) => p.record.id === e.parts[0]!.record.id)));
          assert.equal(a.pendingRecords, 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
