import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { digestAlert, digestField, MAX_DIGEST_RULES, parseDigestField, ThrottleWindow } from '../../../src/alert/throttle.ts';
import { validateAlertDto } from '../../helpers/keep-server.ts';

const T0 = Date.UTC(2026, 10, 22, 3, 0, 0);

void describe('ThrottleWindow', () => {
  void test('admits up to the ceiling per aligned window, then holds back', () => {
    const w = new ThrottleWindow(3, 60_000);
    assert.equal(w.roll(T0 + 5), undefined, 'first window: nothing ended');
    assert.deepEqual([1, 2, 3, 4, 5].map(() => w.admitLocal()), [true, true, true, false, false]);
    w.hold({ ruleId: 'r1', title: 'Rule 1', severity: 'high' }, 2);
    w.hold({ ruleId: 'r1', title: 'Rule 1', severity: 'high' });
    assert.equal(w.roll(T0 + 59_999), undefined, 'same window');
    const ended = w.roll(T0 + 60_000);
    assert.equal(ended?.start, T0);
    assert.deepEqual([...ended.held], [['high\tr1\tRule 1', 3]]);
    assert.equal(w.admitLocal(), true, 'a new window starts from zero');
    assert.equal(w.roll(T0 + 120_000), undefined, 'nothing held back: no digest');
  });

  void test('0 = no ceiling; shared positions use the same rule', () => {
    const w = new ThrottleWindow(0, 60_000);
    for (let i = 0; i < 1000; i++) assert.ok(w.admitLocal());
    const s = new ThrottleWindow(100, 60_000);
    assert.equal(s.admitCount(100), true);
    assert.equal(s.admitCount(101), false);
  });

  void test('distinct rules are bounded; the rest are summed as other rules', () => {
    const w = new ThrottleWindow(1, 1000);
    w.roll(T0);
    for (let i = 0; i < MAX_DIGEST_RULES + 10; i++) w.hold({ ruleId: `r${i}`, title: `R${i}`, severity: 'low' });
    const held = w.takeHeld();
    assert.equal(held.size, MAX_DIGEST_RULES + 1);
    assert.equal([...held.values()].reduce((a, b) => a + b, 0), MAX_DIGEST_RULES + 10);
  });

  void test('digest fields round-trip (they are Redis hash fields)', () => {
    const k = { ruleId: 'abc', title: 'A title\twith tab', severity: 'critical' as const };
    assert.deepEqual(parseDigestField(digestField(k)), k);
  });
});

void describe('digestAlert', () => {
  void test('a contract-valid alert with per-rule counts, highest severity, stable per-window fingerprint', () => {
    const held = new Map([
      [digestField({ ruleId: 'r-low', title: 'Low | pipe', severity: 'low' }), 5],
      [digestField({ ruleId: 'r-high', title: 'High one', severity: 'high' }), 12],
    ]);
    const a = digestAlert(T0, 60_000, held, 'prod');
    assert.deepEqual(validateAlertDto(a), []);
    assert.equal(a.severity, 'high');
    assert.equal(a.occurrences, 17);
    assert.equal(a.labels['held_back'], '17');
    assert.equal(a.fingerprint, 'otel-sigma:digest:2026-11-22T03:00:00.000Z');
    assert.equal(a.id, a.fingerprint);
    assert.equal(a.environment, 'prod');
    assert.match(a.description, /\| `High one` \| `r-high` \| high \| 12 \|\n\| `Low \\\| pipe` \| `r-low` \| low \| 5 \|/);
    assert.equal(digestAlert(T0, 60_000, held).fingerprint, a.fingerprint);
    assert.notEqual(digestAlert(T0 + 60_000, 60_000, held).fingerprint, a.fingerprint);
  });
});
