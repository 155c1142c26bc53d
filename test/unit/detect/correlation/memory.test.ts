/** Memory per open group (printed, not asserted tightly: the figure goes into the docs). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { CorrelationInput } from '../../../../src/detect/correlation/types.ts';
import { corr, correlator } from './helpers.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Bytes per group with `groups` open groups of `perGroup` events each (32-hex fingerprints, 3 hosts). */
function measure(groups: number, perGroup: number): { perGroupBytes: number; held: number } {
  const rule = corr('type: event_count\nrules: [a, b]\ngroup-by: [User, Host]\ntimespan: 1h\ncondition:\n  gte: 1000000');
  const c = correlator(rule, { maxGroups: groups, maxGroupsPerRule: groups, latenessMs: 60_000 });
  const before = heap();
  const base = 1_700_000_000_000;
  for (let start = 0; start < groups; start += 1000) {
    const batch: CorrelationInput[] = [];
    for (let g = start; g < Math.min(groups, start + 1000); g++) {
      for (let k = 0; k < perGroup; k++) {
        batch.push({
          ruleId: k % 2 ? 'b' : 'a',
          timeNs: `${base + g + k * 1000}000123`,
          fingerprint: `${g.toString(16).padStart(8, '0')}${k.toString(16).padStart(8, '0')}`.padEnd(32, 'f'),
          host: `host-${g % 3}.example.org`,
          fields: { User: `user${g}`, Host: `host-${g % 3}.example.org` },
        });
      }
    }
    c.push(JSON.parse(JSON.stringify(batch)) as CorrelationInput[], 0); // flat strings, as they come off the wire
  }
  const after = heap();
  const held = c.stats.pendingEvents;
  assert.equal(c.stats.groups, groups);
  return { perGroupBytes: Math.round((after - before) / groups), held };
}

void describe('memory', () => {
  void test('bytes per open group at 100,000 groups', () => {
    const one = measure(100_000, 1);
    const five = measure(20_000, 5);
    console.log(`# correlation memory: ${one.perGroupBytes} bytes per open group (100,000 groups, 1 event each); ${five.perGroupBytes} bytes per group with 5 events (≈ ${Math.round((five.perGroupBytes - one.perGroupBytes) / 4)} bytes per further event)`);
    assert.equal(one.held, 100_000);
    assert.ok(one.perGroupBytes < 4096, `${one.perGroupBytes} bytes per group`);
  });
});
