import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DedupWindow, groupAlert, newGroup } from '../../../src/alert/dedup-window.ts';
import { toAlertDto } from '../../../src/alert/keep-payload.ts';
import { DETECTED_MS, makeDetection } from './detection-fixture.ts';

const alertFor = (host: string) => toAlertDto(makeDetection({ host }));

void describe('DedupWindow', () => {
  void test('repeats within the window fold into the open group', () => {
    const w = new DedupWindow(1000, 100);
    const g = newGroup(alertFor('A'), DETECTED_MS, 0);
    w.track(g);
    assert.equal(w.fold(g.fingerprint, DETECTED_MS + 5, 10), g);
    assert.equal(w.fold(g.fingerprint, DETECTED_MS + 3, 999), g);
    assert.equal(g.count, 3);
    assert.equal(g.lastMs, DETECTED_MS + 5, 'last time never goes backwards');
    assert.equal(w.fold('sigma:other', DETECTED_MS, 10), undefined);
  });

  void test('the window closes after windowMs', () => {
    const w = new DedupWindow(1000, 100);
    const g = newGroup(alertFor('A'), DETECTED_MS, 0);
    w.track(g);
    assert.equal(w.fold(g.fingerprint, DETECTED_MS, 1000), undefined);
    assert.equal(g.count, 1);
  });

  void test('sweep returns grown, unqueued groups and forgets closed idle ones', () => {
    const w = new DedupWindow(1000, 100);
    const a = newGroup(alertFor('A'), DETECTED_MS, 0);
    const b = newGroup(alertFor('B'), DETECTED_MS, 0);
    w.track(a);
    w.track(b);
    a.sentCount = 1;
    b.sentCount = 1;
    w.fold(a.fingerprint, DETECTED_MS + 1, 5);
    assert.deepEqual(w.sweep(10).due, [a]);
    a.queued = true;
    assert.deepEqual(w.sweep(10).due, [], 'queued groups already carry their count');
    a.queued = false;
    a.sentCount = a.count;
    assert.deepEqual(w.sweep(2000).due, []);
    assert.equal(w.size, 0);
  });

  void test('a group never handed over is due', () => {
    const w = new DedupWindow(1000, 100);
    const a = newGroup(alertFor('A'), DETECTED_MS, 0);
    w.track(a);
    assert.deepEqual(w.sweep(1).due, [a]);
  });

  void test('bounded: the oldest fingerprints are forgotten first', () => {
    const w = new DedupWindow(1000, 2);
    const [a, b, c] = ['A', 'B', 'C'].map((h) => newGroup(alertFor(h), DETECTED_MS, 0));
    w.track(a!);
    w.track(b!);
    w.track(c!);
    assert.equal(w.size, 2);
    assert.equal(w.fold(a!.fingerprint, DETECTED_MS, 1), undefined);
    assert.equal(w.fold(c!.fingerprint, DETECTED_MS, 1), c);
  });

  void test('groupAlert carries the count once the group has grown', () => {
    const g = newGroup(alertFor('A'), DETECTED_MS, 0);
    assert.equal(groupAlert(g), g.first);
    g.count = 4;
    g.lastMs = DETECTED_MS + 9000;
    const a = groupAlert(g);
    assert.equal(a.labels['count'], '4');
    assert.equal(a.lastReceived, new Date(DETECTED_MS + 9000).toISOString());
  });
});
