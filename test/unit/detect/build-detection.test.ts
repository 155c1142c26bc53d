import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordIdentity } from '../../../src/detect/build-detection.ts';
import type { AnyValue, Attributes, LogRecordView } from '../../../src/decode/types.ts';
import { event } from './helpers.ts';

const record = (body: AnyValue, attributes: Attributes): LogRecordView => ({
  timeUnixNano: '1700000000000000001', observedTimeUnixNano: '0', severityNumber: 9, severityText: 'INFO', body, attributes,
  traceId: '', spanId: '', flags: 0, eventName: '', resource: { attributes: { 'host.name': 'dc-1' } }, scope: { name: '', version: '' },
});

void test('a record\'s identity does not depend on the key order of its map body or attributes (the stream\'s arrival order vs SigNoz\'s sorted JSON)', () => {
  const ev = event({ EventID: 4688 });
  const arrived = record({ system: { provider: 'Microsoft-Windows-Security-Auditing', event_id: 4688 }, event_data: { NewProcessName: 'C:\\\\w.exe', CommandLine: 'w /all', '10': 'x', '2': 'y' }, channel: 'Security' }, { 'log.file': 'a', 'event.id': 4688 });
  const stored = record({ channel: 'Security', event_data: { '2': 'y', CommandLine: 'w /all', '10': 'x', NewProcessName: 'C:\\\\w.exe' }, system: { event_id: 4688, provider: 'Microsoft-Windows-Security-Auditing' } }, { 'event.id': 4688, 'log.file': 'a' });
  const a = recordIdentity(ev, arrived, 0);
  const b = recordIdentity(ev, stored, 0);
  assert.equal(a.id, b.id);
  assert.equal(a.body, b.body, 'the stored body text is the same too');
  assert.notEqual(recordIdentity(ev, record({ ...stored.body as Record<string, AnyValue>, channel: 'System' }, stored.attributes), 0).id, a.id, 'a different value is a different record');
  assert.notEqual(recordIdentity(ev, record(stored.body, { ...stored.attributes, 'event.id': 4689 }), 0).id, a.id);
  assert.equal(recordIdentity(ev, record('plain text', {}), 0).body, 'plain text');
});
