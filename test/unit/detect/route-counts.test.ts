/**
 * The coverage counters in the engine: an event that passes a logsource's routing is counted once for that
 * logsource (whether a rule then matches or not), unmapped rules count under the fallback, takeRouted()
 * hands the counts over and starts again, and the worker's task result carries them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTaskRunner } from '../../../src/detect/run-task.ts';
import { FALLBACK_KEY } from '../../../src/detect/rule-coverage/rule-stats.ts';
import { createRecordMapper } from '../../../src/map/map-records.ts';
import type { LogsourceMapping } from '../../../src/map/types.ts';
import type { DetectTask } from '../../../src/detect/task.ts';
import { exportRequest, failedLogon } from '../../helpers/auth-events.ts';
import { otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';
import { event, load } from './helpers.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';

/** Two variants of one logsource that the same event can pass (Security 4688 matches both). */
const MAPPING: LogsourceMapping = {
  entries: [
    { product: 'test', variants: [{ when: { '@source': ['test'] } }] },
    { product: 'windows', service: 'security', variants: [{ when: { Channel: ['Security'] } }, { when: { EventID: [4688] } }] },
    { product: 'windows', category: 'process_creation', variants: [{ when: { Channel: ['Security'], EventID: [4688] } }] },
  ],
  fallback: { when: { '@source': ['generic'] } },
};

const rule = (id: string, logsource: string, detection = 'sel: {Image|endswith: evil.exe}'): string =>
  `title: r${id}\nid: 00000000-0000-4000-8000-00000000000${id}\nstatus: test\nlevel: high\nlogsource: {${logsource}}\ndetection:\n  ${detection}\n  condition: sel\n`;

const RULES = {
  'sec.yml': rule('1', 'product: windows, service: security'),
  'proc.yml': rule('2', 'product: windows, category: process_creation'),
  'test.yml': rule('3', 'product: test'),
  'mac.yml': rule('4', 'product: macos, category: process_creation'),
};

describe('routing counters', () => {
  test('one count per logsource an event is routed to, matched or not; the fallback for unmapped rules', () => {
    const rs = load(RULES, { mapping: MAPPING });
    const d = rs.detector;
    assert.equal(d.takeRouted(), undefined, 'nothing evaluated yet');
    d.evaluate(event({ Channel: 'Security', EventID: 4688, Image: 'C:\\calc.exe' }, 'windows'));
    d.evaluate(event({ Channel: 'Security', EventID: 4624 }, 'windows'));
    d.evaluate(event({ Image: 'evil.exe' }, 'test'));
    d.evaluate(event({ message: 'x' }, 'generic'));
    d.evaluate(event({ message: 'y' }, 'nothing-routes-this'));
    assert.deepEqual(d.takeRouted(), {
      'windows//security': 2, // 4688 passes both of its variants and still counts once
      'windows/process_creation/': 1,
      'test//': 1,
      [FALLBACK_KEY]: 1,
    });
    assert.equal(d.takeRouted(), undefined, 'taken: the counters start again');
    d.evaluate(event({ Image: 'a' }, 'test'));
    assert.deepEqual(d.takeRouted(), { 'test//': 1 });
  });

  test('countRoutes: false counts nothing (the bench baseline); matches are the same', () => {
    const on = load(RULES, { mapping: MAPPING });
    const off = load(RULES, { mapping: MAPPING, countRoutes: false });
    const e = event({ Channel: 'Security', EventID: 4688, Image: 'C:\\evil.exe' }, 'windows');
    assert.deepEqual(off.detector.evaluate(e).map((m) => m.rule.id), on.detector.evaluate(e).map((m) => m.rule.id));
    assert.equal(off.detector.takeRouted(), undefined);
    assert.deepEqual(on.detector.takeRouted(), { 'windows//security': 1, 'windows/process_creation/': 1 });
  });

  test('a task result carries its counts; a request refused half-way carries none and leaves none behind', () => {
    const rs = load(RULES, { mapping: MAPPING });
    const run = createTaskRunner({ detector: rs.detector, mapper: createRecordMapper({ mapping: loadLogsourceMapping() }), maxRequestBytes: 1 << 20 });
    const ns = 1_700_000_000_000_000_000n;
    const bytes = otlpJsonToProtobuf(exportRequest([failedLogon('dc-1', ns, '203.0.113.9', 'bob'), failedLogon('dc-2', ns + 1n, '203.0.113.9', 'eve')]));
    const task = (body: Uint8Array): DetectTask => ({ body, format: 'protobuf', encoding: 'identity', receivedAtMs: 0 });
    const ok = run(task(bytes));
    assert.ok(ok.ok);
    assert.deepEqual(ok.routed, { 'windows//security': 2 });

    // Cut inside the second host's record: the first host's is decoded, mapped and counted before the fault.
    const bad = run(task(bytes.subarray(0, bytes.length - 20)));
    assert.equal(bad.ok, false);
    assert.equal(rs.detector.takeRouted(), undefined, 'the refused request counted nothing');
    const next = run(task(otlpJsonToProtobuf({ resourceLogs: [] })));
    assert.ok(next.ok);
    assert.equal(next.routed, undefined);
  });
});
